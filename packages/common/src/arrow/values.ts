// Value conversions shared by the batch builder and the row reader: decimal text ↔ unscaled
// bigint (128-bit two's complement words), calendar dates ↔ days since epoch, times of day ↔
// nanoseconds of day, ISO-8601 timestamps → epoch milliseconds + nanoseconds of the millisecond,
// and strict base64. Parsers return `undefined` (or throw a plain Error with the reason) for bad
// input; the callers turn that into SCHEMA_MISMATCH naming column, row and value.
// Invariants: all calendar math is proleptic Gregorian in UTC; no conversion depends on the
// process time zone.

export const MS_PER_DAY = 86_400_000;
export const NANOS_PER_DAY = 86_400_000_000_000;

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 76; i++, p *= 10n) POW10.push(p);

export function pow10n(n: number): bigint {
  return POW10[n]!;
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Unscaled value of a decimal text at `scale`, e.g. ("-12.5", 2) → -1250n. Throws when the text
 * is not a number or has non-zero digits beyond `scale` fraction digits.
 */
export function parseDecimalText(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  const intPart = m?.[2] ?? "";
  const fracPart = m?.[3] ?? "";
  if (!m || intPart.length + fracPart.length === 0) throw new Error("not a decimal number");
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  let digits = intPart + fracPart;
  let fractionDigits = fracPart.length - exponent;
  if (fractionDigits > scale) {
    const extra = fractionDigits - scale;
    const dropped = digits.slice(Math.max(0, digits.length - extra));
    if (/[1-9]/.test(dropped)) throw new Error(`has more than ${scale} fraction digits`);
    digits = digits.slice(0, Math.max(0, digits.length - extra));
    fractionDigits = scale;
  }
  if (scale - fractionDigits > 76) throw new Error("is too large");
  let unscaled = BigInt(digits === "" ? "0" : digits) * pow10n(scale - fractionDigits);
  if (m[1] === "-") unscaled = -unscaled;
  return unscaled;
}

/** Number of decimal digits of |v| (0 has one digit). */
export function digitCount(v: bigint): number {
  return (v < 0n ? -v : v).toString().length;
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

// ---- calendar ----------------------------------------------------------------------------------

/** Epoch ms of a UTC calendar time, or undefined when a field is out of range (e.g. Feb 30). */
export function utcMillis(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1) return undefined;
  return date.getTime();
}

const DATE_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of "YYYY-MM-DD", or undefined. */
export function parseDateText(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const ms = utcMillis(Number(m[1]), Number(m[2]), Number(m[3]));
  return ms === undefined ? undefined : ms / MS_PER_DAY;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function yearText(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return (y < 0 ? "-" : "+") + pad(Math.abs(y), 6);
}

/** "YYYY-MM-DD" of days since epoch. */
export function formatDate(days: number): string {
  const d = new Date(days * MS_PER_DAY);
  return `${yearText(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/** Nanoseconds of day of "HH:MM[:SS[.fffffffff]]", or undefined. */
export function parseTimeText(text: string): number | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const frac = m[4] === undefined ? 0 : Number(m[4].padEnd(9, "0"));
  return ((h * 60 + mi) * 60 + s) * 1e9 + frac;
}

/** "HH:MM:SS" plus `precision` fraction digits, of nanoseconds of day. */
export function formatTime(nanosOfDay: number, precision: number): string {
  const secs = Math.floor(nanosOfDay / 1e9);
  const frac = nanosOfDay - secs * 1e9;
  const base = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  if (precision === 0) return base;
  return `${base}.${pad(frac, 9).slice(0, precision)}`;
}

/** An instant split as epoch milliseconds (floor) plus nanoseconds within that millisecond. */
export interface EpochParts {
  ms: number;
  nanos: number;
}

const TIMESTAMP_RE =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parse an ISO-8601 date-time ("2024-05-01T12:00:00.123456Z", "2024-05-01 12:00:00+02:00",
 * "2024-05-01"). Without a zone the text is UTC. Returns undefined when malformed; `hasOffset`
 * tells whether a non-UTC offset was given.
 */
export function parseTimestampText(text: string): (EpochParts & { hasOffset: boolean }) | undefined {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return undefined;
  const base = utcMillis(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  if (base === undefined) return undefined;
  const fracNanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  const offsetMs = zoneOffsetMs(m[8]);
  if (offsetMs === undefined) return undefined;
  const ms = base + Math.floor(fracNanos / 1e6) - offsetMs;
  return { ms, nanos: fracNanos % 1e6, hasOffset: offsetMs !== 0 };
}

function zoneOffsetMs(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const h = Number(digits.slice(0, 2));
  const mi = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (h > 18 || mi > 59) return undefined;
  return sign * (h * 60 + mi) * 60_000;
}

// ---- base64 -----------------------------------------------------------------------------------

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
