// COMPACTED row format: fixed byte vectors produced by Fluss's own CompactedRowWriter (Fluss main,
// run under Java 17 from the Fluss sources; see the report), decoding, writer reuse, input forms,
// SCHEMA_MISMATCH for values that do not fit and CORRUPT_RECORD_EXCEPTION for bad bytes.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import {
  CompactedRowReader,
  CompactedRowWriter,
  decodeCompactedRow,
  encodeCompactedRow,
} from "../../src/row/compacted-row.ts";
import { expectFlussError, fromHex, hex, types } from "./helpers.ts";

const TS3 = 1709210096789; // 2024-02-29T12:34:56.789Z

const ALL_TYPES = types(
  "BOOLEAN",
  "TINYINT",
  "SMALLINT",
  "INT",
  "BIGINT",
  "FLOAT",
  "DOUBLE",
  "DECIMAL(10, 2)",
  "DECIMAL(20, 3)",
  "STRING",
  "CHAR(3)",
  "BYTES",
  "BINARY(2)",
  "DATE",
  "TIME(3)",
  "TIMESTAMP(3)",
  "TIMESTAMP(6)",
  "TIMESTAMP_LTZ(3)",
  "TIMESTAMP_LTZ(9)",
  "INT",
  "STRING",
  "BIGINT",
  "BIGINT",
  "INT",
);

const ALL_VALUES: unknown[] = [
  true,
  -5,
  -2,
  -1,
  300n,
  1.5,
  -2.25,
  "-12.30",
  "12345678901234567.890",
  "héllo",
  "ab",
  new Uint8Array([1, 2, 3]),
  new Uint8Array([0xff, 0x00]),
  "2024-02-29",
  "12:34:56.789",
  "2024-02-29T12:34:56.789",
  "2024-02-29T12:34:56.789123",
  -1,
  1n, // TIMESTAMP_LTZ(9): bigint epoch nanoseconds
  null,
  undefined,
  -(2n ** 63n),
  2n ** 63n - 1n,
  -2147483648,
];

// Bytes Fluss's CompactedRowWriter produced for ALL_VALUES.
const ROW_A =
  "000018" + // null bitset: fields 19 and 20
  "01" + // BOOLEAN true
  "fb" + // TINYINT -5
  "feff" + // SMALLINT -2, little-endian fixed
  "ffffffff0f" + // INT -1: 5-byte varint, no zigzag
  "ac02" + // BIGINT 300
  "0000c03f" + // FLOAT 1.5
  "00000000000002c0" + // DOUBLE -2.25
  "b2f6ffffffffffffff01" + // DECIMAL(10,2) -12.30 → long -1230
  "0900ab54a98ceb1f0ad2" + // DECIMAL(20,3): 9 bytes BigInteger.toByteArray
  "0668c3a96c6c6f" + // STRING "héllo"
  "026162" + // CHAR(3) "ab", not padded
  "03010203" + // BYTES
  "02ff00" + // BINARY(2)
  "c69a01" + // DATE 19782
  "95d9cc15" + // TIME 45296789 ms
  "95a9f1a6df31" + // TIMESTAMP(3) epoch ms
  "95a9f1a6df31f8c007" + // TIMESTAMP(6) epoch ms + nanos 123000
  "ffffffffffffffffff01" + // TIMESTAMP_LTZ(3) -1 ms
  "0001" + // TIMESTAMP_LTZ(9) 0 ms + 1 ns
  "80808080808080808001" + // BIGINT min
  "ffffffffffffffff7f" + // BIGINT max
  "8080808008"; // INT min

describe("encodeCompactedRow", () => {
  it("matches Fluss's bytes for every type, nulls and extreme values", () => {
    expect(hex(encodeCompactedRow(ALL_TYPES, ALL_VALUES))).toBe(ROW_A);
  });

  it("matches Fluss for a short row with a null in the middle", () => {
    const t = types("INT", "STRING", "BIGINT");
    expect(hex(encodeCompactedRow(t, [1, null, -1n]))).toBe("0201ffffffffffffffffff01");
    expect(hex(encodeCompactedRow(t, [1, null, -1]))).toBe("0201ffffffffffffffffff01");
  });

  it("matches Fluss at varint boundaries and for non-compact decimals", () => {
    const t = types(
      "INT",
      "INT",
      "INT",
      "INT",
      "BIGINT",
      "BIGINT",
      "DECIMAL(38, 0)",
      "DECIMAL(19, 2)",
      "DECIMAL(20, 0)",
    );
    const v = [127, 128, 16384, 2147483647, 2 ** 35, -300, "-1", "0.00", -128n];
    expect(hex(encodeCompactedRow(t, v))).toBe(
      "0000" +
        "7f" +
        "8001" +
        "808001" +
        "ffffffff07" +
        "808080808001" +
        "d4fdffffffffffffff01" +
        "01ff" +
        "0100" +
        "0180",
    );
  });

  it("sets null bits across bitset bytes (9 fields → 2 bytes)", () => {
    const t = types(...Array.from({ length: 9 }, () => "INT"));
    const v = Array.from({ length: 9 }, (_, i) => (i === 0 || i === 8 ? null : i));
    expect(hex(encodeCompactedRow(t, v))).toBe("010101020304050607");
  });

  it("accepts every input form of a value and stores the same bytes", () => {
    const same = (sql: string, inputs: unknown[]) => {
      const t = types(sql);
      const encoded = inputs.map((v) => hex(encodeCompactedRow(t, [v])));
      expect(new Set(encoded).size, `${sql}: ${encoded.join(" ")}`).toBe(1);
    };
    same("DATE", ["2024-02-29", new Date(Date.UTC(2024, 1, 29, 23, 59)), 19782]);
    same("TIME(3)", ["12:34:56.789", 45296789, "12:34:56.789999"]);
    same("TIMESTAMP(3)", [
      new Date(TS3),
      TS3,
      "2024-02-29T12:34:56.789",
      "2024-02-29 12:34:56.7891",
      BigInt(TS3),
    ]);
    same("TIMESTAMP_LTZ(3)", [new Date(TS3), "2024-02-29T14:34:56.789+02:00", "2024-02-29T12:34:56.789Z"]);
    same("TIMESTAMP(6)", ["2024-02-29T12:34:56.789123", 1709210096789123n, "2024-02-29T12:34:56.789123999"]);
    same("BIGINT", [42, 42n, "42"]);
    same("INT", [-7, -7n, "-7"]);
    same("DECIMAL(5, 2)", ["1.5", 1.5, "1.50", "15e-1", "+1.500"]);
    same("BYTES", [new Uint8Array([1, 2, 3]), "AQID", Buffer.from([1, 2, 3])]);
    same("FLOAT", [0.5, "0.5"]);
  });

  it("floors time and timestamps to the column precision", () => {
    const r = (sql: string, v: unknown) =>
      decodeCompactedRow(types(sql), encodeCompactedRow(types(sql), [v]))[0];
    expect(r("TIME(0)", "12:34:56.789")).toBe("12:34:56");
    expect(r("TIME(1)", "12:34:56.789")).toBe("12:34:56.7");
    expect(r("TIME(6)", "12:34:56.789123")).toBe("12:34:56.789000");
    expect((r("TIMESTAMP(0)", TS3) as Date).getTime()).toBe(1709210096000);
    expect((r("TIMESTAMP(2)", "1969-12-31T23:59:59.999") as Date).getTime()).toBe(-10);
    const bigintOf = (sql: string, v: unknown) =>
      decodeCompactedRow(types(sql), encodeCompactedRow(types(sql), [v]), { timestamps: "bigint" })[0];
    expect(bigintOf("TIMESTAMP(7)", "1970-01-01T00:00:00.123456789")).toBe(123456700n);
    expect(bigintOf("TIMESTAMP(9)", -1n)).toBe(-1n);
  });

  it("refuses values that do not fit, naming the column", () => {
    const t = types(
      "INT NOT NULL",
      "TINYINT",
      "DECIMAL(4, 2)",
      "CHAR(2)",
      "BINARY(2)",
      "TIMESTAMP(3)",
      "BIGINT",
    );
    const names = ["id", "small", "price", "code", "tag", "at", "big"];
    const base: unknown[] = [1, 1, "1.00", "ab", new Uint8Array(2), TS3, 1n];
    const bad = (i: number, v: unknown, message: RegExp) => {
      const values = [...base];
      values[i] = v;
      expectFlussError(() => encodeCompactedRow(t, values, names), Errors.SCHEMA_MISMATCH, message);
    };
    bad(0, null, /column 'id' \(INT NOT NULL\) must not be null/);
    bad(0, 2 ** 31, /column 'id'.*out of range/);
    bad(0, 1.5, /column 'id'.*expected an integer/);
    bad(1, 128, /column 'small' \(TINYINT\).*\[-128, 127\]/);
    bad(2, "123.45", /column 'price'.*more than 4 digits/);
    bad(2, "1.234", /column 'price'.*at most 2 fraction digits/);
    bad(2, "abc", /column 'price'/);
    bad(3, "abc", /column 'code'.*at most 2 characters/);
    bad(4, new Uint8Array(3), /column 'tag'.*exactly 2 bytes/);
    bad(5, "2024-02-29T12:00:00+01:00", /column 'at'.*TIMESTAMP has no time zone/);
    bad(5, "2024-02-30T12:00:00", /column 'at'/);
    bad(6, 2 ** 60, /column 'big'.*beyond 2\^53/);
    bad(6, 2n ** 63n, /column 'big'.*out of range/);
    expectFlussError(() => encodeCompactedRow(t, [1]), Errors.SCHEMA_MISMATCH, /1 values.*7 fields/);
    expectFlussError(() => encodeCompactedRow(types("BOOLEAN"), [1]), Errors.SCHEMA_MISMATCH, /column '#0'/);
  });
});

describe("decodeCompactedRow", () => {
  it("decodes Fluss's bytes into the project's value conventions", () => {
    const row = decodeCompactedRow(ALL_TYPES, fromHex(ROW_A));
    expect(row).toEqual([
      true,
      -5,
      -2,
      -1,
      300n,
      1.5,
      -2.25,
      "-12.30",
      "12345678901234567.890",
      "héllo",
      "ab",
      new Uint8Array([1, 2, 3]),
      new Uint8Array([0xff, 0x00]),
      "2024-02-29",
      "12:34:56.789",
      new Date(TS3),
      new Date(TS3),
      new Date(-1),
      new Date(0),
      null,
      null,
      -(2n ** 63n),
      2n ** 63n - 1n,
      -2147483648,
    ]);
  });

  it("keeps sub-millisecond digits with timestamps: 'bigint' (epoch in the precision's unit)", () => {
    const row = decodeCompactedRow(ALL_TYPES, fromHex(ROW_A), { timestamps: "bigint" });
    expect(row.slice(15, 19)).toEqual([BigInt(TS3), BigInt(TS3) * 1000n + 123n, -1n, 1n]);
  });

  it("round-trips random int and bigint values through the varint encoding", () => {
    const t = types("INT", "BIGINT", "SMALLINT", "TINYINT");
    fc.assert(
      fc.property(
        fc.integer({ min: -2147483648, max: 2147483647 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -128, max: 127 }),
        (i, l, s, b) => {
          expect(decodeCompactedRow(t, encodeCompactedRow(t, [i, l, s, b]))).toEqual([i, l, s, b]);
        },
      ),
    );
  });

  it("round-trips strings of every length class and decimals of every precision", () => {
    const t = types("STRING", "DECIMAL(38, 10)", "DECIMAL(18, 18)");
    for (const s of ["", "a", "é".repeat(42), "x".repeat(43), "€".repeat(1000), "😀 emoji"]) {
      const v = [s, "-1234567890123456789012345678.0123456789", "-0.999999999999999999"];
      expect(decodeCompactedRow(t, encodeCompactedRow(t, v))).toEqual(v);
    }
  });

  it("raises CORRUPT_RECORD_EXCEPTION for bytes that do not parse", () => {
    const t = types("INT", "STRING", "BIGINT");
    const good = fromHex("0201ffffffffffffffffff01");
    for (let cut = 0; cut < good.length; cut++) {
      expectFlussError(() => decodeCompactedRow(t, good.subarray(0, cut)), Errors.CORRUPT_RECORD_EXCEPTION);
    }
    const corrupt = (sql: string[], h: string, message: RegExp) =>
      expectFlussError(
        () => decodeCompactedRow(types(...sql), fromHex(h)),
        Errors.CORRUPT_RECORD_EXCEPTION,
        message,
      );
    corrupt(["INT"], "0001" + "00", /trailing/);
    corrupt(["INT"], "00ffffffffff01", /longer than 5 bytes/);
    corrupt(["BIGINT"], "00ffffffffffffffffffff01", /longer than 10 bytes/);
    corrupt(["STRING"], "000561", /truncated string/);
    corrupt(["BYTES"], "00ffffffff0f", /negative bytes length/);
    corrupt(["TIMESTAMP(6)"], "0000c0843d", /nano-of-millisecond 1000000/);
    corrupt(["DECIMAL(20, 0)"], "0000", /empty unscaled decimal/);
  });

  it("reads a NOT NULL column's value even if its null bit is set, as Fluss does", () => {
    expect(decodeCompactedRow(types("INT NOT NULL"), fromHex("0105"))).toEqual([5]);
    expect(decodeCompactedRow(types("INT"), fromHex("01"))).toEqual([null]);
  });
});

describe("CompactedRowWriter / CompactedRowReader", () => {
  it("is reusable across rows of different shapes without leaking null bits", () => {
    const w = new CompactedRowWriter(0, 4);
    w.writeRow(types("INT", "INT"), [null, null]);
    expect(hex(w.toBytes())).toBe("03");
    w.writeRow(types("INT", "STRING"), [1, "x".repeat(300)]);
    const long = w.toBytes();
    expect(hex(long.subarray(0, 4))).toBe("0001ac02");
    expect(long.length).toBe(4 + 300);
    w.writeRow(types("INT", "INT"), [7, 8]);
    expect(hex(w.toBytes())).toBe("000708");
    expect(hex(w.view())).toBe("000708");
  });

  it("writes and reads values one at a time", () => {
    const w = new CompactedRowWriter(2);
    w.setNullAt(1);
    w.writeLong(-2);
    w.writeString("ok");
    w.writeShort(0x1234);
    const bytes = w.toBytes();
    expect(hex(bytes)).toBe("02" + "feffffffffffffffff01" + "026f6b" + "3412");
    const r = new CompactedRowReader(bytes, 2);
    expect([r.isNullAt(0), r.isNullAt(1)]).toEqual([false, true]);
    expect(r.readLong()).toBe(-2n);
    expect(r.readString()).toBe("ok");
    expect(r.readShort()).toBe(0x1234);
    expect(r.remaining).toBe(0);
  });
});
