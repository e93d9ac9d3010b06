// Column statistics of a log record batch (magic v1+): per chosen column the null count and the
// min / max value, computed from the batch's Arrow RecordBatch, stored between the batch header
// and the records (covered by the CRC), and read back for filter pushdown (mayMatch).
// Binary layout, Fluss's LogRecordBatchStatisticsWriter / Parser (all little-endian):
//   Version u8 (= 1) | ColumnCount i16 (N) | ColumnIndexes i16 × N (schema column indexes) |
//   NullCounts i32 × N | MinValuesSize i32 | MinValues (ALIGNED row of the N columns) |
//   MaxValuesSize i32 | MaxValues (ALIGNED row)
// (aligned-row.ts has the row format). A column whose values are all null has null min and max.
// Which columns: Fluss's `table.statistics.columns`: unset = no statistics (magic v0 batches),
// "*" = every column of a supported type, "a,b" = those columns in that order (each must exist
// and be of a supported type). Supported: BOOLEAN, the integers, FLOAT, DOUBLE, DECIMAL, STRING,
// CHAR, DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ (not BYTES / BINARY, as in Fluss).
// min / max order: scalar.ts; FLOAT / DOUBLE use Java's Float.compare as Fluss's collector (NaN is
// the largest value, -0 below +0), TIME is milliseconds of the day (Fluss's TIME), strings UTF-8.
// Differences from Fluss: CHAR columns get min / max (Fluss's collector leaves them null, i.e.
// only the null count is usable); both forms read the same. Fluss's writer leaves stale bytes in
// unused slot bytes, we write zeros.
// Bounded values: STRING / CHAR min and max keep at most STATISTICS_VALUE_BYTES_MAX UTF-8 bytes
// (Parquet's column-index and Iceberg's metrics truncation): a longer min is cut to its longest
// prefix that ends on a code point boundary (a lower bound of the column's values); a longer max
// is cut the same way and its last code point is incremented (skipping the surrogate range; a
// U+10FFFF is dropped and the one before it incremented), giving an upper bound of every string
// starting with the prefix; a max with no prefix that can be rounded up is written as null, which
// readers take as unknown (Fluss's LeafPredicate does too). Fluss's format has no "truncated" or
// "exact" flag, so every reader treats min / max as bounds, never as values that occur; when
// truncation happens min < max, so no reader can conclude "every value equals x". Without this a
// 10 MB string cost 30 MB per batch (body, min and max); now it costs 10 MB plus <= ~130 bytes.
// Invariants: decode(encode(s)) equals s; a batch without records has no statistics block; for
// every non-null value v of a column, min <= v <= max (when max is not null).

import type { RecordBatch } from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import type { Column, Schema } from "../schema.ts";
import type { DataType } from "../types.ts";
import { readAlignedRow, writeAlignedRow } from "./aligned-row.ts";
import { columnAccess } from "./column-access.ts";
import { readBatchHeader } from "./log-batch.ts";
import type { ScalarValue } from "./scalar.ts";

/** Fluss's LogRecordBatchFormat.STATISTICS_VERSION. */
export const STATISTICS_VERSION = 1;

/**
 * UTF-8 bytes kept of a STRING / CHAR min or max (a rounded-up max may take one byte more). 64 as
 * Parquet's column index (parquet.columnindex.truncate.length): long enough to tell apart keys,
 * URLs and ids that share a long prefix, small enough that 2 x 64 bytes per column per batch
 * never matter, and short values (the common case) stay exact.
 */
export const STATISTICS_VALUE_BYTES_MAX = 64;

export interface ColumnStatistics {
  /** Null values of the column in the batch. */
  readonly nullCount: number;
  /**
   * Lower / upper bound of the non-null values (ScalarValue form): the smallest / largest value,
   * except that long strings are truncated (STATISTICS_VALUE_BYTES_MAX). Both null when every
   * value is null; a null max with non-null values means no upper bound is known.
   */
  readonly min: ScalarValue | null;
  readonly max: ScalarValue | null;
}

export interface BatchStatistics {
  /** Schema column indexes that have statistics, in stored order. */
  readonly columnIndexes: readonly number[];
  /** Statistics by schema column index; undefined for a column without statistics. */
  readonly columns: readonly (ColumnStatistics | undefined)[];
}

/** Column types Fluss collects statistics for (DataTypeChecks.isSupportedStatisticsType). */
export function isStatisticsSupported(type: DataType): boolean {
  return type.root !== "BYTES" && type.root !== "BINARY";
}

/**
 * Which columns `table.statistics.columns` selects: true or "*" every supported column, a
 * comma-separated string or an array of names those columns in that order; undefined / false /
 * null = statistics disabled (returns null). Refuses unknown, repeated or unsupported columns and
 * an empty list with INVALID_CONFIG_EXCEPTION (Fluss validates the option the same way).
 */
export function resolveStatisticsColumns(
  schema: Schema,
  spec: boolean | string | readonly string[] | null | undefined,
): number[] | null {
  if (spec === undefined || spec === null || spec === false) return null;
  const invalid = (why: string): FlussError =>
    new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `table.statistics.columns: ${why}`);
  if (spec === true || (typeof spec === "string" && spec.trim() === "*")) {
    const all: number[] = [];
    schema.columns.forEach((c, i) => {
      if (isStatisticsSupported(c.type)) all.push(i);
    });
    return all;
  }
  const names =
    typeof spec === "string"
      ? spec
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : spec;
  if (names.length === 0) {
    throw invalid("the column list is empty; use '*' for every supported column or unset the option");
  }
  const out: number[] = [];
  for (const name of names) {
    const i = schema.columns.findIndex((c) => c.name === name);
    if (i < 0) throw invalid(`column '${name}' does not exist in the table schema`);
    if (!isStatisticsSupported(schema.columns[i]!.type)) {
      throw invalid(
        `column '${name}' of type ${schema.columns[i]!.type.root} is not supported for statistics`,
      );
    }
    if (out.includes(i)) throw invalid(`column '${name}' is repeated`);
    out.push(i);
  }
  return out;
}

/**
 * Null count, min and max of the columns `statsColumns` (schema indexes) of a full-schema batch;
 * STRING / CHAR bounds truncated to STATISTICS_VALUE_BYTES_MAX (see the file comment).
 */
export function computeBatchStatistics(
  batch: RecordBatch,
  schema: Schema,
  statsColumns: readonly number[],
): BatchStatistics {
  const columns: (ColumnStatistics | undefined)[] = new Array(schema.columns.length).fill(undefined);
  for (const c of statsColumns) {
    const data = batch.data.children[c];
    if (data === undefined)
      throw new FlussError(Errors.INVALID_ARGUMENT, `statistics column ${c} is not in the batch`);
    const col = columnAccess(data, schema.columns[c]!.type);
    let min = -1;
    let max = -1;
    for (let i = 0; i < col.length; i++) {
      if (col.isNull(i)) continue;
      if (min < 0) {
        min = i;
        max = i;
      } else if (col.compareRows(i, min) < 0) min = i;
      else if (col.compareRows(i, max) > 0) max = i;
    }
    const root = schema.columns[c]!.type.root;
    const isString = root === "STRING" || root === "CHAR";
    columns[c] = {
      nullCount: col.nullCount,
      min: min < 0 ? null : isString ? stringLowerBound(col.bytesAt(min)) : col.valueAt(min),
      max: max < 0 ? null : isString ? stringUpperBound(col.bytesAt(max)) : col.valueAt(max),
    };
  }
  return { columnIndexes: [...statsColumns], columns };
}

const utf8Decoder = new TextDecoder("utf-8");

/** Length of the longest prefix of UTF-8 `bytes` of at most `bytesMax` bytes ending on a code point. */
function codePointCut(bytes: Uint8Array, bytesMax: number): number {
  if (bytes.length <= bytesMax) return bytes.length;
  let end = bytesMax;
  // bytes[end] starts the first code point left out; step back over continuation bytes.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

/** A STRING / CHAR min as stored: the value, or its longest code-point prefix of the bytes limit. */
function stringLowerBound(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes.subarray(0, codePointCut(bytes, STATISTICS_VALUE_BYTES_MAX)));
}

const CODE_POINT_MAX = 0x10ffff;

/**
 * A STRING / CHAR max as stored: the value when short enough, else the smallest string above every
 * string that starts with its truncated prefix (last code point incremented), null when none is.
 */
function stringUpperBound(bytes: Uint8Array): string | null {
  if (bytes.length <= STATISTICS_VALUE_BYTES_MAX) return utf8Decoder.decode(bytes);
  const cps = Array.from(
    utf8Decoder.decode(bytes.subarray(0, codePointCut(bytes, STATISTICS_VALUE_BYTES_MAX))),
  );
  for (let k = cps.length - 1; k >= 0; k--) {
    const cp = cps[k]!.codePointAt(0)!;
    if (cp === CODE_POINT_MAX) continue;
    const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
    return cps.slice(0, k).join("") + String.fromCodePoint(next);
  }
  return null;
}

/** The statistics block (Fluss's binary layout, see the file comment). */
export function encodeBatchStatistics(schema: Schema, stats: BatchStatistics): Uint8Array {
  const idx = stats.columnIndexes;
  const types = idx.map((c) => schema.columns[c]!.type);
  const per = idx.map((c) => {
    const s = stats.columns[c];
    if (s === undefined) throw new FlussError(Errors.INVALID_ARGUMENT, `no statistics for column ${c}`);
    return s;
  });
  const minRow = writeAlignedRow(
    types,
    per.map((s) => s.min),
  );
  const maxRow = writeAlignedRow(
    types,
    per.map((s) => s.max),
  );
  const n = idx.length;
  const out = new Uint8Array(3 + 6 * n + 4 + minRow.length + 4 + maxRow.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, STATISTICS_VERSION);
  dv.setInt16(1, n, true);
  for (let k = 0; k < n; k++) {
    dv.setInt16(3 + 2 * k, idx[k]!, true);
    dv.setInt32(3 + 2 * n + 4 * k, per[k]!.nullCount, true);
  }
  let at = 3 + 6 * n;
  dv.setInt32(at, minRow.length, true);
  out.set(minRow, at + 4);
  at += 4 + minRow.length;
  dv.setInt32(at, maxRow.length, true);
  out.set(maxRow, at + 4);
  return out;
}

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `corrupt batch statistics: ${why}`);
}

/**
 * Decode a statistics block against the batch's schema columns. null for an unknown version or
 * no columns (as Fluss's parser); CORRUPT_RECORD_EXCEPTION for a block that is malformed.
 */
export function decodeBatchStatistics(bytes: Uint8Array, columns: readonly Column[]): BatchStatistics | null {
  if (bytes.length < 3) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint8(0) !== STATISTICS_VERSION) return null;
  const n = dv.getInt16(1, true);
  if (n <= 0) return null;
  if (n > columns.length) throw corrupt(`${n} columns for a schema of ${columns.length}`);
  const fixedEnd = 3 + 6 * n + 4;
  if (bytes.length < fixedEnd) throw corrupt("truncated");
  const columnIndexes: number[] = [];
  const out: (ColumnStatistics | undefined)[] = new Array(columns.length).fill(undefined);
  for (let k = 0; k < n; k++) {
    const c = dv.getInt16(3 + 2 * k, true);
    if (c < 0 || c >= columns.length || columnIndexes.includes(c)) throw corrupt(`column index ${c}`);
    columnIndexes.push(c);
  }
  const minSize = dv.getInt32(fixedEnd - 4, true);
  if (minSize < 0 || fixedEnd + minSize + 4 > bytes.length) throw corrupt(`min values size ${minSize}`);
  const maxSize = dv.getInt32(fixedEnd + minSize, true);
  const maxStart = fixedEnd + minSize + 4;
  if (maxSize < 0 || maxStart + maxSize > bytes.length) throw corrupt(`max values size ${maxSize}`);
  const types = columnIndexes.map((c) => columns[c]!.type);
  const nullRow = new Array<null>(n).fill(null);
  const mins = minSize === 0 ? nullRow : readAlignedRow(bytes.subarray(fixedEnd, fixedEnd + minSize), types);
  const maxs = maxSize === 0 ? nullRow : readAlignedRow(bytes.subarray(maxStart, maxStart + maxSize), types);
  columnIndexes.forEach((c, k) => {
    const nullCount = dv.getInt32(3 + 2 * n + 4 * k, true);
    if (nullCount < 0) throw corrupt(`null count ${nullCount}`);
    out[c] = { nullCount, min: mins[k]!, max: maxs[k]! };
  });
  return { columnIndexes, columns: out };
}

/**
 * The statistics of one log batch (`schema` = the schema of the batch's schema id), or null when
 * it has none (magic v0, StatisticsLength 0, e.g. after projection) or an unknown version.
 */
export function readBatchStatistics(batchBytes: Uint8Array, schema: Schema): BatchStatistics | null {
  const header = readBatchHeader(batchBytes);
  if (header.statisticsLength === 0) return null;
  const start = header.statisticsOffset;
  if (batchBytes.byteLength < start + header.statisticsLength) throw corrupt("statistics are truncated");
  return decodeBatchStatistics(batchBytes.subarray(start, start + header.statisticsLength), schema.columns);
}
