// Typed scalar values as predicates (literals) and batch statistics (min / max) hold them, their
// total order per column type, and their SQL literal text.
// Forms (ScalarValue) per column type, the internal forms Fluss's rows use:
//   BOOLEAN boolean; TINYINT / SMALLINT / INTEGER number; BIGINT bigint; FLOAT / DOUBLE number
//   (FLOAT rounded to single precision); DECIMAL(p, s) the unscaled bigint at scale s; STRING /
//   CHAR string; BYTES / BINARY Uint8Array; DATE days since epoch; TIME milliseconds of the day
//   (Fluss's TIME is int milliseconds, so TIME(4..9) values compare at millisecond precision);
//   TIMESTAMP / TIMESTAMP_LTZ TimestampParts { epochMs, nanoOfMs }.
// Order (one total order per type, shared by row evaluation and statistics pruning):
//   numbers as usual; FLOAT / DOUBLE with NaN equal to itself and above every other value and
//   -0 equal to +0 (PostgreSQL's order; Fluss's Java compareTo differs only in putting -0 below
//   +0); strings by their UTF-8 bytes, unsigned (= code point order, Fluss's BinaryString order,
//   not JS's UTF-16 `<`); bytes unsigned lexicographic; false < true; timestamps by instant.
// Invariants: `keyOf` maps equal values to keys comparing equal; `compareKeys` is a total order
// consistent with `compareScalars`; pure functions, no locale or time zone dependence.

import { assert } from "../errors.ts";
import type { DataType } from "../types.ts";
import {
  formatDecimal,
  toBoolean,
  toFloat64,
  toInt64,
  toIntInRange,
  toUnscaledDecimal,
} from "../values/numeric.ts";
import {
  formatDate,
  formatTimeNanos,
  MS_PER_DAY,
  type TimestampParts,
  toEpochDays,
  toMillisOfDay,
  toTimestampParts,
} from "../values/temporal.ts";
import { encodeBase64, toByteArray, toCharString } from "../values/text.ts";

export type { TimestampParts } from "../values/temporal.ts";

/** One non-null value of a column in its internal form (see the file comment). */
export type ScalarValue = boolean | number | bigint | string | Uint8Array | TimestampParts;

/** A comparison key: number (numeric types, booleans), bigint (BIGINT, DECIMAL, timestamps as ns), bytes. */
export type ScalarKey = number | bigint | Uint8Array;

/** The comparison family of a column type (how keys compare). */
export type KeyKind = "number" | "float" | "bigint" | "bytes";

export function keyKindOf(type: DataType): KeyKind {
  switch (type.root) {
    case "FLOAT":
    case "DOUBLE":
      return "float";
    case "BIGINT":
    case "DECIMAL":
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return "bigint";
    case "STRING":
    case "CHAR":
    case "BYTES":
    case "BINARY":
      return "bytes";
    default:
      return "number";
  }
}

const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INTEGER: [-2147483648, 2147483647],
};

function isTimestampParts(v: unknown): v is TimestampParts {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<TimestampParts>;
  return (
    Number.isSafeInteger(p.epochMs) &&
    Number.isInteger(p.nanoOfMs) &&
    p.nanoOfMs! >= 0 &&
    p.nanoOfMs! <= 999_999
  );
}

/**
 * A value in the forms rows accept (see ArrowBatchBuilder) → the column type's ScalarValue, as a
 * literal: never floored to the column precision (TIME to milliseconds, its compare precision),
 * so `ts >= '…00.5'` on TIMESTAMP(0) keeps its meaning. TIMESTAMP also takes TimestampParts.
 * Throws ValueMismatch; null is not a scalar.
 */
export function toScalar(type: DataType, v: unknown): ScalarValue {
  switch (type.root) {
    case "BOOLEAN":
      return toBoolean(v);
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER": {
      const [min, max] = INT_RANGES[type.root]!;
      return toIntInRange(v, min, max);
    }
    case "BIGINT":
      return BigInt(toInt64(v));
    case "FLOAT":
      return Math.fround(toFloat64(v));
    case "DOUBLE":
      return toFloat64(v);
    case "DECIMAL":
      return toUnscaledDecimal(v, type.precision ?? 10, type.scale ?? 0);
    case "STRING":
      return toCharString(v, Number.POSITIVE_INFINITY);
    case "CHAR":
      return toCharString(v, type.length ?? 1);
    case "BYTES":
      return toByteArray(v);
    case "BINARY":
      return toByteArray(v, type.length ?? 1);
    case "DATE":
      return toEpochDays(v);
    case "TIME_WITHOUT_TIME_ZONE":
      return toMillisOfDay(v, 3);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      if (isTimestampParts(v)) return { epochMs: v.epochMs, nanoOfMs: v.nanoOfMs };
      // A bigint is in the column's unit; other forms keep every digit given (never floored).
      const precision = typeof v === "bigint" ? (type.precision ?? 6) : 9;
      return toTimestampParts(v, precision, type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE");
    }
  }
}

/** True when `v` has the ScalarValue form of `type` (shape only, not range). */
export function isScalarOf(type: DataType, v: unknown): v is ScalarValue {
  switch (keyKindOf(type)) {
    case "number":
      return type.root === "BOOLEAN" ? typeof v === "boolean" : typeof v === "number" && Number.isInteger(v);
    case "float":
      return typeof v === "number";
    case "bigint":
      return type.root === "BIGINT" || type.root === "DECIMAL" ? typeof v === "bigint" : isTimestampParts(v);
    case "bytes":
      return type.root === "STRING" || type.root === "CHAR" ? typeof v === "string" : v instanceof Uint8Array;
  }
}

const utf8 = new TextEncoder();

/** Nanoseconds since epoch of timestamp parts. */
export function timestampNanos(p: TimestampParts): bigint {
  return BigInt(p.epochMs) * 1_000_000n + BigInt(p.nanoOfMs);
}

/** The comparison key of a value of `type` (UTF-8 bytes for strings, ns for timestamps). */
export function keyOf(type: DataType, v: ScalarValue): ScalarKey {
  assert(isScalarOf(type, v), `value is not of the form of ${type.root}`);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") return utf8.encode(v);
  if (typeof v === "object" && !(v instanceof Uint8Array)) return timestampNanos(v);
  return v;
}

/** Unsigned lexicographic order of bytes (memcmp, then length). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** FLOAT / DOUBLE order of predicates: NaN equals NaN and is above all, -0 equals +0. */
export function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  return an === bn ? 0 : an ? 1 : -1;
}

/** Java's Float.compare / Double.compare: as compareFloat but -0 below +0 (Fluss's min / max). */
export function compareFloatJava(a: number, b: number): number {
  const c = compareFloat(a, b);
  if (c !== 0 || a !== 0) return c;
  const an = Object.is(a, -0);
  return an === Object.is(b, -0) ? 0 : an ? -1 : 1;
}

/** Order of two keys of the same kind. */
export function compareKeys(kind: KeyKind, a: ScalarKey, b: ScalarKey): number {
  if (kind === "bytes") return compareBytes(a as Uint8Array, b as Uint8Array);
  if (kind === "float") return compareFloat(a as number, b as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order of two values of `type` (see the file comment). */
export function compareScalars(type: DataType, a: ScalarValue, b: ScalarValue): number {
  return compareKeys(keyKindOf(type), keyOf(type, a), keyOf(type, b));
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex").toUpperCase();
}

/** ISO-8601 text of timestamp parts with nine fraction digits, UTC, no zone suffix. */
export function formatTimestampParts(p: TimestampParts): string {
  const days = Math.floor(p.epochMs / MS_PER_DAY);
  const msOfDay = p.epochMs - days * MS_PER_DAY;
  return `${formatDate(days)}T${formatTimeNanos(msOfDay * 1e6 + p.nanoOfMs, 9)}`;
}

/** SQL literal text of a value that parsePredicate reads back to the same value for `type`. */
export function scalarToLiteralText(type: DataType, v: ScalarValue): string {
  switch (type.root) {
    case "BOOLEAN":
      return v ? "TRUE" : "FALSE";
    case "FLOAT":
    case "DOUBLE": {
      const n = v as number;
      if (!Number.isFinite(n)) return quote(String(n));
      return Object.is(n, -0) ? "-0" : String(n);
    }
    case "DECIMAL":
      return formatDecimal(v as bigint, type.scale ?? 0);
    case "STRING":
    case "CHAR":
      return quote(v as string);
    case "BYTES":
    case "BINARY":
      return `X'${hex(v as Uint8Array)}'`;
    case "DATE":
      return quote(formatDate(v as number));
    case "TIME_WITHOUT_TIME_ZONE":
      return quote(formatTimeNanos((v as number) * 1e6, 3));
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return quote(formatTimestampParts(v as TimestampParts));
    default:
      return String(v);
  }
}

/** JSON-friendly text of a value (for messages and printing statistics). */
export function describeScalar(type: DataType, v: ScalarValue | null): string {
  if (v === null) return "NULL";
  if (type.root === "BYTES" || type.root === "BINARY") return encodeBase64(v as Uint8Array);
  return scalarToLiteralText(type, v);
}
