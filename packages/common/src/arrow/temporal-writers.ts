// Column writers of the batch builder for DATE, TIME(p), TIMESTAMP(p) and TIMESTAMP_LTZ(p).
// DATE: "YYYY-MM-DD", a Date (its UTC calendar day) or an integer number of days since epoch.
// TIME(p): "HH:MM:SS[.fffffffff]" or an integer number of milliseconds of the day.
// TIMESTAMP / TIMESTAMP_LTZ: a Date, an ISO-8601 string, an integer number (epoch ms) or a bigint
// (epoch in the column's Arrow unit). Strings without a zone are UTC; a TIMESTAMP (without time
// zone) refuses a non-UTC offset, which only makes sense for TIMESTAMP_LTZ.
// Invariants: values are floored to the column's precision (e.g. TIME(1) keeps tenths) and stored
// in the Arrow unit of that precision, so every input form of the same instant stores the same
// number; numbers stay doubles while exact (< 2^53), beyond that the math switches to bigint.

import type { DataType as ArrowType, Data } from "apache-arrow";
import { makeColumnData, type TimeUnitName, timeUnitOf, unitsPerSecond } from "./arrow-types.ts";
import { type ColumnInput, floorTo, floorToBig, INT64_MAX, INT64_MIN, setInt64 } from "./column-input.ts";
import { type EpochParts, MS_PER_DAY, parseDateText, parseTimestampText, parseTimeText } from "./values.ts";

function finish(c: ColumnInput, type: ArrowType, data: ArrayBufferView): Data {
  return makeColumnData({ type, length: c.n, ...c.finish(), data });
}

export function writeDate(c: ColumnInput, type: ArrowType): Data {
  const { rows, name, n } = c;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) c.nullAt(i);
    else out[i] = daysOf(c, i, v);
  }
  return finish(c, type, out);
}

function daysOf(c: ColumnInput, i: number, v: unknown): number {
  let days: number | undefined;
  if (typeof v === "string") days = parseDateText(v);
  else if (v instanceof Date && !Number.isNaN(v.getTime())) days = Math.floor(v.getTime() / MS_PER_DAY);
  else if (typeof v === "number" && Number.isInteger(v)) days = v;
  if (days === undefined || days < -2147483648 || days > 2147483647) {
    throw c.fail(i, "a date ('YYYY-MM-DD', Date or days since 1970-01-01)", v);
  }
  return days;
}

/** Nanoseconds per unit (1e9 for SECOND ... 1 for NANOSECOND). */
function nanosPerUnit(unit: TimeUnitName): number {
  return 1e9 / unitsPerSecond(unit);
}

export function writeTime(c: ColumnInput, type: ArrowType, precision: number): Data {
  const { rows, name, n } = c;
  const unit = timeUnitOf(precision);
  const wide = unit === "MICROSECOND" || unit === "NANOSECOND";
  const out = wide ? new BigInt64Array(n) : new Int32Array(n);
  const halves = new Int32Array(out.buffer);
  const step = 10 ** (9 - precision);
  const perUnit = nanosPerUnit(unit);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) {
      c.nullAt(i);
      continue;
    }
    const value = floorTo(nanosOfDayOf(c, i, v), step) / perUnit;
    if (wide) setInt64(halves, i, value);
    else halves[i] = value;
  }
  return finish(c, type, out);
}

function nanosOfDayOf(c: ColumnInput, i: number, v: unknown): number {
  let nanos: number | undefined;
  if (typeof v === "string") nanos = parseTimeText(v);
  else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < MS_PER_DAY) nanos = v * 1e6;
  if (nanos === undefined) throw c.fail(i, "a time of day ('HH:MM:SS[.fff]' or milliseconds of the day)", v);
  return nanos;
}

export function writeTimestamp(c: ColumnInput, type: ArrowType, precision: number, ltz: boolean): Data {
  const { rows, name, n } = c;
  const unit = timeUnitOf(precision);
  const out = new BigInt64Array(n);
  const halves = new Int32Array(out.buffer);
  const stepUnits = 10 ** (Math.ceil(precision / 3) * 3 - precision);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) {
      c.nullAt(i);
      continue;
    }
    const value = unitValueOf(c, i, v, ltz, unit, stepUnits);
    if (typeof value === "number") setInt64(halves, i, value);
    else out[i] = value;
  }
  return finish(c, type, out);
}

function epochPartsOf(c: ColumnInput, i: number, v: unknown, ltz: boolean): EpochParts {
  const expected = "a timestamp (Date, ISO-8601 string, epoch milliseconds or bigint in the column unit)";
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw c.fail(i, expected, v);
    return { ms, nanos: 0 };
  }
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw c.fail(i, expected, v, "epoch milliseconds must be an integer");
    return { ms: v, nanos: 0 };
  }
  if (typeof v === "string") {
    const parts = parseTimestampText(v);
    if (parts === undefined) throw c.fail(i, expected, v);
    if (parts.hasOffset && !ltz) {
      throw c.fail(i, expected, v, "TIMESTAMP has no time zone; drop the UTC offset or use TIMESTAMP_LTZ");
    }
    return parts;
  }
  throw c.fail(i, expected, v);
}

/** The stored value: epoch in `unit`, floored to a multiple of `stepUnits` (the precision). */
function unitValueOf(
  c: ColumnInput,
  i: number,
  v: unknown,
  ltz: boolean,
  unit: TimeUnitName,
  stepUnits: number,
): number | bigint {
  if (typeof v === "bigint") {
    if (v < INT64_MIN || v > INT64_MAX) throw c.fail(i, "a 64-bit epoch value", v, "out of range");
    return floorToBig(v, BigInt(stepUnits));
  }
  const { ms, nanos } = epochPartsOf(c, i, v, ltz);
  switch (unit) {
    case "SECOND":
      return Math.floor(ms / 1000);
    case "MILLISECOND":
      return floorTo(ms, stepUnits);
    case "MICROSECOND":
      if (Math.abs(ms) < 9e12) return floorTo(ms * 1000 + Math.floor(nanos / 1000), stepUnits);
      return floorToBig(BigInt(ms) * 1000n + BigInt(Math.floor(nanos / 1000)), BigInt(stepUnits));
    case "NANOSECOND":
      return floorToBig(BigInt(ms) * 1_000_000n + BigInt(nanos), BigInt(stepUnits));
  }
}
