// Turn an Arrow RecordBatch (a full or projected log batch) back into JS row objects, reading the
// column buffers directly (no per-value Vector.get). Output conventions per column type:
// BOOLEAN boolean; TINYINT / SMALLINT / INTEGER number; BIGINT bigint; FLOAT / DOUBLE number;
// DECIMAL string with exactly `scale` fraction digits; STRING / CHAR string; BYTES / BINARY
// Uint8Array (a copy, not a view into the batch); DATE "YYYY-MM-DD"; TIME "HH:MM:SS" plus
// `precision` fraction digits; TIMESTAMP / TIMESTAMP_LTZ Date (sub-millisecond digits dropped).
// `rowToJson` maps such a row to JSON-safe values for printing.
// Invariants: the batch's fields are exactly `columns`, in order (asserted); null slots read null.

import { type Data, DataType, type RecordBatch } from "apache-arrow";
import { assert } from "../errors.ts";
import type { Column } from "../schema.ts";
import { formatDecimal, readI128 } from "../values/numeric.ts";
import { formatDate, formatTimeNanos } from "../values/temporal.ts";
import { encodeBase64 } from "../values/text.ts";
import { timeUnitOf, unitsPerSecond } from "./arrow-types.ts";

export type RowValue = boolean | number | bigint | string | Uint8Array | Date | null;
export type OutputRow = Record<string, RowValue>;
export type JsonValue = boolean | number | string | null;

type Getter = (i: number) => RowValue;

const TWO_32 = 4294967296;

function int64Halves(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** Number of an int64 slot when exact (|v| < 2^53), else undefined. */
function exactInt64(halves: Int32Array, i: number): number | undefined {
  const hi = halves[2 * i + 1]!;
  if (hi < -0x200000 || hi >= 0x200000) return undefined;
  return hi * TWO_32 + (halves[2 * i]! >>> 0);
}

function utf8Getter(data: Data): Getter {
  const values = data.values as Uint8Array;
  const offsets = data.valueOffsets as Int32Array;
  const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (i) => buf.toString("utf8", offsets[i]!, offsets[i + 1]!);
}

function binaryGetter(data: Data, width: number): Getter {
  // A plain Uint8Array over the same memory: its slice() copies (a Node Buffer's would not).
  const raw = data.values as Uint8Array;
  const values = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (width > 0) return (i) => values.slice(i * width, (i + 1) * width);
  const offsets = data.valueOffsets as Int32Array;
  return (i) => values.slice(offsets[i]!, offsets[i + 1]!);
}

function timestampGetter(data: Data, precision: number): Getter {
  const values = data.values as BigInt64Array;
  const halves = int64Halves(values);
  const unit = timeUnitOf(precision);
  if (unit === "SECOND") return (i) => new Date((exactInt64(halves, i) ?? Number.NaN) * 1000);
  const perMs = unitsPerSecond(unit) / 1000;
  const perMsBig = BigInt(perMs);
  return (i) => {
    const exact = exactInt64(halves, i);
    if (exact !== undefined) return new Date(Math.floor(exact / perMs));
    const big = values[i]!;
    const q = big / perMsBig;
    return new Date(Number(big % perMsBig < 0n ? q - 1n : q));
  };
}

function timeGetter(data: Data, precision: number): Getter {
  const nanosPerUnit = 1e9 / unitsPerSecond(timeUnitOf(precision));
  const values = data.values as Int32Array | BigInt64Array;
  if (values instanceof Int32Array) return (i) => formatTimeNanos(values[i]! * nanosPerUnit, precision);
  const halves = int64Halves(values);
  return (i) => formatTimeNanos((exactInt64(halves, i) ?? 0) * nanosPerUnit, precision);
}

function valueGetter(data: Data, column: Column): Getter {
  const t = column.type;
  switch (t.root) {
    case "BOOLEAN": {
      const bits = data.values as Uint8Array;
      const o = data.offset;
      return (i) => ((bits[(o + i) >> 3]! >> ((o + i) & 7)) & 1) === 1;
    }
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "FLOAT":
    case "DOUBLE":
    case "BIGINT": {
      const values = data.values as Int32Array | Float64Array | BigInt64Array;
      return (i) => values[i]!;
    }
    case "DECIMAL": {
      const words = data.values as Uint32Array;
      const scale = t.scale ?? 0;
      return (i) => formatDecimal(readI128(words, 4 * i), scale);
    }
    case "STRING":
    case "CHAR":
      return utf8Getter(data);
    case "BYTES":
      return binaryGetter(data, 0);
    case "BINARY":
      return binaryGetter(data, t.length ?? 1);
    case "DATE": {
      const days = data.values as Int32Array;
      return (i) => formatDate(days[i]!);
    }
    case "TIME_WITHOUT_TIME_ZONE":
      return timeGetter(data, t.precision ?? 0);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return timestampGetter(data, t.precision ?? 6);
  }
}

/** Null test for slot i, or undefined when the column has no nulls. */
function nullTest(data: Data): ((i: number) => boolean) | undefined {
  if (data.nullCount === 0) return undefined;
  const bits = data.nullBitmap as Uint8Array;
  const o = data.offset;
  return (i) => ((bits[(o + i) >> 3]! >> ((o + i) & 7)) & 1) === 0;
}

function checkShape(batch: RecordBatch, columns: readonly Column[]): void {
  const fields = batch.schema.fields;
  assert(fields.length === columns.length, `batch has ${fields.length} columns, expected ${columns.length}`);
  for (let c = 0; c < columns.length; c++) {
    assert(fields[c]!.name === columns[c]!.name, `batch column ${c} is '${fields[c]!.name}'`);
  }
  assert(
    batch.data.children.every((d) => !DataType.isStruct(d.type)),
    "nested columns are not supported",
  );
}

/** All rows of a batch as objects keyed by column name (`columns` = the batch's columns). */
export function readRows(batch: RecordBatch, columns: readonly Column[]): OutputRow[] {
  checkShape(batch, columns);
  const children = batch.data.children;
  const getters = columns.map((col, c) => valueGetter(children[c]!, col));
  const nulls = children.map(nullTest);
  const names = columns.map((col) => col.name);
  const n = batch.numRows;
  const rows: OutputRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: OutputRow = {};
    for (let c = 0; c < names.length; c++) {
      const isNull = nulls[c];
      row[names[c]!] = isNull?.(i) ? null : getters[c]!(i);
    }
    rows[i] = row;
  }
  return rows;
}

function jsonValue(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if (v instanceof Uint8Array) return encodeBase64(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "boolean" || typeof v === "string") return v;
  return String(v);
}

/**
 * JSON-safe copy of a row for printing: bigint → number when safe else string, Uint8Array →
 * base64, Date → ISO-8601 string, NaN / ±Infinity → string; other values unchanged.
 */
export function rowToJson(
  row: Readonly<Record<string, unknown>>,
  columns: readonly Column[],
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const c of columns) out[c.name] = jsonValue(row[c.name]);
  return out;
}
