// JS value ↔ Fluss internal value converters for the non-temporal types, shared by the row
// encoders (COMPACTED rows, keys) and meant to be shared with the Arrow batch builder. Each
// converter is a small pure function that accepts the input forms of the project's value
// conventions and returns the internal value, or throws `ValueMismatch` saying what was expected;
// row encoders turn that into SCHEMA_MISMATCH naming the column (see `mismatchError`).
// Accepted inputs: BOOLEAN boolean; TINYINT/SMALLINT/INTEGER integer number, bigint or integer
// string (range-checked); BIGINT safe-integer number, bigint or integer string; FLOAT/DOUBLE number
// or numeric string; DECIMAL(p, s) string, number or bigint, with no non-zero digit beyond `s`
// fraction digits and at most `p` digits in all; STRING/CHAR(n) string (CHAR: at most n
// characters, no padding); BYTES Uint8Array or base64 string; BINARY(n) exactly n bytes.
// Decimal unscaled bytes (non-compact DECIMAL) are Java BigInteger.toByteArray: minimal big-endian
// two's complement, at least one byte.
// Invariants: converters never depend on process state (time zone, locale); they never mutate input.

import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { type DataType, typeToSql } from "../types.ts";

/** A value that does not fit its column type; the caller names the column. */
export class ValueMismatch extends Error {
  readonly expected: string;
  readonly value: unknown;
  readonly reason: string | undefined;

  constructor(expected: string, value: unknown, reason?: string) {
    super(`expected ${expected}, got ${describeValue(value)}${reason === undefined ? "" : ` (${reason})`}`);
    this.name = "ValueMismatch";
    this.expected = expected;
    this.value = value;
    this.reason = reason;
  }
}

/** Short printable description of an input value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : `Date(${v.toISOString()})`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.byteLength})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === "object" && v !== null) return `object ${v.constructor?.name ?? "Object"}`;
  return String(v);
}

/** SCHEMA_MISMATCH for a converter failure, naming the column and its type. */
export function mismatchError(column: string, type: DataType, err: ValueMismatch): FlussError {
  return new FlussError(Errors.SCHEMA_MISMATCH, `column '${column}' (${typeToSql(type)}): ${err.message}`);
}

// ---- integers and floats ------------------------------------------------------------------------

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

export function toBoolean(v: unknown): boolean {
  if (v === true || v === false) return v;
  throw new ValueMismatch("a boolean", v);
}

/** TINYINT / SMALLINT / INTEGER (and any int32 sub-range): integer number, bigint or integer string. */
export function toIntInRange(v: unknown, min: number, max: number): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
  let x: number | undefined;
  if (typeof v === "number" && Number.isInteger(v)) x = v;
  else if (typeof v === "bigint") x = v >= BigInt(min) && v <= BigInt(max) ? Number(v) : Number.NaN;
  else if (typeof v === "string" && INTEGER_RE.test(v.trim())) x = Number(v.trim());
  if (x === undefined) throw new ValueMismatch("an integer", v);
  if (!(x >= min && x <= max)) throw new ValueMismatch(`an integer in [${min}, ${max}]`, v, "out of range");
  return x;
}

/** BIGINT: returns a number when the value is a safe integer, else a bigint in int64 range. */
export function toInt64(v: unknown): number | bigint {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  let x: bigint | undefined;
  if (typeof v === "bigint") x = v;
  else if (typeof v === "string" && INTEGER_RE.test(v.trim())) x = BigInt(v.trim());
  else if (typeof v === "number" && Number.isInteger(v)) {
    throw new ValueMismatch("a bigint or a safe integer", v, "beyond 2^53 a number loses digits");
  }
  if (x === undefined) throw new ValueMismatch("an integer (bigint, number or string)", v);
  if (x < INT64_MIN || x > INT64_MAX) throw new ValueMismatch("a 64-bit integer", v, "out of range");
  return x;
}

/** FLOAT / DOUBLE: number or numeric string (FLOAT rounds to single precision when stored). */
export function toFloat64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && FLOAT_RE.test(v.trim())) return Number(v.trim());
  throw new ValueMismatch("a number", v);
}

// ---- decimals -----------------------------------------------------------------------------------

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 76; i++, p *= 10n) POW10.push(p);

export function pow10n(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Unscaled value of a decimal text at `scale`, e.g. ("-12.5", 2) → -1250n. Refuses (ValueMismatch)
 * text that is not a number or has a non-zero digit beyond `scale` fraction digits.
 */
export function parseDecimalText(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  const intPart = m?.[2] ?? "";
  const fracPart = m?.[3] ?? "";
  if (!m || intPart.length + fracPart.length === 0) throw new ValueMismatch("a decimal number", text);
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  let digits = intPart + fracPart;
  let fractionDigits = fracPart.length - exponent;
  if (fractionDigits > scale) {
    const extra = fractionDigits - scale;
    const dropped = digits.slice(Math.max(0, digits.length - extra));
    if (/[1-9]/.test(dropped)) throw new ValueMismatch(`at most ${scale} fraction digits`, text);
    digits = digits.slice(0, Math.max(0, digits.length - extra));
    fractionDigits = scale;
  }
  let unscaled = BigInt(digits === "" ? "0" : digits) * pow10n(scale - fractionDigits);
  if (m[1] === "-") unscaled = -unscaled;
  return unscaled;
}

/** Number of decimal digits of |v| (0 has one digit). */
export function digitCount(v: bigint): number {
  return (v < 0n ? -v : v).toString().length;
}

/** DECIMAL(precision, scale): string, finite number or bigint → unscaled bigint. */
export function toUnscaledDecimal(v: unknown, precision: number, scale: number): bigint {
  const expected = `a decimal fitting DECIMAL(${precision}, ${scale})`;
  let unscaled: bigint;
  if (typeof v === "bigint") unscaled = v * pow10n(scale);
  else if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "string") {
    try {
      unscaled = parseDecimalText(String(v), scale);
    } catch (err) {
      if (err instanceof ValueMismatch) throw new ValueMismatch(expected, v, err.expected);
      throw err;
    }
  } else throw new ValueMismatch(expected, v);
  if (digitCount(unscaled) > precision) throw new ValueMismatch(expected, v, `more than ${precision} digits`);
  return unscaled;
}

/** Text of an unscaled decimal with exactly `scale` fraction digits, e.g. (-1250n, 2) → "-12.50". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const sign = negative ? "-" : "";
  if (scale === 0) return sign + digits;
  return `${sign}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

/** Minimal big-endian two's complement bytes (Java BigInteger.toByteArray); 0 → [0x00]. */
export function unscaledToBytes(v: bigint): Uint8Array {
  // Bits needed including the sign bit: for v >= 0 bitlen(v) + 1, for v < 0 bitlen(~v) + 1.
  const magnitude = v < 0n ? -v - 1n : v;
  const bits = magnitude === 0n ? 1 : magnitude.toString(2).length + 1;
  const n = Math.ceil(bits / 8);
  const out = new Uint8Array(n);
  let u = BigInt.asUintN(n * 8, v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

/** Inverse of unscaledToBytes (Java `new BigInteger(bytes)`); an empty array is refused. */
export function unscaledFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) throw new ValueMismatch("at least one byte of unscaled decimal", bytes);
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += bytes[i]!.toString(16).padStart(2, "0");
  return BigInt.asIntN(bytes.length * 8, BigInt(`0x${hex}`));
}

// ---- strings and bytes --------------------------------------------------------------------------

/** Number of Unicode code points (a lone surrogate counts as one). */
export function codePointCount(s: string): number {
  let count = 0;
  for (let j = 0; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code >= 0xd800 && code <= 0xdbff && j + 1 < s.length) {
      const next = s.charCodeAt(j + 1);
      if (next >= 0xdc00 && next <= 0xdfff) j++;
    }
    count++;
  }
  return count;
}

/** STRING (maxChars = Infinity) and CHAR(n) (at most n characters, no padding). */
export function toCharString(v: unknown, maxChars: number): string {
  if (typeof v !== "string") throw new ValueMismatch("a string", v);
  if (v.length > maxChars && codePointCount(v) > maxChars) {
    throw new ValueMismatch(`at most ${maxChars} characters`, v, `${codePointCount(v)} characters`);
  }
  return v;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Bytes of a base64 (or base64url) text, or undefined when it is not valid base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64_RE.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, "");
  if (unpadded.length % 4 === 1 || (text.length !== unpadded.length && text.length % 4 !== 0)) {
    return undefined;
  }
  const buf = Buffer.from(unpadded, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** BYTES (width undefined) or BINARY(width) (exactly `width` bytes): Uint8Array or base64 string. */
export function toByteArray(v: unknown, width?: number): Uint8Array {
  const what = width === undefined ? "bytes (Uint8Array or base64 string)" : `exactly ${width} bytes`;
  let bytes: Uint8Array | undefined;
  if (v instanceof Uint8Array) bytes = v;
  else if (typeof v === "string") {
    bytes = decodeBase64(v);
    if (bytes === undefined) throw new ValueMismatch(what, v, "not valid base64");
  } else throw new ValueMismatch(what, v);
  if (width !== undefined && bytes.byteLength !== width) {
    throw new ValueMismatch(what, v, `${bytes.byteLength} bytes`);
  }
  return bytes;
}

// ---- rows ---------------------------------------------------------------------------------------

/** A row given by column name, or by column index. */
export type RowInput = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * The values of `row` in column order: an array is taken as is (its length must equal the column
 * count); an object is read by column name (absent → null) and may not name unknown columns.
 */
export function valuesOf(columns: readonly Column[], row: RowInput): unknown[] {
  if (Array.isArray(row)) {
    if (row.length !== columns.length) {
      throw new FlussError(
        Errors.SCHEMA_MISMATCH,
        `row has ${row.length} values, the schema has ${columns.length} columns`,
      );
    }
    return row as unknown[];
  }
  if (typeof row !== "object" || row === null) {
    throw new FlussError(Errors.SCHEMA_MISMATCH, `expected a row object, got ${describeValue(row)}`);
  }
  const record = row as Readonly<Record<string, unknown>>;
  const out = new Array<unknown>(columns.length);
  let found = 0;
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i]!.name;
    if (Object.hasOwn(record, name)) {
      out[i] = record[name];
      found++;
    } else out[i] = null;
  }
  if (found !== Object.keys(record).length) {
    const known = new Set(columns.map((c) => c.name));
    const unknown = Object.keys(record).find((k) => !known.has(k));
    throw new FlussError(
      Errors.SCHEMA_MISMATCH,
      `unknown column '${unknown}' (columns: ${columns.map((c) => c.name).join(", ")})`,
    );
  }
  return out;
}
