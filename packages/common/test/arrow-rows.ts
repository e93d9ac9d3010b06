// Test support for the Arrow batch builder: a schema with every column type, fast-check
// arbitraries of rows in every accepted input form paired with the row readRows must give back
// (computed independently here, not with the converters under test), and bad values per column.

import type { RecordBatch } from "apache-arrow";
import fc from "fast-check";
import { expect } from "vitest";
import {
  encodeRecordBatchMessage,
  type InputRow,
  NO_COMPRESSION,
  parseSchema,
  type RowValue,
  toArrowSchema,
} from "../src/index.ts";

export const schema = parseSchema(
  [
    "id BIGINT NOT NULL",
    "b BOOLEAN",
    "i8 TINYINT",
    "i16 SMALLINT",
    "i32 INT",
    "i64 BIGINT",
    "f32 FLOAT",
    "f64 DOUBLE",
    "d5 DECIMAL(5, 2)",
    "d38 DECIMAL(38, 10)",
    "s STRING",
    "c CHAR(3)",
    "bytes BYTES",
    "bin BINARY(4)",
    "day DATE",
    "t0 TIME(0)",
    "t3 TIME(3)",
    "t6 TIME(6)",
    "t9 TIME(9)",
    "ts0 TIMESTAMP(0)",
    "ts2 TIMESTAMP(2)",
    "ts3 TIMESTAMP(3)",
    "ts6 TIMESTAMP(6)",
    "ts9 TIMESTAMP(9)",
    "ltz3 TIMESTAMP_LTZ(3)",
    "ltz9 TIMESTAMP_LTZ(9)",
  ].join(", "),
);

/** An input value and what readRows gives back for it. */
type Pair = readonly [unknown, RowValue];

const pad = (n: number | bigint, w: number): string => String(n).padStart(w, "0");

function decimalText(unscaled: bigint, scale: number): string {
  const digits = pad(unscaled < 0n ? -unscaled : unscaled, scale + 1);
  const int = digits.slice(0, digits.length - scale);
  return `${unscaled < 0n ? "-" : ""}${int}.${digits.slice(digits.length - scale)}`;
}

function intPairs(min: number, max: number): fc.Arbitrary<Pair> {
  return fc
    .tuple(fc.integer({ min, max }), fc.nat(3))
    .map(([v, f]): Pair => [[v, BigInt(v), `${v}`, ` ${v} `][f], v]);
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const bigintPair = fc.tuple(int64, fc.nat(2)).map(([v, f]): Pair => {
  if (f === 0) return [`${v}`, v];
  return [f === 2 && Number.isSafeInteger(Number(v)) ? Number(v) : v, v];
});

function floatPair(arb: fc.Arbitrary<number>): fc.Arbitrary<Pair> {
  return fc.tuple(arb, fc.boolean()).map(([v, asText]): Pair => {
    const text = String(v);
    return [asText && Object.is(Number(text), v) ? text : v, v];
  });
}

const d5Pair = fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat(2)).map(([u, f]): Pair => {
  const expected = decimalText(BigInt(u), 2);
  if (f === 1) return [u / 100, expected];
  if (f === 2 && u % 100 === 0) return [BigInt(u / 100), expected];
  return [`${expected}0`, expected];
});

const d38Pair = fc
  .tuple(fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }), fc.boolean())
  .map(([u, exp]): Pair => [exp ? `${u}e-10` : decimalText(u, 10), decimalText(u, 10)]);

const wellFormed = (s: string): boolean => Buffer.from(s, "utf8").toString("utf8") === s;
const stringPair = fc
  .string({ unit: "binary", maxLength: 40 })
  .filter(wellFormed)
  .map((s): Pair => [s, s]);
const charPair = fc
  .string({ unit: "binary", maxLength: 3 })
  .filter(wellFormed)
  .map((s): Pair => [s, s]);

function bytesPair(min: number, max: number): fc.Arbitrary<Pair> {
  return fc.tuple(fc.uint8Array({ minLength: min, maxLength: max }), fc.nat(2)).map(([b, f]): Pair => {
    const input = [b, Buffer.from(b).toString("base64"), Buffer.from(b)][f];
    return [input, new Uint8Array(b)];
  });
}

const MS_DAY = 86_400_000;
const dateText = (days: number): string => new Date(days * MS_DAY).toISOString().slice(0, 10);
const datePair = fc
  .tuple(fc.integer({ min: -719162, max: 2932896 }), fc.integer({ min: 0, max: MS_DAY - 1 }), fc.nat(2))
  .map(([days, ms, f]): Pair => {
    const input = [days, dateText(days), new Date(days * MS_DAY + ms)][f];
    return [input, dateText(days)];
  });

function timeText(nanos: number, precision: number): string {
  const s = Math.floor(nanos / 1e9);
  const base = `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}`;
  return precision === 0 ? base : `${base}.${pad(nanos % 1e9, 9).slice(0, precision)}`;
}

function timePair(precision: number): fc.Arbitrary<Pair> {
  return fc
    .tuple(fc.integer({ min: 0, max: MS_DAY - 1 }), fc.integer({ min: 0, max: 999_999 }), fc.boolean())
    .map(([ms, sub, asText]): Pair => {
      const nanos = ms * 1e6 + (asText ? sub : 0);
      return [asText ? timeText(nanos, 9) : ms, timeText(nanos, precision)];
    });
}

/** TIMESTAMP(p): ms in [minMs, maxMs] plus sub-ms nanos, as a Date, ms number, ISO text or bigint. */
function timestampPair(precision: number, minMs: number, maxMs: number): fc.Arbitrary<Pair> {
  const perUnit = precision === 0 ? 1000 : precision <= 3 ? 1 : 0;
  const floorMs = precision >= 3 ? 1 : 10 ** (3 - precision);
  return fc
    .tuple(fc.integer({ min: minMs, max: maxMs }), fc.integer({ min: 0, max: 999_999 }), fc.nat(3))
    .map(([ms, sub, f]): Pair => {
      const expected = new Date(Math.floor(ms / floorMs) * floorMs);
      if (f === 0) return [ms, expected];
      if (f === 1) return [new Date(ms), expected];
      if (f === 2) return [`${new Date(ms).toISOString().slice(0, -1)}${pad(sub, 6)}Z`, expected];
      if (perUnit > 0) return [BigInt(Math.floor(ms / perUnit)), expected];
      const units =
        precision <= 6 ? BigInt(ms) * 1000n + BigInt(sub % 1000) : BigInt(ms) * 1_000_000n + BigInt(sub);
      return [units, expected];
    });
}

const MIN_MS = -62135596800000; // 0001-01-01
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999
const NS_MS = 9223372036853; // int64 nanoseconds reach ±9223372036854.775 ms

const columnPairs: Record<string, fc.Arbitrary<Pair>> = {
  id: bigintPair,
  b: fc.boolean().map((v): Pair => [v, v]),
  i8: intPairs(-128, 127),
  i16: intPairs(-32768, 32767),
  i32: intPairs(-2147483648, 2147483647),
  i64: bigintPair,
  f32: floatPair(fc.float()),
  f64: floatPair(fc.double()),
  d5: d5Pair,
  d38: d38Pair,
  s: stringPair,
  c: charPair,
  bytes: bytesPair(0, 16),
  bin: bytesPair(4, 4),
  day: datePair,
  t0: timePair(0),
  t3: timePair(3),
  t6: timePair(6),
  t9: timePair(9),
  ts0: timestampPair(0, MIN_MS, MAX_MS),
  ts2: timestampPair(2, MIN_MS, MAX_MS),
  ts3: timestampPair(3, MIN_MS, MAX_MS),
  ts6: timestampPair(6, MIN_MS, MAX_MS),
  ts9: timestampPair(9, -NS_MS, NS_MS),
  ltz3: timestampPair(3, MIN_MS, MAX_MS),
  ltz9: timestampPair(9, -NS_MS, NS_MS),
};

/** A generated row: the input given to the builder and the row readRows must return. */
export interface RowCase {
  readonly input: InputRow;
  readonly expected: Record<string, RowValue>;
}

type Slot = { kind: "value"; pair: Pair } | { kind: "null" | "undefined" | "missing" };

function slotOf(name: string, arb: fc.Arbitrary<Pair>): fc.Arbitrary<Slot> {
  const value = arb.map((pair): Slot => ({ kind: "value", pair }));
  if (name === "id") return value;
  const nulls = fc.constantFrom<Slot>({ kind: "null" }, { kind: "undefined" }, { kind: "missing" });
  return fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: nulls, weight: 1 });
}

export const rowCase: fc.Arbitrary<RowCase> = fc
  .record(Object.fromEntries(Object.entries(columnPairs).map(([k, a]) => [k, slotOf(k, a)])))
  .map((slots) => {
    const input: Record<string, unknown> = {};
    const expected: Record<string, RowValue> = {};
    for (const c of schema.columns) {
      const slot = slots[c.name]!;
      expected[c.name] = slot.kind === "value" ? slot.pair[1] : null;
      if (slot.kind === "value") input[c.name] = slot.pair[0];
      else if (slot.kind !== "missing") input[c.name] = slot.kind === "null" ? null : undefined;
    }
    return { input, expected };
  });

/** Values every writer must refuse, per column (NOT NULL aside). */
export const badValues: Record<string, readonly unknown[]> = {
  id: ["x", 2 ** 60, null],
  b: ["true", 1],
  i8: [128, 1.5, "1e3"],
  i16: [40000, {}],
  i32: [2 ** 31, "abc"],
  i64: [2 ** 60, 2n ** 63n, []],
  f32: ["abc", {}],
  f64: [true, "1,5"],
  d5: ["1234.5", "1.234", Number.NaN, "1e1000"],
  d38: ["abc", Symbol.for("x")],
  s: [5, new Uint8Array(1)],
  c: ["abcd", 1],
  bytes: ["not base64!", 5],
  bin: [new Uint8Array(3), "AAAA"],
  day: ["2023-02-29", 1.5, new Date(Number.NaN)],
  t0: ["24:00:00", -1],
  t3: [86_400_000, "x"],
  t6: ["12:00:00.1234567890", 1.5],
  t9: [{}, "1:00"],
  ts0: ["yesterday", 1.5],
  ts2: [new Date(Number.NaN), Number.MAX_VALUE],
  ts3: ["2024-01-01T10:00:00+02:00", 2n ** 62n],
  ts6: [{}, "2024-02-30"],
  ts9: [2n ** 63n, "x"],
  ltz3: [true, "2024-01-01T25:00:00Z"],
  ltz9: [[], 0.5],
};

/** Values only Arrow refuses: TIMESTAMP(7..9) holds int64 nanoseconds (years 1677 to 2262). */
export const arrowOnlyBadValues: Record<string, readonly unknown[]> = {
  ts9: [new Date(8.64e15), "1600-01-01"],
  ltz9: ["+275760-09-13", -(2 ** 53) + 1],
};

/** IPC bytes of a batch: two batches with the same bytes hold the same buffers. */
export function batchBytes(batch: RecordBatch): Uint8Array {
  expect(batch.schema).toBe(toArrowSchema(schema));
  return encodeRecordBatchMessage(batch, NO_COMPRESSION);
}
