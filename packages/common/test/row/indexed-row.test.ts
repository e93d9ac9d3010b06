// INDEXED row format: byte vectors produced by Fluss's own IndexedRowWriter (Fluss main, Java 17),
// decoding (CHAR / BINARY lose trailing zero bytes as in Fluss), errors and corrupt input.

import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import { decodeIndexedRow, encodeIndexedRow } from "../../src/row/indexed-row.ts";
import { expectFlussError, fromHex, hex, types } from "./helpers.ts";

const TS3 = 1709210096789;

const T = types(
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
  "CHAR(4)",
  "BYTES",
  "BINARY(3)",
  "DATE",
  "TIME(3)",
  "TIMESTAMP(3)",
  "TIMESTAMP(6)",
  "TIMESTAMP_LTZ(3)",
  "STRING",
  "BYTES",
);

const V: unknown[] = [
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
  new Uint8Array([0xff, 1, 0]),
  "2024-02-29",
  "12:34:56.789",
  TS3,
  "2024-02-29T12:34:56.789123",
  -1,
  null,
  new Uint8Array([9]),
];

const ROW_A =
  "000004" + // null bitset: field 18
  "09000000" + // lengths of the non-null variable fields: DECIMAL(20,3) 9 bytes,
  "06000000" + //   "héllo" 6,
  "03000000" + //   BYTES 3,
  "01000000" + //   BYTES [9] 1 (the null STRING takes no slot),
  "00000000" + //   unused slot
  "01" +
  "fb" +
  "feff" +
  "ffffffff" +
  "2c01000000000000" +
  "0000c03f" +
  "00000000000002c0" +
  "32fbffffffffffff" + // DECIMAL(10,2) -1230 as 8-byte LE
  "00ab54a98ceb1f0ad2" +
  "68c3a96c6c6f" +
  "61620000" + // CHAR(4) "ab" zero-padded
  "010203" +
  "ff0100" + // BINARY(3)
  "464d0000" + // DATE 19782
  "952cb302" + // TIME 45296789
  "9554dcf48d010000" + // TIMESTAMP(3)
  "9554dcf48d01000078e00100" + // TIMESTAMP(6): ms + nanos 123000
  "ffffffffffffffff" + // TIMESTAMP_LTZ(3) -1
  "09";

describe("INDEXED rows", () => {
  it("match Fluss's IndexedRowWriter bytes", () => {
    expect(hex(encodeIndexedRow(T, V))).toBe(ROW_A);
    expect(hex(encodeIndexedRow(types("STRING", "INT", "STRING"), [null, 7, "z"]))).toBe(
      "010100000000000000070000007a",
    );
  });

  it("decode Fluss's bytes; CHAR and BINARY drop trailing zero bytes like Fluss", () => {
    const row = decodeIndexedRow(T, fromHex(ROW_A));
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
      new Uint8Array([0xff, 1]),
      "2024-02-29",
      "12:34:56.789",
      new Date(TS3),
      new Date(TS3),
      new Date(-1),
      null,
      new Uint8Array([9]),
    ]);
    expect(decodeIndexedRow(T, fromHex(ROW_A), { timestamps: "bigint" })[16]).toBe(
      BigInt(TS3) * 1000n + 123n,
    );
  });

  it("refuse values that do not fit and bytes that do not parse", () => {
    expectFlussError(
      () => encodeIndexedRow(types("CHAR(2)"), ["éé"], ["c"]),
      Errors.SCHEMA_MISMATCH,
      /column 'c'.*at most 2 UTF-8 bytes/,
    );
    expectFlussError(
      () => encodeIndexedRow(types("INT NOT NULL"), [null]),
      Errors.SCHEMA_MISMATCH,
      /must not be null/,
    );
    const good = fromHex(ROW_A);
    for (const cut of [0, 2, 10, 23, 40, good.length - 1]) {
      expectFlussError(() => decodeIndexedRow(T, good.subarray(0, cut)), Errors.CORRUPT_RECORD_EXCEPTION);
    }
    expectFlussError(
      () => decodeIndexedRow(types("INT"), fromHex("000100000000")),
      Errors.CORRUPT_RECORD_EXCEPTION,
      /trailing/,
    );
    expectFlussError(
      () => decodeIndexedRow(types("STRING"), fromHex("00ffffffff")),
      Errors.CORRUPT_RECORD_EXCEPTION,
      /negative/,
    );
  });
});
