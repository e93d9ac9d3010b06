// Property tests of predicates over random batches (small value domains so predicates hit, with
// NULLs, NaN, -0, non-BMP strings, sub-millisecond times and nanosecond timestamps):
// - skipping batches where !mayMatch and filtering the rest selects exactly the rows that
//   evaluatePredicate (one row of ScalarValues at a time) selects: mayMatch never skips a batch
//   holding a match, and the Arrow row evaluation agrees with the scalar one;
// - the statistics in the batch are the null count and the min / max of the values (strings
//   over STATISTICS_VALUE_BYTES_MAX: a truncated prefix as min, a rounded-up prefix or nothing
//   as max), and pruning with such bounds still never skips a match;
// - predicateToString parses back (same text, same rows), predicateFromPb(predicateToPb(p))
//   selects the same rows (a superset when relaxed).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildArrowLogBatch,
  checkLeaf,
  compareScalars,
  decodeArrowLogBatch,
  evaluatePredicate,
  filterRecordBatch,
  type LeafOp,
  type LeafPredicate,
  mayMatch,
  NO_COMPRESSION,
  type Predicate,
  parsePredicate,
  parseSchema,
  predicateFromPb,
  predicateToPb,
  predicateToString,
  readBatchHeader,
  readBatchStatistics,
  readRows,
  type ScalarValue,
  STATISTICS_VALUE_BYTES_MAX,
  selectRows,
} from "../src/index.ts";
import { formatDecimal } from "../src/values/numeric.ts";

const schema = parseSchema(
  [
    "i INT",
    "b BIGINT",
    "f FLOAT",
    "d DOUBLE",
    "dec DECIMAL(6, 2)",
    "big DECIMAL(30, 3)",
    "s STRING",
    "c CHAR(4)",
    "ok BOOLEAN",
    "day DATE",
    "t TIME(6)",
    "ts TIMESTAMP(9)",
    "ltz TIMESTAMP_LTZ(3)",
    "raw BYTES",
    "bin BINARY(2)",
    "i16 SMALLINT",
  ].join(", "),
);

/** [row input, ScalarValue] pairs per column. */
type Pair = readonly [unknown, ScalarValue];
const same = (v: ScalarValue): Pair => [v, v];
// Strings longer than STATISTICS_VALUE_BYTES_MAX (64) get truncated statistics bounds: shared
// long prefixes, a code point straddling the cut, all-U+10FFFF (no upper bound), a max whose
// rounded-up prefix leaves the literal's prefix range.
const A64 = "a".repeat(64);
const longStrings = [
  A64,
  `${A64}b`,
  "a".repeat(70),
  `${"a".repeat(63)}😀x`,
  `${"a".repeat(63)}\u{10ffff}z`,
  "é".repeat(40),
  "\u{10ffff}".repeat(17),
];
const strings = ["", "a", "ab", "abc", "b", "é", "😀", "\uffff", "a long string!", ...longStrings];
/** Extra STARTS_WITH / ENDS_WITH / CONTAINS literals around the truncation point. */
const longPrefixes = ["a".repeat(63), "a".repeat(66), `${"a".repeat(63)}😀`, "é".repeat(33), "\u{10ffff}"];
const domains: Record<string, readonly Pair[]> = {
  i: [-3, -1, 0, 1, 2, 3].map(same),
  b: [-3n, 0n, 1n, 2n ** 40n].map(same),
  f: [-1.5, -0, 0, 0.5, 2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(same),
  d: [-1.5, -0, 0, 0.1, 2, Number.NaN, Number.POSITIVE_INFINITY].map(same),
  dec: [-300n, -50n, 0n, 50n, 100n, 99999n].map((u): Pair => [formatDecimal(u, 2), u]),
  big: [-(10n ** 25n), -1n, 0n, 7n, 10n ** 26n].map((u): Pair => [formatDecimal(u, 3), u]),
  s: strings.map(same),
  c: ["", "x", "xy", "xyz", "y", "😀"].map(same),
  ok: [true, false].map(same),
  day: [-2, 0, 1, 2].map(same),
  t: [
    ["00:00:00", 0],
    ["00:00:00.000500", 0],
    ["00:00:00.001", 1],
    ["00:00:01.999999", 1999],
    ["23:59:59.999999", 86_399_999],
  ],
  ts: [-1n, 0n, 1n, 1_000_000n, 1_000_001n].map((n): Pair => {
    const ms = n >= 0n ? n / 1_000_000n : -1n;
    return [n, { epochMs: Number(ms), nanoOfMs: Number(n - ms * 1_000_000n) }];
  }),
  ltz: [-1, 0, 1, 1000].map((ms): Pair => [ms, { epochMs: ms, nanoOfMs: 0 }]),
  raw: [[], [0], [0, 255], [255]].map((b) => same(Uint8Array.from(b))),
  bin: [
    [0, 0],
    [0, 1],
    [255, 0],
  ].map((b) => same(Uint8Array.from(b))),
  i16: [-300, 0, 7].map(same),
};
const names = schema.columns.map((c) => c.name);
const utf8Bytes = (v: string): number => Buffer.byteLength(v, "utf8");

const rowArb = fc.tuple(
  ...names.map((n) => fc.option(fc.constantFrom(...domains[n]!), { freq: 4, nil: null })),
);
type Row = (Pair | null)[];

const COMPARISONS: LeafOp[] = [
  "EQUAL",
  "NOT_EQUAL",
  "LESS_THAN",
  "LESS_OR_EQUAL",
  "GREATER_THAN",
  "GREATER_OR_EQUAL",
];

function leafArb(nullLiterals: boolean, columns: readonly number[]): fc.Arbitrary<LeafPredicate> {
  return fc.constantFrom(...columns).chain((column) => {
    const col = schema.columns[column]!;
    const scalars = domains[col.name]!.map((p) => p[1]);
    const lit = fc.constantFrom(...scalars);
    const maybeNull = nullLiterals ? fc.option(lit, { freq: 12, nil: null }) : lit;
    const isString = col.type.root === "STRING" || col.type.root === "CHAR";
    const ops: fc.Arbitrary<[LeafOp, (ScalarValue | null)[]]>[] = [
      fc.tuple(
        fc.constantFrom(...COMPARISONS),
        maybeNull.map((v) => [v]),
      ),
      fc.tuple(fc.constantFrom<LeafOp>("IS_NULL", "IS_NOT_NULL"), fc.constant([])),
      fc.tuple(fc.constantFrom<LeafOp>("IN", "NOT_IN"), fc.array(maybeNull, { minLength: 1, maxLength: 3 })),
    ];
    if (isString) {
      const extra = col.type.root === "STRING" ? longPrefixes : [];
      const prefixes = [
        ...new Set([...scalars.flatMap((v) => [v, (v as string).slice(0, 1), "x"]), ...extra]),
      ];
      ops.push(
        fc.tuple(
          fc.constantFrom<LeafOp>("STARTS_WITH", "ENDS_WITH", "CONTAINS"),
          fc.constantFrom(...prefixes).map((v) => [v]),
        ),
      );
    }
    return fc
      .oneof(...ops)
      .map(([op, literals]) =>
        checkLeaf({ kind: "leaf", op, column, name: col.name, type: col.type, literals }),
      );
  });
}

const ALL_COLUMNS = names.map((_, c) => c);
const STRING_COLUMNS = [names.indexOf("s"), names.indexOf("c")];

function predicateArb(
  nullLiterals: boolean,
  columns: readonly number[] = ALL_COLUMNS,
  shallow = false,
): fc.Arbitrary<Predicate> {
  if (shallow) {
    const one = leafArb(nullLiterals, columns);
    return fc.oneof(
      one,
      one.map((child): Predicate => ({ kind: "not", child })),
    );
  }
  const { p } = fc.letrec<{ p: Predicate }>((tie) => ({
    p: fc.oneof(
      { maxDepth: 4, depthIdentifier: "p" },
      leafArb(nullLiterals, columns),
      fc.record({
        kind: fc.constantFrom<"and" | "or">("and", "or"),
        children: fc.array(tie("p"), { maxLength: 3 }),
      }),
      tie("p").map((child): Predicate => ({ kind: "not", child })),
    ),
  }));
  return p;
}

const scalarsOf = (row: Row): (ScalarValue | null)[] => row.map((p) => (p === null ? null : p[1]));
const inputOf = (row: Row): Record<string, unknown> =>
  Object.fromEntries(names.map((n, c) => [n, row[c] === null ? null : row[c]![0]]));
const matching = (p: Predicate, rows: readonly Row[]): number[] =>
  rows.flatMap((r, i) => (evaluatePredicate(p, scalarsOf(r)) === true ? [i] : []));

const specArb = fc.constantFrom<true | string>(
  true,
  "i, s, f",
  "ts, dec, big, c, t, ltz, day, ok, d, b",
  "c, s",
);

describe("predicates over random batches", () => {
  const cases = [
    { what: "any column", columns: ALL_COLUMNS, shallow: false, runs: 400 },
    { what: "one leaf or NOT leaf", columns: ALL_COLUMNS, shallow: true, runs: 1000 },
    { what: "string columns", columns: STRING_COLUMNS, shallow: false, runs: 200 },
    { what: "one leaf or NOT leaf on a string column", columns: STRING_COLUMNS, shallow: true, runs: 500 },
  ];
  for (const { what, columns, shallow, runs } of cases) {
    it(`skip only batches without a match, and select exactly the matching rows: ${what}`, () => {
      let skipped = 0;
      let kept = 0;
      fc.assert(
        fc.property(
          fc.array(fc.array(rowArb, { maxLength: 8 }), { minLength: 1, maxLength: 4 }),
          specArb,
          predicateArb(true, columns, shallow),
          (batches, spec, p) => {
            for (const rows of batches) {
              const bytes = buildArrowLogBatch({
                schema,
                schemaId: 1,
                rows: rows.map(inputOf),
                compression: NO_COMPRESSION,
                statistics: spec,
              });
              const expected = matching(p, rows);
              const stats = readBatchStatistics(bytes, schema);
              const { recordBatch } = decodeArrowLogBatch(bytes, schema.columns, { verifyCrc: true });
              expect([...selectRows(recordBatch, schema.columns, p)]).toEqual(expected);
              const may =
                stats === null ? rows.length > 0 : mayMatch(p, stats, readBatchHeader(bytes).recordCount);
              if (!may) {
                expect(expected).toEqual([]);
                skipped++;
                continue;
              }
              kept++;
              const filtered = filterRecordBatch(recordBatch, schema.columns, p);
              expect([...filtered.selection]).toEqual(expected);
              const all = readRows(recordBatch, schema.columns);
              expect(readRows(filtered.batch, schema.columns)).toEqual(expected.map((i) => all[i]));
            }
          },
        ),
        { numRuns: runs },
      );
      // The property must exercise both sides.
      expect(skipped).toBeGreaterThan(50);
      expect(kept).toBeGreaterThan(50);
    });
  }

  it("store the null count and the min / max of each statistics column", () => {
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 8 }), (rows) => {
        const bytes = buildArrowLogBatch({
          schema,
          schemaId: 1,
          rows: rows.map(inputOf),
          compression: NO_COMPRESSION,
          statistics: true,
        });
        const stats = readBatchStatistics(bytes, schema)!;
        expect(stats.columnIndexes).toEqual(names.flatMap((n, c) => (n === "raw" || n === "bin" ? [] : [c])));
        for (const c of stats.columnIndexes) {
          const type = schema.columns[c]!.type;
          const values = rows
            .map((r) => r[c])
            .filter((p): p is Pair => p !== null)
            .map((p) => p[1]);
          const s = stats.columns[c]!;
          expect(s.nullCount).toBe(rows.length - values.length);
          if (values.length === 0) {
            expect(s.min).toBeNull();
            expect(s.max).toBeNull();
            continue;
          }
          const sorted = [...values].sort((a, b) => compareScalars(type, a, b));
          const least = sorted[0]!;
          const most = sorted[sorted.length - 1]!;
          if (typeof least !== "string" || utf8Bytes(least) <= STATISTICS_VALUE_BYTES_MAX) {
            expect(compareScalars(type, s.min!, least)).toBe(0);
          } else {
            // A truncated min: a prefix of the least value, cut on a code point, below it.
            expect(least.startsWith(s.min as string)).toBe(true);
            expect(utf8Bytes(s.min as string)).toBeLessThanOrEqual(STATISTICS_VALUE_BYTES_MAX);
            expect(utf8Bytes(s.min as string)).toBeGreaterThan(STATISTICS_VALUE_BYTES_MAX - 4);
          }
          if (typeof most !== "string" || utf8Bytes(most) <= STATISTICS_VALUE_BYTES_MAX) {
            expect(compareScalars(type, s.max!, most)).toBe(0);
          } else if (s.max !== null) {
            // A rounded-up max: above the largest value, and short.
            expect(compareScalars(type, s.max, most)).toBeGreaterThan(0);
            expect(utf8Bytes(s.max as string)).toBeLessThanOrEqual(STATISTICS_VALUE_BYTES_MAX + 1);
          } else {
            // No upper bound only when the kept prefix is all U+10FFFF.
            expect(most.startsWith("\u{10ffff}".repeat(STATISTICS_VALUE_BYTES_MAX / 4))).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("print as text that parses back to a predicate selecting the same rows", () => {
    fc.assert(
      fc.property(predicateArb(false), fc.array(rowArb, { maxLength: 10 }), (p, rows) => {
        const text = predicateToString(p);
        const parsed = parsePredicate(text, schema);
        expect(predicateToString(parsed)).toBe(text);
        expect(matching(parsed, rows)).toEqual(matching(p, rows));
      }),
      { numRuns: 300 },
    );
  });

  it("go through the Fluss wire form selecting the same rows (a superset when relaxed)", () => {
    fc.assert(
      fc.property(predicateArb(true), fc.array(rowArb, { maxLength: 10 }), (p, rows) => {
        const relaxed = predicateFromPb(predicateToPb(p, schema, { relaxUnsupported: true }), schema);
        const want = matching(p, rows);
        let exact: Predicate | undefined;
        try {
          exact = predicateFromPb(predicateToPb(p, schema), schema);
        } catch {
          exact = undefined;
        }
        if (exact !== undefined) expect(matching(exact, rows)).toEqual(want);
        const got = new Set(matching(relaxed, rows));
        for (const i of want) expect(got.has(i)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
