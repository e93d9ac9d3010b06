// Bad input to the batch builder: every refusal is SCHEMA_MISMATCH naming the column and the row.

import { describe, expect, it } from "vitest";
import {
  buildRecordBatch,
  Errors,
  type InputRow,
  isFlussError,
  parseSchema,
  readRows,
} from "../src/index.ts";

const schema = parseSchema(
  [
    "id BIGINT NOT NULL",
    "flag BOOLEAN",
    "tiny TINYINT",
    "n INT",
    "x DOUBLE",
    "price DECIMAL(5, 2)",
    "code CHAR(3)",
    "raw BINARY(4)",
    "blob BYTES",
    "day DATE",
    "at TIME(3)",
    "ts TIMESTAMP(3)",
    "ltz TIMESTAMP_LTZ(3)",
  ].join(", "),
);

function mismatch(row: InputRow, index = 0): string {
  const rows: InputRow[] = [];
  for (let i = 0; i < index; i++) rows.push({ id: i });
  rows.push(row);
  try {
    buildRecordBatch(schema, rows);
  } catch (err) {
    if (isFlussError(err) && err.is(Errors.SCHEMA_MISMATCH)) return err.message;
    throw err;
  }
  throw new Error("expected SCHEMA_MISMATCH");
}

describe("SCHEMA_MISMATCH for bad input", () => {
  it("wrong type, naming column, type, row and value", () => {
    expect(mismatch({ id: "x" }, 3)).toBe(
      `column 'id' (BIGINT NOT NULL) row 3: expected an integer (bigint, number or string), got "x"`,
    );
    expect(mismatch({ id: 1, flag: "true" })).toMatch(/^column 'flag' \(BOOLEAN\) row 0: expected a boolean/);
    expect(mismatch({ id: 1, x: {} })).toMatch(/^column 'x' .*got object Object/);
    expect(mismatch({ id: 1, n: 1.5 })).toMatch(/^column 'n' \(INT\) row 0: expected an integer, got 1.5/);
  });

  it("unknown column", () => {
    expect(mismatch({ id: 1, nope: 2 }, 2)).toMatch(/^row 2: unknown column 'nope'/);
  });

  it("null or missing value in a NOT NULL column", () => {
    expect(mismatch({ id: null })).toMatch(/^column 'id' \(BIGINT NOT NULL\) row 0: null is not allowed/);
    expect(mismatch({ flag: true })).toMatch(/^column 'id' .*null is not allowed/);
  });

  it("CHAR(n) too long (counted in characters)", () => {
    expect(mismatch({ id: 1, code: "abcd" })).toMatch(
      /^column 'code' \(CHAR\(3\)\) row 0: expected at most 3 characters/,
    );
    expect(() => buildRecordBatch(schema, [{ id: 1, code: "🌍🌍🌍" }])).not.toThrow();
  });

  it("decimal out of precision or with too many fraction digits", () => {
    expect(mismatch({ id: 1, price: "1234.5" })).toMatch(/^column 'price' \(DECIMAL\(5, 2\)\).*more than 5/);
    expect(mismatch({ id: 1, price: 1e10 })).toMatch(/^column 'price'.*more than 5/);
    expect(mismatch({ id: 1, price: "1.234" })).toMatch(/^column 'price'.*more than 2 fraction digits/);
    expect(mismatch({ id: 1, price: "abc" })).toMatch(/^column 'price'.*not a decimal number/);
    expect(mismatch({ id: 1, price: "1e1000" })).toMatch(/^column 'price'.*too large/);
    expect(mismatch({ id: 1, price: Number.NaN })).toMatch(/^column 'price'.*got NaN/);
    expect(() => buildRecordBatch(schema, [{ id: 1, price: "1.2300" }])).not.toThrow();
  });

  it("integers out of range", () => {
    expect(mismatch({ id: 1, tiny: 128 })).toMatch(/^column 'tiny' \(TINYINT\).*\[-128, 127\].*out of range/);
    expect(mismatch({ id: 2n ** 63n })).toMatch(/^column 'id'.*out of range/);
    expect(mismatch({ id: 2 ** 60 })).toMatch(/^column 'id'.*pass a bigint or a string/);
  });

  it("binary of the wrong length or bad base64", () => {
    expect(mismatch({ id: 1, raw: new Uint8Array(3) })).toMatch(/^column 'raw' \(BINARY\(4\)\).*3 bytes/);
    expect(mismatch({ id: 1, blob: "not base64!" })).toMatch(/^column 'blob'.*not valid base64/);
  });

  it("bad dates, times and timestamps", () => {
    expect(mismatch({ id: 1, day: "2023-02-29" })).toMatch(/^column 'day' \(DATE\)/);
    expect(mismatch({ id: 1, at: "24:00:00" })).toMatch(/^column 'at' \(TIME\(3\)\)/);
    expect(mismatch({ id: 1, ts: "yesterday" })).toMatch(/^column 'ts' \(TIMESTAMP\(3\)\)/);
    expect(mismatch({ id: 1, ts: new Date(Number.NaN) })).toMatch(/^column 'ts'.*Invalid Date/);
    expect(mismatch({ id: 1, ts: "2024-01-01T10:00:00+02:00" })).toMatch(/^column 'ts'.*TIMESTAMP_LTZ/);
    const ok = buildRecordBatch(schema, [
      { id: 1, ltz: "2024-01-01T10:00:00+02:00", ts: "2024-01-01T08:00:00Z" },
    ]);
    const row = readRows(ok, schema.columns)[0]!;
    expect(row.ltz).toEqual(row.ts);
  });

  it("a row that is not an object", () => {
    expect(() => buildRecordBatch(schema, [null as unknown as InputRow])).toThrow(
      /row 0: expected an object/,
    );
  });
});
