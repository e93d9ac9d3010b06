// How a Fluss table looks in the lake: the Iceberg schema (the table's columns with ids 1..n, then
// Fluss's system columns `__bucket` INT, `__offset` BIGINT, `__timestamp` TIMESTAMPTZ), the
// partition spec (identity of each Fluss partition key, then identity of `__bucket`), the sort
// order (`__offset` ascending) and the Arrow schema of the Parquet files (each field carries its
// Iceberg id as `PARQUET:field_id`, so Iceberg readers map columns by id).
// Type mapping follows Fluss's Iceberg connector: TINYINT/SMALLINT widen to int, CHAR is string,
// BYTES is binary, BINARY(n) fixed[n], TIME/TIMESTAMP are microseconds (finer precisions are cut
// to microseconds), TIMESTAMP_LTZ is timestamptz.

import { type Column, type DataType, type TableInfo, tablePathToString } from "@fluss-ts/common";
import {
  Schema as ArrowSchema,
  type DataType as ArrowType,
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int32,
  Int64,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
} from "apache-arrow";
import type { IcebergField, IcebergSchema, PartitionSpec, SortOrder } from "./metadata.ts";

export const BUCKET_COLUMN = "__bucket";
export const OFFSET_COLUMN = "__offset";
export const TIMESTAMP_COLUMN = "__timestamp";
export const SYSTEM_COLUMNS = [BUCKET_COLUMN, OFFSET_COLUMN, TIMESTAMP_COLUMN] as const;

/** Partition field ids start here (Iceberg's convention). */
export const PARTITION_FIELD_ID_BASE = 1000;

/** The Iceberg type name of a Fluss column type. */
export function icebergTypeOf(t: DataType): string {
  switch (t.root) {
    case "BOOLEAN":
      return "boolean";
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return "int";
    case "BIGINT":
      return "long";
    case "FLOAT":
      return "float";
    case "DOUBLE":
      return "double";
    case "DECIMAL":
      return `decimal(${t.precision ?? 10}, ${t.scale ?? 0})`;
    case "STRING":
    case "CHAR":
      return "string";
    case "BYTES":
      return "binary";
    case "BINARY":
      return `fixed[${t.length ?? 1}]`;
    case "DATE":
      return "date";
    case "TIME_WITHOUT_TIME_ZONE":
      return "time";
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
      return "timestamp";
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return "timestamptz";
  }
}

/** The Arrow type a lake Parquet file stores for a Fluss column type. */
export function lakeArrowTypeOf(t: DataType): ArrowType {
  switch (t.root) {
    case "BOOLEAN":
      return new Bool();
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return new Int32();
    case "BIGINT":
      return new Int64();
    case "FLOAT":
      return new Float32();
    case "DOUBLE":
      return new Float64();
    case "DECIMAL":
      return new Decimal(t.scale ?? 0, t.precision ?? 10, 128);
    case "STRING":
    case "CHAR":
      return new Utf8();
    case "BYTES":
      return new Binary();
    case "BINARY":
      return new FixedSizeBinary(t.length ?? 1);
    case "DATE":
      return new DateDay();
    case "TIME_WITHOUT_TIME_ZONE":
      return new TimeMicrosecond();
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
      return new TimestampMicrosecond(null);
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return new TimestampMicrosecond("UTC");
  }
}

/** One column of the lake table: its Fluss column (null for system columns) and Iceberg field. */
export interface LakeColumn {
  readonly name: string;
  readonly fieldId: number;
  readonly column: Column | null;
  readonly icebergType: string;
  readonly arrowType: ArrowType;
  readonly required: boolean;
}

/** Everything the lake needs to know about a Fluss table's shape. */
export interface LakeLayout {
  readonly columns: readonly LakeColumn[];
  /** Data columns only (the Fluss schema's), in order. */
  readonly dataColumns: readonly LakeColumn[];
  readonly bucketFieldId: number;
  readonly offsetFieldId: number;
  readonly timestampFieldId: number;
  readonly partitionKeys: readonly string[];
  readonly primaryKey: readonly string[];
  readonly schema: IcebergSchema;
  readonly spec: PartitionSpec;
  readonly sortOrder: SortOrder;
  readonly arrowSchema: ArrowSchema;
}

export function lakeLayoutOf(info: TableInfo): LakeLayout {
  const schema = info.descriptor.schema;
  for (const c of schema.columns) {
    if ((SYSTEM_COLUMNS as readonly string[]).includes(c.name)) {
      throw new Error(`${tablePathToString(info.path)}: column '${c.name}' is reserved for the lake`);
    }
  }
  const dataColumns: LakeColumn[] = schema.columns.map((c, i) => ({
    name: c.name,
    fieldId: i + 1,
    column: c,
    icebergType: icebergTypeOf(c.type),
    arrowType: lakeArrowTypeOf(c.type),
    required: !c.type.nullable,
  }));
  const n = dataColumns.length;
  const system: LakeColumn[] = [
    {
      name: BUCKET_COLUMN,
      fieldId: n + 1,
      column: null,
      icebergType: "int",
      arrowType: new Int32(),
      required: true,
    },
    {
      name: OFFSET_COLUMN,
      fieldId: n + 2,
      column: null,
      icebergType: "long",
      arrowType: new Int64(),
      required: true,
    },
    {
      name: TIMESTAMP_COLUMN,
      fieldId: n + 3,
      column: null,
      icebergType: "timestamptz",
      arrowType: new TimestampMicrosecond("UTC"),
      required: true,
    },
  ];
  const columns = [...dataColumns, ...system];
  const idOf = (name: string): number => {
    const c = columns.find((x) => x.name === name);
    if (!c) throw new Error(`no lake column '${name}'`);
    return c.fieldId;
  };
  const primaryKey = schema.primaryKey;
  const fields: IcebergField[] = columns.map((c) => ({
    id: c.fieldId,
    name: c.name,
    required: c.required,
    type: c.icebergType,
  }));
  const partitionKeys = info.descriptor.partitionKeys;
  const specFields = [...partitionKeys, BUCKET_COLUMN].map((name, i) => ({
    name,
    transform: "identity",
    "source-id": idOf(name),
    "field-id": PARTITION_FIELD_ID_BASE + i,
  }));
  return {
    columns,
    dataColumns,
    bucketFieldId: n + 1,
    offsetFieldId: n + 2,
    timestampFieldId: n + 3,
    partitionKeys,
    primaryKey,
    schema: {
      type: "struct",
      "schema-id": 0,
      ...(primaryKey.length > 0 ? { "identifier-field-ids": primaryKey.map(idOf) } : {}),
      fields,
    },
    spec: { "spec-id": 0, fields: specFields },
    sortOrder: {
      "order-id": 1,
      fields: [{ transform: "identity", "source-id": n + 2, direction: "asc", "null-order": "nulls-first" }],
    },
    arrowSchema: arrowSchemaOf(columns),
  };
}

export function arrowSchemaOf(columns: readonly LakeColumn[]): ArrowSchema {
  return new ArrowSchema(
    columns.map(
      (c) => new Field(c.name, c.arrowType, !c.required, new Map([["PARQUET:field_id", String(c.fieldId)]])),
    ),
  );
}

/** Does a lake table's schema still match the Fluss table's (same names, ids and types)? */
export function sameSchema(a: IcebergSchema, b: IcebergSchema): boolean {
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => {
    const g = b.fields[i]!;
    return f.id === g.id && f.name === g.name && f.type === g.type && f.required === g.required;
  });
}
