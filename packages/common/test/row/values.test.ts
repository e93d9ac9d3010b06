// Value converters shared by the row encoders: decimal text and Java BigInteger.toByteArray bytes,
// the proleptic Gregorian calendar (checked against Date's UTC calendar), time-of-day and
// timestamp parsing, floors and unit conversions, and rows given by name.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import { valuesOf } from "../../src/row/row-input.ts";
import { makeSchema } from "../../src/schema.ts";
import { ValueMismatch } from "../../src/values/mismatch.ts";
import {
  formatDecimal,
  toUnscaledDecimal,
  unscaledFromBytes,
  unscaledToBytes,
} from "../../src/values/numeric.ts";
import {
  civilFromDays,
  daysFromCivil,
  formatDate,
  formatTime,
  parseTimestampText,
  timestampPartsFromUnits,
  timestampPartsToUnits,
  toEpochDays,
  toMillisOfDay,
  toTimestampParts,
} from "../../src/values/temporal.ts";
import { expectFlussError, hex } from "./helpers.ts";

describe("decimals", () => {
  it("encodes unscaled values as Java BigInteger.toByteArray does", () => {
    const cases: Array<[bigint, string]> = [
      [0n, "00"],
      [1n, "01"],
      [-1n, "ff"],
      [127n, "7f"],
      [128n, "0080"],
      [-128n, "80"],
      [-129n, "ff7f"],
      [255n, "00ff"],
      [32768n, "008000"],
      [12345678901234567890n, "00ab54a98ceb1f0ad2"],
    ];
    for (const [v, h] of cases) {
      expect(hex(unscaledToBytes(v)), String(v)).toBe(h);
      expect(unscaledFromBytes(unscaledToBytes(v))).toBe(v);
    }
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 38n), max: 10n ** 38n }), (v) => {
        expect(unscaledFromBytes(unscaledToBytes(v))).toBe(v);
      }),
    );
  });

  it("parses and formats with exactly `scale` fraction digits", () => {
    expect(toUnscaledDecimal("-12.3", 10, 2)).toBe(-1230n);
    expect(toUnscaledDecimal(0.1, 10, 2)).toBe(10n);
    expect(toUnscaledDecimal(5n, 10, 2)).toBe(500n);
    expect(toUnscaledDecimal("1.2e3", 10, 0)).toBe(1200n);
    expect(toUnscaledDecimal("1.2300", 10, 2)).toBe(123n);
    expect(formatDecimal(-1230n, 2)).toBe("-12.30");
    expect(formatDecimal(5n, 3)).toBe("0.005");
    expect(formatDecimal(-5n, 0)).toBe("-5");
    expect(() => toUnscaledDecimal("1.234", 10, 2)).toThrow(ValueMismatch);
    expect(() => toUnscaledDecimal(Number.NaN, 10, 2)).toThrow(/DECIMAL\(10, 2\)/);
    expect(() => toUnscaledDecimal("100", 2, 0)).toThrow(/more than 2 digits/);
  });
});

describe("calendar", () => {
  it("agrees with Date's UTC calendar over ±10000 years", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3_000_000, max: 3_000_000 }), (days) => {
        const d = new Date(days * 86_400_000);
        expect(civilFromDays(days)).toEqual({
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
        });
        const { year, month, day } = civilFromDays(days);
        expect(daysFromCivil(year, month, day)).toBe(days);
      }),
    );
  });

  it("parses and formats dates", () => {
    expect(toEpochDays("1970-01-01")).toBe(0);
    expect(toEpochDays("2024-02-29")).toBe(19782);
    expect(toEpochDays("0001-01-01")).toBe(-719162);
    expect(toEpochDays("1969-12-31")).toBe(-1);
    expect(formatDate(-719162)).toBe("0001-01-01");
    expect(formatDate(2932896)).toBe("9999-12-31");
    expect(formatDate(2932897)).toBe("+010000-01-01");
    expect(() => toEpochDays("2023-02-29")).toThrow(ValueMismatch);
    expect(() => toEpochDays(1.5)).toThrow(ValueMismatch);
  });
});

describe("time and timestamps", () => {
  it("converts time of day", () => {
    expect(toMillisOfDay("00:00", 0)).toBe(0);
    expect(toMillisOfDay("23:59:59.999999999", 9)).toBe(86_399_999);
    expect(toMillisOfDay("23:59:59.999", 2)).toBe(86_399_990);
    expect(formatTime(86_399_999, 3)).toBe("23:59:59.999");
    expect(formatTime(5, 5)).toBe("00:00:00.00500");
    expect(formatTime(5, 0)).toBe("00:00:00");
    expect(() => toMillisOfDay("24:00:00", 3)).toThrow(ValueMismatch);
    expect(() => toMillisOfDay(86_400_000, 3)).toThrow(ValueMismatch);
  });

  it("parses ISO timestamps independent of the process time zone", () => {
    expect(parseTimestampText("1970-01-01T00:00:00.000000001")).toEqual({
      epochMs: 0,
      nanoOfMs: 1,
      hasOffset: false,
    });
    expect(parseTimestampText("1969-12-31 23:59:59.9995")).toEqual({
      epochMs: -1,
      nanoOfMs: 500000,
      hasOffset: false,
    });
    expect(parseTimestampText("2024-02-29T12:34:56+05:30")?.epochMs).toBe(Date.UTC(2024, 1, 29, 7, 4, 56));
    expect(parseTimestampText("2024-02-29")?.epochMs).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestampText("2024-13-01")).toBeUndefined();
  });

  it("converts bigint epochs in the precision's unit, flooring negatives", () => {
    expect(timestampPartsFromUnits(-1n, 9)).toEqual({ epochMs: -1, nanoOfMs: 999_999 });
    expect(timestampPartsFromUnits(-1n, 6)).toEqual({ epochMs: -1, nanoOfMs: 999_000 });
    expect(timestampPartsFromUnits(7n, 0)).toEqual({ epochMs: 7000, nanoOfMs: 0 });
    expect(timestampPartsToUnits({ epochMs: -1, nanoOfMs: 999_999 }, 9)).toBe(-1n);
    expect(timestampPartsToUnits({ epochMs: -1, nanoOfMs: 0 }, 0)).toBe(-1n);
    expect(toTimestampParts(-1n, 4, false)).toEqual({ epochMs: -1, nanoOfMs: 900_000 });
    expect(() => toTimestampParts(2n ** 62n, 3, false)).toThrow(/out of range/);
    expect(() => toTimestampParts(new Date(Number.NaN), 3, true)).toThrow(ValueMismatch);
  });
});

describe("valuesOf", () => {
  const schema = makeSchema([
    { name: "a", type: "INT" },
    { name: "b", type: "STRING" },
  ]);

  it("orders values by column and refuses unknown columns", () => {
    expect(valuesOf(schema.columns, { b: "x" })).toEqual([null, "x"]);
    expect(valuesOf(schema.columns, [1, "y"])).toEqual([1, "y"]);
    expectFlussError(
      () => valuesOf(schema.columns, { a: 1, c: 2 }),
      Errors.SCHEMA_MISMATCH,
      /unknown column 'c'/,
    );
    expectFlussError(() => valuesOf(schema.columns, [1]), Errors.SCHEMA_MISMATCH, /1 values/);
  });
});
