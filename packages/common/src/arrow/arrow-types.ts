// Mapping of fluss column types to Arrow types, as Fluss's ArrowUtils does it: integers by width,
// DECIMAL as 128-bit decimal, STRING and CHAR as Utf8, BYTES as Binary, BINARY(n) as
// FixedSizeBinary(n), DATE as DateDay, TIME and both TIMESTAMP kinds by precision (0 → second,
// 1-3 → milli, 4-6 → micro, 7-9 → nano; TIME second/milli are 32-bit, micro/nano 64-bit) and
// timestamps always without a time zone. Field nullability follows the column.
// Invariants: the same (schema, projection) or columns array always yields the same Arrow Schema
// object (cached), so callers may compare schemas by identity; the layout facts below
// (bufferCountOf, timeUnitOf) are the single source for the IPC encoder, decoder and projection.

import {
  Schema as ArrowSchema,
  type DataType as ArrowType,
  Binary,
  Bool,
  type Data,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  makeData,
  Struct,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimeSecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Utf8,
} from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import type { Column, Schema } from "../schema.ts";
import type { DataType } from "../types.ts";

/** Arrow time unit of a TIME / TIMESTAMP column, by fractional-second precision. */
export type TimeUnitName = "SECOND" | "MILLISECOND" | "MICROSECOND" | "NANOSECOND";

export function timeUnitOf(precision: number): TimeUnitName {
  if (precision === 0) return "SECOND";
  if (precision <= 3) return "MILLISECOND";
  if (precision <= 6) return "MICROSECOND";
  return "NANOSECOND";
}

/** Units of the time unit per second (1, 1e3, 1e6, 1e9). */
export function unitsPerSecond(unit: TimeUnitName): number {
  switch (unit) {
    case "SECOND":
      return 1;
    case "MILLISECOND":
      return 1e3;
    case "MICROSECOND":
      return 1e6;
    case "NANOSECOND":
      return 1e9;
  }
}

function timeType(precision: number): ArrowType {
  switch (timeUnitOf(precision)) {
    case "SECOND":
      return new TimeSecond();
    case "MILLISECOND":
      return new TimeMillisecond();
    case "MICROSECOND":
      return new TimeMicrosecond();
    case "NANOSECOND":
      return new TimeNanosecond();
  }
}

function timestampType(precision: number): ArrowType {
  switch (timeUnitOf(precision)) {
    case "SECOND":
      return new TimestampSecond(null);
    case "MILLISECOND":
      return new TimestampMillisecond(null);
    case "MICROSECOND":
      return new TimestampMicrosecond(null);
    case "NANOSECOND":
      return new TimestampNanosecond(null);
  }
}

/** The Arrow type Fluss uses for a column type (nullability is carried by the Field). */
export function toArrowType(t: DataType): ArrowType {
  switch (t.root) {
    case "BOOLEAN":
      return new Bool();
    case "TINYINT":
      return new Int8();
    case "SMALLINT":
      return new Int16();
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
      return timeType(t.precision ?? 0);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return timestampType(t.precision ?? 6);
  }
}

export function toArrowField(column: Column): Field {
  return new Field(column.name, toArrowType(column.type), column.type.nullable);
}

/**
 * Number of IPC body buffers a column of this type owns: validity + offsets + data for the
 * variable-width types (STRING, CHAR, BYTES), validity + data for every other type.
 */
export function bufferCountOf(t: DataType): 2 | 3 {
  return t.root === "STRING" || t.root === "CHAR" || t.root === "BYTES" ? 3 : 2;
}

const bySchema = new WeakMap<Schema, Map<string, ArrowSchema>>();
const byColumns = new WeakMap<readonly Column[], ArrowSchema>();

/** Check a projection (column indexes into `schema`): in range, no duplicates, not empty. */
export function checkProjection(schema: Schema, projected: readonly number[]): void {
  if (projected.length === 0) {
    throw new FlussError(Errors.INVALID_COLUMN_PROJECTION, "a projection must select at least one column");
  }
  const seen = new Set<number>();
  for (const i of projected) {
    if (!Number.isInteger(i) || i < 0 || i >= schema.columns.length) {
      throw new FlussError(
        Errors.INVALID_COLUMN_PROJECTION,
        `projected column index ${i} is out of range for a schema of ${schema.columns.length} columns`,
      );
    }
    if (seen.has(i)) {
      throw new FlussError(Errors.INVALID_COLUMN_PROJECTION, `projected column index ${i} is repeated`);
    }
    seen.add(i);
  }
}

/** The columns a projection selects, in projection order (all columns when none is given). */
export function projectColumns(schema: Schema, projected?: readonly number[]): readonly Column[] {
  if (projected === undefined) return schema.columns;
  checkProjection(schema, projected);
  return projected.map((i) => schema.columns[i]!);
}

/** Arrow schema of a fluss schema, or of the projected columns in projection order. Cached. */
export function toArrowSchema(schema: Schema, projected?: readonly number[]): ArrowSchema {
  let perSchema = bySchema.get(schema);
  if (perSchema === undefined) {
    perSchema = new Map();
    bySchema.set(schema, perSchema);
  }
  const key = projected === undefined ? "*" : projected.join(",");
  let out = perSchema.get(key);
  if (out === undefined) {
    out = new ArrowSchema(projectColumns(schema, projected).map(toArrowField));
    perSchema.set(key, out);
  }
  return out;
}

/** Arrow schema of a list of columns (e.g. those a projected batch holds). Cached per array. */
export function arrowSchemaOfColumns(columns: readonly Column[]): ArrowSchema {
  let out = byColumns.get(columns);
  if (out === undefined) {
    out = new ArrowSchema(columns.map(toArrowField));
    byColumns.set(columns, out);
  }
  return out;
}

const structOf = new WeakMap<ArrowSchema, Struct>();

/** The Struct type of a record batch of this schema (cached). */
export function structTypeOf(schema: ArrowSchema): Struct {
  let s = structOf.get(schema);
  if (s === undefined) {
    s = new Struct(schema.fields);
    structOf.set(schema, s);
  }
  return s;
}

/** Buffers of one flat column, as makeData takes them. */
export interface ColumnDataProps {
  type: ArrowType;
  length: number;
  nullCount: number;
  nullBitmap?: Uint8Array | undefined;
  data?: ArrayBufferView;
  valueOffsets?: Int32Array;
}

// makeData's overloads are keyed by the static Arrow type; ours is only known at run time.
const makeDataDynamic = makeData as unknown as (props: ColumnDataProps) => Data;

/** makeData for a column whose Arrow type is only known at run time. */
export function makeColumnData(props: ColumnDataProps): Data {
  return makeDataDynamic(props);
}
