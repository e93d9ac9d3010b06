// JS value → internal value converters for BOOLEAN, the integer types, FLOAT / DOUBLE and
// DECIMAL, plus the decimal codecs every format needs: decimal text ↔ unscaled bigint, 128-bit
// little-endian words (Arrow Decimal128) and Java BigInteger.toByteArray bytes (non-compact
// DECIMAL in COMPACTED / INDEXED rows). Shared by the Arrow batch builder and the row writers, so
// both accept exactly the same inputs and refuse them with the same ValueMismatch text.
// Accepted inputs: BOOLEAN boolean; TINYINT / SMALLINT / INTEGER integer number, bigint or integer
// string (range-checked); BIGINT safe-integer number, bigint or integer string (int64 range);
// FLOAT / DOUBLE number or numeric string; DECIMAL(p, s) string, finite number or bigint, with no
// non-zero digit beyond `s` fraction digits and at most `p` digits in all (never rounded).
// Invariants: pure functions; never depend on locale or process state; never mutate input.

import { ValueMismatch } from "./mismatch.ts";

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

export function toBoolean(v: unknown): boolean {
  if (v === true || v === false) return v;
  throw new ValueMismatch("a boolean", v);
}

/** TINYINT / SMALLINT / INTEGER (any int32 sub-range): integer number, bigint or integer string. */
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

/** BIGINT: a number when the value is a safe integer, else a bigint in int64 range. */
export function toInt64(v: unknown): number | bigint {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  let x: bigint | undefined;
  if (typeof v === "bigint") x = v;
  else if (typeof v === "string" && INTEGER_RE.test(v.trim())) x = BigInt(v.trim());
  else if (typeof v === "number" && Number.isInteger(v)) {
    throw new ValueMismatch(
      "a bigint or a safe integer",
      v,
      "beyond 2^53 a number loses digits; pass a bigint or a string",
    );
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

/** Unscaled value of a decimal text at `scale`, or the reason it has none. */
function unscaledOfText(text: string, scale: number): bigint | string {
  const m = DECIMAL_RE.exec(text.trim());
  const intPart = m?.[2] ?? "";
  const fracPart = m?.[3] ?? "";
  if (!m || intPart.length + fracPart.length === 0) return "not a decimal number";
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  let digits = intPart + fracPart;
  let fractionDigits = fracPart.length - exponent;
  if (fractionDigits > scale) {
    const extra = fractionDigits - scale;
    const dropped = digits.slice(Math.max(0, digits.length - extra));
    if (/[1-9]/.test(dropped)) {
      return `more than ${scale} fraction digits; at most ${scale} fraction digits fit without rounding`;
    }
    digits = digits.slice(0, Math.max(0, digits.length - extra));
    fractionDigits = scale;
  }
  if (!/[1-9]/.test(digits)) return 0n;
  if (scale - fractionDigits > 76) return "too large";
  const unscaled = BigInt(digits) * pow10n(scale - fractionDigits);
  return m[1] === "-" ? -unscaled : unscaled;
}

/**
 * Unscaled value of a decimal text at `scale`, e.g. ("-12.5", 2) → -1250n. Refuses
 * (ValueMismatch) text that is not a number or has a non-zero digit beyond `scale` fraction digits.
 */
export function parseDecimalText(text: string, scale: number): bigint {
  const r = unscaledOfText(text, scale);
  if (typeof r === "string") throw new ValueMismatch(`a decimal number of scale ${scale}`, text, r);
  return r;
}

/** Number of decimal digits of |v| (0 has one digit). */
export function digitCount(v: bigint): number {
  return (v < 0n ? -v : v).toString().length;
}

/** DECIMAL(precision, scale): string, finite number or bigint → unscaled bigint. */
export function toUnscaledDecimal(v: unknown, precision: number, scale: number): bigint {
  const expected = `a decimal (string, number or bigint) fitting DECIMAL(${precision}, ${scale})`;
  let unscaled: bigint;
  if (typeof v === "bigint") unscaled = v * pow10n(scale);
  else if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "string") {
    const r = unscaledOfText(String(v), scale);
    if (typeof r === "string") throw new ValueMismatch(expected, v, r);
    unscaled = r;
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

const MASK32 = 0xffffffffn;

/** Write a value as 128-bit little-endian two's complement into 4 words at `words[at..]`. */
export function writeI128(words: Uint32Array, at: number, v: bigint): void {
  const u = BigInt.asUintN(128, v);
  words[at] = Number(u & MASK32);
  words[at + 1] = Number((u >> 32n) & MASK32);
  words[at + 2] = Number((u >> 64n) & MASK32);
  words[at + 3] = Number(u >> 96n);
}

/** Inverse of writeI128. */
export function readI128(words: Uint32Array, at: number): bigint {
  const w0 = words[at]!;
  const w1 = words[at + 1]!;
  const w2 = words[at + 2]!;
  const w3 = words[at + 3]!;
  // Fast paths: values within ±2^53 are exact as doubles.
  if (w3 === 0 && w2 === 0 && w1 < 0x200000) return BigInt(w1 * 4294967296 + w0);
  if (w3 === 0xffffffff && w2 === 0xffffffff && w1 >= 0xffe00000) {
    return BigInt((w1 - 4294967296) * 4294967296 + w0);
  }
  const u = BigInt(w0) | (BigInt(w1) << 32n) | (BigInt(w2) << 64n) | (BigInt(w3) << 96n);
  return BigInt.asIntN(128, u);
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
