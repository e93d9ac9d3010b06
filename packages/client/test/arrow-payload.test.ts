// ArrowPayload.bytesBound over random rows of every column type: never below the bytes the row
// actually adds (except for a validity bitmap that starts covering earlier rows, which the bound
// leaves out by contract), so the writer never puts a row that may not fit into an open batch.

import { makeSchema, NO_COMPRESSION, type Schema, typeToSql } from "@fluss-ts/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArrowPayload, type Row } from "../src/write/arrow-payload.ts";

const schema = makeSchema([
  { name: "b", type: "BOOLEAN" },
  { name: "i8", type: "TINYINT" },
  { name: "i", type: "INT" },
  { name: "l", type: "BIGINT" },
  { name: "f", type: "FLOAT" },
  { name: "d", type: "DOUBLE" },
  { name: "dec", type: "DECIMAL(30, 2)" },
  { name: "s", type: "STRING" },
  { name: "c", type: "CHAR(8)" },
  { name: "raw", type: "BYTES" },
  { name: "bin", type: "BINARY(3)" },
  { name: "day", type: "DATE" },
  { name: "t", type: "TIME(3)" },
  { name: "ts", type: "TIMESTAMP(9)" },
  { name: "ltz", type: "TIMESTAMP_LTZ(3)" },
]);

const text = fc.oneof(
  fc.string({ maxLength: 40, unit: "grapheme" }),
  fc.string({ maxLength: 3000, unit: "binary" }),
  fc.string({ minLength: 1000, maxLength: 3000, unit: "grapheme-ascii" }),
  // Long multi-byte text (measured, not estimated), and a lone surrogate (3 bytes once encoded).
  fc
    .tuple(fc.constantFrom("é", "😀", "\ud800", "x"), fc.integer({ min: 300, max: 1500 }))
    .map(([c, n]) => c.repeat(n)),
);

const value: Record<string, fc.Arbitrary<unknown>> = {
  b: fc.boolean(),
  i8: fc.integer({ min: -128, max: 127 }),
  i: fc.integer(),
  l: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  f: fc.float({ noNaN: true }),
  d: fc.double(),
  dec: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
  s: text,
  c: fc.string({ maxLength: 8 }),
  raw: fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a).toString("base64")),
  ),
  bin: fc.uint8Array({ minLength: 3, maxLength: 3 }),
  day: fc.integer({ min: -100_000, max: 100_000 }),
  t: fc.integer({ min: 0, max: 86_399_999 }),
  ts: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
  ltz: fc.integer({ min: -1e12, max: 1e12 }),
};

const pad8 = (n: number): number => (n + 7) & ~7;

/** The bound must hold for `rows` appended in order to an empty payload of `schema`. */
function checkBound(s: Schema, rows: readonly Row[]): void {
  const p = new ArrowPayload(s, 1, NO_COMPRESSION, null);
  for (const row of rows) {
    const n = p.count;
    const bound = p.bytesBound(row);
    const grown = p.add(row);
    // A null may start a validity bitmap over the n earlier rows: the one allowance.
    const nulls = s.columns.filter((c) => row[c.name] === null).length;
    expect(grown).toBeLessThanOrEqual(bound + nulls * pad8((n + 8) >> 3));
    if (n === 0) expect(grown).toBeLessThanOrEqual(bound);
  }
}

const rowsOf = (names: readonly string[]): fc.Arbitrary<Row[]> =>
  fc.array(
    fc.record(
      Object.fromEntries(names.map((k) => [k, fc.option(value[k]!, { freq: 4, nil: null })])) as Record<
        string,
        fc.Arbitrary<unknown>
      >,
    ),
    { minLength: 1, maxLength: 30 },
  );

describe("ArrowPayload.bytesBound", () => {
  // One column at a time, so the per-column slack cannot hide a bad estimate of another column.
  for (const column of schema.columns) {
    it(`bounds the bytes each appended row adds: ${column.name} ${column.type.root}`, () => {
      const one = makeSchema([{ name: column.name, type: typeToSql(column.type) }]);
      fc.assert(
        fc.property(rowsOf([column.name]), (rows) => checkBound(one, rows)),
        { numRuns: 60 },
      );
    });
  }

  it("bounds the bytes each appended row adds: every column", () => {
    const names = schema.columns.map((c) => c.name);
    fc.assert(
      fc.property(rowsOf(names), (rows) => checkBound(schema, rows)),
      { numRuns: 100 },
    );
  });
});
