// JS value ↔ internal value converters for DATE, TIME(p), TIMESTAMP(p) and TIMESTAMP_LTZ(p),
// shared by the Arrow batch builder and the row writers (so both accept the same inputs and refuse
// them with the same ValueMismatch text), and the text forms the readers print.
// Internal forms: DATE = int days since 1970-01-01; TIME = nanoseconds of the day floored to the
// precision (toNanosOfDay; Arrow keeps them in the precision's unit) or milliseconds of the day
// (toMillisOfDay; all Fluss's row formats store); TIMESTAMP / TIMESTAMP_LTZ = { epochMs (long),
// nanoOfMs (0..999999) } floored to the precision (the epoch in the precision's unit for Arrow).
// Accepted inputs: DATE "YYYY-MM-DD", a Date (its UTC day) or integer days; TIME
// "HH:MM[:SS[.fffffffff]]" or integer ms of the day; TIMESTAMP a Date, an ISO-8601 string (no zone
// = UTC; TIMESTAMP without time zone refuses a non-UTC offset), a safe-integer epoch-ms number, or
// a bigint epoch in the precision's unit (p=0 seconds, 1-3 ms, 4-6 µs, 7-9 ns).
// Invariants: values are floored to the column precision (TIME(1) keeps tenths); every input form
// of the same instant gives the same internal value; epoch milliseconds are always safe integers;
// calendar math is proleptic Gregorian in UTC and never depends on the process time zone.

import { ValueMismatch } from "./mismatch.ts";
import { INT64_MAX, INT64_MIN } from "./numeric.ts";

export const MS_PER_DAY = 86_400_000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

function floorTo(v: number, step: number): number {
  return step === 1 ? v : Math.floor(v / step) * step;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

// ---- calendar -----------------------------------------------------------------------------------

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), or undefined if invalid. */
export function daysFromCivil(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = floorDiv(153 * mp + 2, 5) + day - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Calendar date of days since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const DATE_RE = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;

/** Days since epoch of "YYYY-MM-DD" (years may be signed / 6 digits), or undefined. */
export function parseDateText(text: string): number | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

function yearText(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return (y < 0 ? "-" : "+") + pad(Math.abs(y), 6);
}

/** "YYYY-MM-DD" of days since epoch. */
export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${yearText(year)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** DATE input → int days since epoch. */
export function toEpochDays(v: unknown): number {
  let days: number | undefined;
  if (typeof v === "string") days = parseDateText(v);
  else if (v instanceof Date && !Number.isNaN(v.getTime())) days = floorDiv(v.getTime(), MS_PER_DAY);
  else if (typeof v === "number" && Number.isInteger(v)) days = v;
  if (days === undefined || days < INT32_MIN || days > INT32_MAX) {
    throw new ValueMismatch("a date ('YYYY-MM-DD', Date or days since 1970-01-01)", v);
  }
  return days;
}

// ---- time of day --------------------------------------------------------------------------------

const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/** Nanoseconds of the day of "HH:MM[:SS[.fffffffff]]", or undefined. */
export function parseTimeText(text: string): number | undefined {
  const m = TIME_RE.exec(text.trim());
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const frac = m[4] === undefined ? 0 : Number(m[4].padEnd(9, "0"));
  return ((h * 60 + mi) * 60 + s) * 1e9 + frac;
}

const TIME_EXPECTED = "a time of day ('HH:MM:SS[.fff]' or milliseconds of the day)";

/** TIME(precision) input → nanoseconds of the day, floored to the precision. */
export function toNanosOfDay(v: unknown, precision: number): number {
  let nanos: number | undefined;
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 0 && v < MS_PER_DAY) nanos = v * 1e6;
  } else if (typeof v === "string") nanos = parseTimeText(v);
  if (nanos === undefined) throw new ValueMismatch(TIME_EXPECTED, v);
  return precision >= 9 ? nanos : floorTo(nanos, 10 ** (9 - precision));
}

/** TIME(precision) input → int milliseconds of the day (what Fluss rows store), floored. */
export function toMillisOfDay(v: unknown, precision: number): number {
  return floorDiv(toNanosOfDay(v, precision), 1e6);
}

/** "HH:MM:SS" plus `precision` fraction digits, of nanoseconds of the day. */
export function formatTimeNanos(nanosOfDay: number, precision: number): string {
  const secs = floorDiv(nanosOfDay, 1e9);
  const frac = nanosOfDay - secs * 1e9;
  const base = `${pad(floorDiv(secs, 3600), 2)}:${pad(floorDiv(secs, 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  if (precision <= 0) return base;
  return `${base}.${pad(frac, 9).slice(0, precision)}`;
}

/** "HH:MM:SS" plus `precision` fraction digits, of milliseconds of the day. */
export function formatTime(millisOfDay: number, precision: number): string {
  return formatTimeNanos(millisOfDay * 1e6, precision);
}

// ---- timestamps ---------------------------------------------------------------------------------

/** An instant as Fluss's TimestampNtz / TimestampLtz hold it. */
export interface TimestampParts {
  /** Milliseconds since epoch (floor). */
  epochMs: number;
  /** Nanoseconds within that millisecond, 0..999999. */
  nanoOfMs: number;
}

/** Fluss stores TIMESTAMP(p) as epoch ms alone when p <= 3, else ms plus nano-of-ms. */
export function isCompactTimestamp(precision: number): boolean {
  return precision <= 3;
}

const TIMESTAMP_RE =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

function zoneOffsetMs(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const h = Number(digits.slice(0, 2));
  const mi = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (h > 18 || mi > 59) return undefined;
  return sign * (h * 60 + mi) * 60_000;
}

/**
 * Parse ISO-8601 ("2024-05-01T12:00:00.123456Z", "2024-05-01 12:00:00+02:00", "2024-05-01").
 * Without a zone the text is UTC. `hasOffset` tells whether a non-UTC offset was given.
 */
export function parseTimestampText(text: string): (TimestampParts & { hasOffset: boolean }) | undefined {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return undefined;
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const h = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const s = Number(m[6] ?? 0);
  if (days === undefined || h > 23 || mi > 59 || s > 59) return undefined;
  const offsetMs = zoneOffsetMs(m[8]);
  if (offsetMs === undefined) return undefined;
  const fracNanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  const epochMs = days * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000 + floorDiv(fracNanos, 1e6) - offsetMs;
  return { epochMs, nanoOfMs: fracNanos % 1e6, hasOffset: offsetMs !== 0 };
}

/** Units per second of a timestamp precision: 1 (p=0), 1e3 (1-3), 1e6 (4-6), 1e9 (7-9). */
export function timestampUnitsPerSecond(precision: number): number {
  if (precision === 0) return 1;
  if (precision <= 3) return 1e3;
  if (precision <= 6) return 1e6;
  return 1e9;
}

/** Parts of a bigint epoch in the precision's unit (see timestampUnitsPerSecond). */
export function timestampPartsFromUnits(units: bigint, precision: number): TimestampParts {
  const ups = timestampUnitsPerSecond(precision);
  let ms: bigint;
  let nanoOfMs = 0;
  if (ups === 1) ms = units * 1000n;
  else if (ups === 1e3) ms = units;
  else {
    const perMs = ups === 1e6 ? 1000n : 1_000_000n;
    ms = units / perMs;
    let rem = units % perMs;
    if (rem < 0n) {
      rem += perMs;
      ms -= 1n;
    }
    nanoOfMs = Number(rem) * (ups === 1e6 ? 1000 : 1);
  }
  return { epochMs: Number(ms), nanoOfMs };
}

/** Bigint epoch in the precision's unit of timestamp parts (floored to that unit). */
export function timestampPartsToUnits(parts: TimestampParts, precision: number): bigint {
  const ups = timestampUnitsPerSecond(precision);
  if (ups === 1) return BigInt(floorDiv(parts.epochMs, 1000));
  if (ups === 1e3) return BigInt(parts.epochMs);
  if (ups === 1e6) return BigInt(parts.epochMs) * 1000n + BigInt(floorDiv(parts.nanoOfMs, 1000));
  return BigInt(parts.epochMs) * 1_000_000n + BigInt(parts.nanoOfMs);
}

/** Floor parts to the precision (p digits of fractional seconds). */
export function floorTimestamp(parts: TimestampParts, precision: number): TimestampParts {
  if (precision >= 9) return parts;
  if (precision >= 3) {
    return { epochMs: parts.epochMs, nanoOfMs: floorTo(parts.nanoOfMs, 10 ** (9 - precision)) };
  }
  return { epochMs: floorTo(parts.epochMs, 10 ** (3 - precision)), nanoOfMs: 0 };
}

export const TIMESTAMP_EXPECTED =
  "a timestamp (Date, ISO-8601 string, epoch milliseconds or bigint in the column unit)";

function timestampTextParts(v: string, ltz: boolean): TimestampParts {
  const parsed = parseTimestampText(v);
  if (parsed === undefined) throw new ValueMismatch(TIMESTAMP_EXPECTED, v);
  if (!Number.isSafeInteger(parsed.epochMs)) throw new ValueMismatch(TIMESTAMP_EXPECTED, v, "out of range");
  if (parsed.hasOffset && !ltz) {
    throw new ValueMismatch(
      TIMESTAMP_EXPECTED,
      v,
      "TIMESTAMP has no time zone; drop the UTC offset or use TIMESTAMP_LTZ",
    );
  }
  return { epochMs: parsed.epochMs, nanoOfMs: parsed.nanoOfMs };
}

function timestampUnitParts(v: bigint, precision: number): TimestampParts {
  const parts = v >= INT64_MIN && v <= INT64_MAX ? timestampPartsFromUnits(v, precision) : undefined;
  if (parts === undefined || !Number.isSafeInteger(parts.epochMs)) {
    throw new ValueMismatch(TIMESTAMP_EXPECTED, v, "out of range");
  }
  return parts;
}

/**
 * Epoch milliseconds of a Date or a number input (the common forms, no allocation), or
 * undefined for any other input. Refuses an invalid Date or a number that is not a safe integer.
 */
export function epochMillisOf(v: unknown): number | undefined {
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return v;
    throw new ValueMismatch(TIMESTAMP_EXPECTED, v, "epoch milliseconds must be a safe integer");
  }
  if (!(v instanceof Date)) return undefined;
  const ms = v.getTime();
  if (Number.isNaN(ms)) throw new ValueMismatch(TIMESTAMP_EXPECTED, v);
  return ms;
}

/** TIMESTAMP(p) / TIMESTAMP_LTZ(p) input → parts, floored to the precision. */
export function toTimestampParts(v: unknown, precision: number, ltz: boolean): TimestampParts {
  let parts: TimestampParts;
  const ms = epochMillisOf(v);
  if (ms !== undefined) parts = { epochMs: ms, nanoOfMs: 0 };
  else if (typeof v === "string") parts = timestampTextParts(v, ltz);
  else if (typeof v === "bigint") parts = timestampUnitParts(v, precision);
  else throw new ValueMismatch(TIMESTAMP_EXPECTED, v);
  return floorTimestamp(parts, precision);
}
