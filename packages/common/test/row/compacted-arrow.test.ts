// CompactedArrowBuilder and scanCompactedRow against the paths they shortcut: Arrow columns built
// straight from COMPACTED rows must be byte-identical (IPC message) to decoding the rows with
// `{ timestamps: "bigint" }` and building from the row objects, including the errors (deferred
// SCHEMA_MISMATCH, immediate CORRUPT_RECORD_EXCEPTION); scanCompactedRow must refuse exactly the
// byte strings decodeCompactedRow refuses.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRecordBatch } from "../../src/arrow/batch-builder.ts";
import { NO_COMPRESSION } from "../../src/arrow/compression.ts";
import { encodeRecordBatchMessage } from "../../src/arrow/ipc.ts";
import { Errors, isFlussError } from "../../src/errors.ts";
import { CompactedArrowBuilder } from "../../src/row/compacted-arrow.ts";
import { decodeCompactedRow, encodeCompactedRow } from "../../src/row/compacted-row.ts";
import { scanCompactedRow } from "../../src/row/compacted-scan.ts";
import type { Schema } from "../../src/schema.ts";
import { parseSchema } from "../../src/schema.ts";
import type { DataType } from "../../src/types.ts";
import { rowCase, schema } from "../arrow-rows.ts";
import { types } from "./helpers.ts";

const colTypes = schema.columns.map((c) => c.type);

function compactedOf(input: Readonly<Record<string, unknown>>): Uint8Array {
  return encodeCompactedRow(
    colTypes,
    schema.columns.map((c) => input[c.name]),
  );
}

/** IPC bytes (or the error) of the reference path: decode, row objects, ArrowBatchBuilder. */
function reference(s: Schema, rows: readonly Uint8Array[]): Uint8Array | Error {
  const t = s.columns.map((c) => c.type);
  try {
    const objects = rows.map((r) => {
      const values = decodeCompactedRow(t, r, { timestamps: "bigint" });
      return Object.fromEntries(s.columns.map((c, i) => [c.name, values[i]]));
    });
    return encodeRecordBatchMessage(buildRecordBatch(s, objects), NO_COMPRESSION);
  } catch (err) {
    return err as Error;
  }
}

function direct(builder: CompactedArrowBuilder, rows: readonly Uint8Array[]): Uint8Array | Error {
  try {
    for (const r of rows) builder.append(r);
    return encodeRecordBatchMessage(builder.build(), NO_COMPRESSION);
  } catch (err) {
    builder.reset();
    return err as Error;
  }
}

function expectSame(a: Uint8Array | Error, b: Uint8Array | Error): void {
  if (a instanceof Error || b instanceof Error) {
    expect(b instanceof Error ? `${b.name}: ${b.message}` : "no error").toBe(
      a instanceof Error ? `${a.name}: ${a.message}` : "no error",
    );
  } else expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
}

describe("CompactedArrowBuilder", () => {
  it("builds exactly what decoding and ArrowBatchBuilder build, for every column type", () => {
    const builder = new CompactedArrowBuilder(schema);
    fc.assert(
      fc.property(fc.array(rowCase, { maxLength: 40 }), (cases) => {
        const rows = cases.map((c) => compactedOf(c.input));
        expectSame(reference(schema, rows), direct(builder, rows));
      }),
      { numRuns: 150 },
    );
  });

  it("is reusable across batches and builds empty batches", () => {
    const s = parseSchema("id BIGINT NOT NULL, name STRING, v DOUBLE");
    const t = s.columns.map((c) => c.type);
    const builder = new CompactedArrowBuilder(s);
    for (let round = 0; round < 3; round++) {
      const rows = Array.from({ length: round * 100 }, (_, i) =>
        encodeCompactedRow(t, [BigInt(i - 50), i % 7 === 0 ? null : `n${i}é`, i / 3]),
      );
      expectSame(reference(s, rows), direct(builder, rows));
    }
  });

  it("refuses what the row-object path refuses, with the same error", () => {
    // Rows written as STRING / BYTES where the schema says CHAR(2) / BINARY(2), and bad UTF-8.
    const s = parseSchema("c CHAR(2), b BINARY(2), s STRING");
    const loose = types("STRING", "BYTES", "STRING");
    const ok = encodeCompactedRow(loose, ["ab", Uint8Array.of(1, 2), "x"]);
    const longChar = encodeCompactedRow(loose, ["abc", Uint8Array.of(1, 2), "x"]);
    const wideChar = encodeCompactedRow(loose, ["éé", Uint8Array.of(1, 2), "x"]); // 4 bytes, 2 chars
    const longBin = encodeCompactedRow(loose, ["a", Uint8Array.of(1, 2, 3), "x"]);
    const badUtf8 = Uint8Array.from([...encodeCompactedRow(loose, ["a", Uint8Array.of(1, 2), ""])]);
    const withBad = new Uint8Array(badUtf8.length + 2);
    withBad.set(badUtf8);
    withBad[badUtf8.length - 1] = 2; // the last STRING now holds two bytes: 0xff 0xc3
    withBad[badUtf8.length] = 0xff;
    withBad[badUtf8.length + 1] = 0xc3;
    const builder = new CompactedArrowBuilder(s);
    for (const rows of [
      [ok, wideChar],
      [ok, longChar, longBin],
      [longBin, longChar],
      [withBad, ok],
    ]) {
      expectSame(reference(s, rows), direct(builder, rows));
    }
  });

  it("throws CORRUPT_RECORD_EXCEPTION for malformed bytes at append", () => {
    const s = parseSchema("id BIGINT NOT NULL, name STRING");
    const builder = new CompactedArrowBuilder(s);
    const row = encodeCompactedRow(types("BIGINT", "STRING"), [1n, "abc"]);
    for (const bad of [row.subarray(0, row.length - 1), Uint8Array.from([...row, 0])]) {
      let thrown: unknown;
      try {
        builder.append(bad);
      } catch (err) {
        thrown = err;
      }
      expect(isFlussError(thrown) && thrown.is(Errors.CORRUPT_RECORD_EXCEPTION)).toBe(true);
      builder.reset();
    }
  });
});

describe("scanCompactedRow", () => {
  const scanTypes: DataType[] = colTypes;
  const starts = new Int32Array(scanTypes.length);
  const ends = new Int32Array(scanTypes.length);

  function outcome(f: () => unknown): string {
    try {
      f();
      return "ok";
    } catch (err) {
      return isFlussError(err) ? err.kind.name : String(err);
    }
  }

  it("accepts and refuses exactly what decodeCompactedRow does", () => {
    const mutated = fc
      .tuple(
        rowCase,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([c, edits, cut]) => {
        const bytes = Uint8Array.from(compactedOf(c.input));
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        return cut % 5 === 0 ? bytes.subarray(0, cut % (bytes.length + 1)) : bytes;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 80 })), (bytes) => {
        const decoded = outcome(() => decodeCompactedRow(scanTypes, bytes, { timestamps: "bigint" }));
        expect(outcome(() => scanCompactedRow(scanTypes, bytes, starts, ends))).toBe(decoded);
      }),
      { numRuns: 500 },
    );
  });

  it("reports each field's byte range, -1 for nulls", () => {
    const t = types("INT", "STRING", "BIGINT");
    const row = encodeCompactedRow(t, [300, null, -1n]);
    const s = new Int32Array(3);
    const e = new Int32Array(3);
    scanCompactedRow(t, row, s, e);
    expect([...s]).toEqual([1, -1, 3]);
    expect([...e]).toEqual([3, -1, 13]);
  });
});
