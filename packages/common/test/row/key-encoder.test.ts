// Compacted key encoding: byte vectors from Fluss's CompactedKeyEncoder (its own test's {1, 3, 2}
// plus keys produced by running Fluss's encoder), null refusal naming the column, the prefix
// property prefix lookup relies on, and decoding.

import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import { CompactedKeyEncoder, decodeKey, encodeKey } from "../../src/row/key-encoder.ts";
import { makeSchema } from "../../src/schema.ts";
import { expectFlussError, fromHex, hex, types } from "./helpers.ts";

const TS3 = 1709210096789;

describe("encodeKey", () => {
  it("matches Fluss's CompactedKeyEncoder (no null bitset)", () => {
    expect(hex(encodeKey(types("INT", "BIGINT", "INT"), [1, 3n, 2]))).toBe("010302");
    expect(hex(encodeKey(types("INT", "BIGINT", "INT"), [2, 5n, 6]))).toBe("020506");
    // STRING "user-42", INT -1, BIGINT 1234567890123 (key columns 2, 1, 3 of a wider row).
    expect(hex(encodeKey(types("STRING", "INT", "BIGINT"), ["user-42", -1, 1234567890123n]))).toBe(
      "07757365722d3432ffffffff0fcb89ec8ff723",
    );
    // DECIMAL(5,2) 1.50, DATE 2024-02-29, TIMESTAMP(6) ms + 5000 ns, BOOLEAN false.
    expect(
      hex(
        encodeKey(types("DECIMAL(5, 2)", "DATE", "TIMESTAMP(6)", "BOOLEAN"), [
          "1.50",
          "2024-02-29",
          BigInt(TS3) * 1000n + 5n,
          false,
        ]),
      ),
    ).toBe("9601c69a0195a9f1a6df31882700");
  });

  it("refuses a null key value, naming the column", () => {
    expectFlussError(
      () => encodeKey(types("INT", "INT"), [1, null], ["a", "b"]),
      Errors.SCHEMA_MISMATCH,
      /key column 'b' \(INT\) must not be null/,
    );
    expectFlussError(() => encodeKey(types("INT"), [undefined]), Errors.SCHEMA_MISMATCH, /'#0'/);
    expectFlussError(() => encodeKey(types("INT"), ["x"], ["id"]), Errors.SCHEMA_MISMATCH, /column 'id'/);
    expectFlussError(() => encodeKey(types("INT", "INT"), [1]), Errors.SCHEMA_MISMATCH, /1 values/);
  });

  it("decodes keys back", () => {
    const t = types("STRING", "INT", "BIGINT");
    expect(decodeKey(t, fromHex("07757365722d3432ffffffff0fcb89ec8ff723"))).toEqual([
      "user-42",
      -1,
      1234567890123n,
    ]);
    expectFlussError(
      () => decodeKey(t.slice(0, 2), fromHex("07757365722d3432ffffffff0fcb89ec8ff723")),
      Errors.CORRUPT_RECORD_EXCEPTION,
      /trailing/,
    );
  });
});

describe("CompactedKeyEncoder", () => {
  const schema = makeSchema(
    [
      { name: "region", type: "STRING" },
      { name: "id", type: "BIGINT" },
      { name: "ts", type: "TIMESTAMP(3)" },
      { name: "name", type: "STRING" },
    ],
    ["region", "id", "ts"],
  );

  it("extracts key columns from rows by name or by index", () => {
    const pk = new CompactedKeyEncoder(schema.columns, ["region", "id", "ts"]);
    const byName = pk.encode({ region: "eu", id: 7n, ts: TS3, name: "x" });
    const byIndex = pk.encode(["eu", 7, new Date(TS3), null]);
    expect(hex(byName)).toBe(hex(byIndex));
    expect(hex(byName)).toBe(
      `02${Buffer.from("eu").toString("hex")}07${hex(encodeKey(types("BIGINT"), [TS3]))}`,
    );
    expect(pk.keyTypes.map((t) => t.nullable)).toEqual([false, false, false]);
  });

  it("encodes a bucket key that is a byte prefix of the primary key", () => {
    const pk = new CompactedKeyEncoder(schema.columns, ["region", "id", "ts"]);
    const bucket = new CompactedKeyEncoder(schema.columns, ["region", "id"]);
    const row = { region: "ap-south", id: -3n, ts: "2024-01-01T00:00:00", name: null };
    const full = pk.encode(row);
    const prefix = bucket.encode(row);
    expect(hex(full).startsWith(hex(prefix))).toBe(true);
    expect(prefix.length).toBeLessThan(full.length);
  });

  it("names the column of a null key and refuses unknown key columns", () => {
    const pk = new CompactedKeyEncoder(schema.columns, ["region", "id"]);
    expectFlussError(() => pk.encode({ region: "eu" }), Errors.SCHEMA_MISMATCH, /key column 'id'/);
    expectFlussError(
      () => new CompactedKeyEncoder(schema.columns, ["nope"]),
      Errors.INVALID_ARGUMENT,
      /'nope'/,
    );
    expectFlussError(() => pk.encode(["eu", 1n]), Errors.SCHEMA_MISMATCH, /2 values.*4 columns/);
    expect(hex(pk.encodeValues(["eu", 1n]))).toBe("02657501");
  });
});
