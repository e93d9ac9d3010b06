// Build an Arrow RecordBatch from JS row objects (column name → value) for a fluss schema, writing
// each column straight into the typed arrays Arrow uses (see column-writers.ts and
// temporal-writers.ts for the accepted input forms per type). Columns are filled one at a time
// over all rows (column-major), which keeps every loop monomorphic.
// Invariants: a key that is not a column name, a value of the wrong form, a null in a NOT NULL
// column each raise SCHEMA_MISMATCH naming the column (and row); a missing key is a null.
// The resulting batch's schema is toArrowSchema(schema) (the cached instance).

import { type DataType as ArrowType, type Data, makeData, RecordBatch } from "apache-arrow";
import type { Column, Schema } from "../schema.ts";
import { structTypeOf, toArrowSchema } from "./arrow-types.ts";
import { ColumnInput, checkRowKeys, type InputRow } from "./column-input.ts";
import {
  writeBigInt,
  writeBinary,
  writeBool,
  writeDecimal,
  writeFixedBinary,
  writeFloat,
  writeSmallInt,
  writeUtf8,
} from "./column-writers.ts";
import { writeDate, writeTime, writeTimestamp } from "./temporal-writers.ts";

export type { InputRow } from "./column-input.ts";

interface KnownColumns {
  readonly known: Readonly<Record<string, true>>;
  readonly names: string;
}

const knownBySchema = new WeakMap<Schema, KnownColumns>();

function knownColumns(schema: Schema): KnownColumns {
  let k = knownBySchema.get(schema);
  if (k === undefined) {
    const known: Record<string, true> = Object.create(null);
    for (const c of schema.columns) known[c.name] = true;
    k = { known, names: schema.columns.map((c) => c.name).join(", ") };
    knownBySchema.set(schema, k);
  }
  return k;
}

function writeColumn(rows: readonly InputRow[], column: Column, type: ArrowType): Data {
  const c = new ColumnInput(rows, column);
  const t = column.type;
  const n = rows.length;
  switch (t.root) {
    case "BOOLEAN":
      return writeBool(c, type);
    case "TINYINT":
      return writeSmallInt(c, type, new Int8Array(n), -128, 127);
    case "SMALLINT":
      return writeSmallInt(c, type, new Int16Array(n), -32768, 32767);
    case "INTEGER":
      return writeSmallInt(c, type, new Int32Array(n), -2147483648, 2147483647);
    case "BIGINT":
      return writeBigInt(c, type);
    case "FLOAT":
      return writeFloat(c, type, new Float32Array(n));
    case "DOUBLE":
      return writeFloat(c, type, new Float64Array(n));
    case "DECIMAL":
      return writeDecimal(c, type, t.precision ?? 10, t.scale ?? 0);
    case "STRING":
      return writeUtf8(c, type, Number.POSITIVE_INFINITY);
    case "CHAR":
      return writeUtf8(c, type, t.length ?? 1);
    case "BYTES":
      return writeBinary(c, type);
    case "BINARY":
      return writeFixedBinary(c, type, t.length ?? 1);
    case "DATE":
      return writeDate(c, type);
    case "TIME_WITHOUT_TIME_ZONE":
      return writeTime(c, type, t.precision ?? 0);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
      return writeTimestamp(c, type, t.precision ?? 6, false);
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return writeTimestamp(c, type, t.precision ?? 6, true);
  }
}

/**
 * Build a RecordBatch holding `rows` (objects keyed by column name) for `schema`.
 * Accepted values per column type:
 * - BOOLEAN: boolean
 * - TINYINT / SMALLINT / INTEGER: integer number, bigint or integer string (range-checked)
 * - BIGINT: bigint, safe-integer number or integer string
 * - FLOAT / DOUBLE: number or numeric string
 * - DECIMAL(p, s): string ("123.45"), number or bigint; at most s fraction digits, p digits
 * - STRING: string; CHAR(n): string of at most n characters
 * - BYTES: Uint8Array or base64 string; BINARY(n): the same, exactly n bytes
 * - DATE: "YYYY-MM-DD", Date or days since epoch
 * - TIME(p): "HH:MM:SS[.fffffffff]" or milliseconds of the day
 * - TIMESTAMP(p) / TIMESTAMP_LTZ(p): Date, ISO-8601 string, epoch ms number or bigint in the
 *   column's unit (second / milli / micro / nano by precision)
 * null or a missing key is null (refused for NOT NULL columns).
 */
export function buildRecordBatch(schema: Schema, rows: readonly InputRow[]): RecordBatch {
  const { known, names } = knownColumns(schema);
  checkRowKeys(rows, known, names);
  const arrowSchema = toArrowSchema(schema);
  const children: Data[] = [];
  for (let i = 0; i < schema.columns.length; i++) {
    children.push(writeColumn(rows, schema.columns[i]!, arrowSchema.fields[i]!.type));
  }
  const data = makeData({ type: structTypeOf(arrowSchema), length: rows.length, nullCount: 0, children });
  return new RecordBatch(arrowSchema, data);
}
