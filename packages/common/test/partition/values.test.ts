// Partition values of typed row values: the expected texts are those Fluss's PartitionUtilsTest
// pins for the same inputs, plus the Java Float/Double.toString layouts.
import {
  detectInvalidName,
  Errors,
  isFlussError,
  javaDoubleToString,
  javaFloatToString,
  PARTITION_KEY_TYPES,
  parseType,
  partitionValueOf,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";

const of = (sqlType: string, v: unknown): string => partitionValueOf("p", parseType(sqlType), v);

describe("partition value of a row value", () => {
  it("converts each supported type as Fluss does", () => {
    const cases: Array<[string, unknown, string]> = [
      ["STRING", "Fluss", "Fluss"],
      ["CHAR(1)", "F", "F"],
      ["BOOLEAN", true, "true"],
      ["BOOLEAN", false, "false"],
      ["BYTES", new Uint8Array([0x10, 0x20, 0x30, 0x40, 0x50, 0xff]), "1020304050ff"],
      ["BINARY(6)", new Uint8Array([0x10, 0x20, 0x30, 0x40, 0x50, 0xff]), "1020304050ff"],
      ["BYTES", "EP8=", "10ff"], // base64 input
      ["TINYINT", 100, "100"],
      ["TINYINT", -100, "-100"],
      ["SMALLINT", -32760, "-32760"],
      ["INT", 299000, "299000"],
      ["BIGINT", 1748662955428n, "1748662955428"],
      ["BIGINT", -1748662955428, "-1748662955428"],
      ["DATE", 20235, "2025-05-27"],
      ["DATE", "2025-05-27", "2025-05-27"],
      ["DATE", 0, "1970-01-01"],
      ["TIME(3)", 5402199, "01-30-02_199"],
      ["TIME(3)", "01:30:02.199", "01-30-02_199"],
      ["TIME", "00:00:00", "00-00-00_000"],
      ["FLOAT", 5.73, "5_73"],
      ["DOUBLE", 5.73, "5_73"],
      ["DOUBLE", 1, "1_0"],
      ["DOUBLE", 1e10, "1_0E10"],
      ["DOUBLE", -1e-5, "-1_0E-5"],
      ["DOUBLE", Number.NaN, "NaN"],
      ["DOUBLE", Number.POSITIVE_INFINITY, "Inf"],
      ["FLOAT", Number.NEGATIVE_INFINITY, "-Inf"],
      ["TIMESTAMP(9)", 1748662955428099988n, "2025-05-31-03-42-35_428099988"],
      ["TIMESTAMP(3)", 1748662955428, "2025-05-31-03-42-35_428"],
      ["TIMESTAMP(9)", 1748662955000099988n, "2025-05-31-03-42-35_000099988"],
      ["TIMESTAMP(3)", new Date(1748662955000), "2025-05-31-03-42-35_"],
      ["TIMESTAMP(9)", -1748662955428n * 1_000_000n + 99988n, "1914-08-03-20-17-24_572099988"],
      ["TIMESTAMP_LTZ(9)", 1748662955428099988n, "2025-05-31-03-42-35_428099988"],
      ["TIMESTAMP_LTZ(3)", "2025-05-31T05:42:35.428+02:00", "2025-05-31-03-42-35_428"],
      ["TIMESTAMP_LTZ(6)", "2025-05-31T03:42:35.4280999Z", "2025-05-31-03-42-35_428099"], // floored to µs
    ];
    for (const [type, value, expected] of cases) {
      const text = of(type, value);
      expect({ type, text }).toEqual({ type, text: expected });
      expect(detectInvalidName(text)).toBeNull();
    }
  });

  it("refuses null and values that do not fit the column, naming the column", () => {
    for (const [type, value] of [
      ["STRING", null],
      ["INT", 1.5],
      ["TINYINT", 300],
      ["DATE", "2024-13-01"],
      ["BOOLEAN", "true"],
    ] as const) {
      try {
        of(type, value);
        throw new Error(`expected a mismatch for ${type} ${String(value)}`);
      } catch (err) {
        expect(isFlussError(err) && err.is(Errors.SCHEMA_MISMATCH)).toBe(true);
        expect((err as Error).message).toContain("partition column 'p'");
      }
    }
  });

  it("refuses types that cannot be partition keys", () => {
    expect(PARTITION_KEY_TYPES).not.toContain("DECIMAL");
    expect(() => of("DECIMAL(10, 2)", "1.00")).toThrow(/cannot be a partition key/);
  });
});

describe("Java number text", () => {
  it("lays doubles out as Double.toString", () => {
    const cases: Array<[number, string]> = [
      [5.73, "5.73"],
      [1, "1.0"],
      [100, "100.0"],
      [0.001, "0.001"],
      [0.0015, "0.0015"],
      [9999999, "9999999.0"],
      [1e7, "1.0E7"],
      [12345678, "1.2345678E7"],
      [1e-4, "1.0E-4"],
      [123456.789, "123456.789"],
      [-0, "-0.0"],
      [0, "0.0"],
      [Number.MAX_VALUE, "1.7976931348623157E308"],
      [Number.MIN_VALUE, "4.9E-324"], // Java prefers the closer 2-digit decimal
      [1e23, "1.0E23"],
      [0.1 + 0.2, "0.30000000000000004"],
    ];
    for (const [v, s] of cases) expect(javaDoubleToString(v)).toBe(s);
  });

  it("lays floats out as Float.toString", () => {
    const cases: Array<[number, string]> = [
      [5.73, "5.73"],
      [0.1, "0.1"],
      [0.3, "0.3"],
      [1e10, "1.0E10"],
      [16777216, "1.6777216E7"],
      [3.4028234663852886e38, "3.4028235E38"],
      [1.401298464324817e-45, "1.4E-45"],
      [1.17549435e-38, "1.1754944E-38"], // JDK 19+ shortest (older JDKs printed 1.17549435E-38)
    ];
    for (const [v, s] of cases) expect(javaFloatToString(Math.fround(v))).toBe(s);
  });
});
