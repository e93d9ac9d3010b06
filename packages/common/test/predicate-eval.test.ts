// Predicate evaluation by example: three-valued logic on Arrow batches (NULLs, NOT, IN with NULL),
// the value orders (NaN, -0, UTF-8 strings, sub-millisecond TIME), filterRecordBatch with change
// types, and mayMatch skipping batches that statistics rule out (and keeping the others).

import { describe, expect, it } from "vitest";
import {
  type BatchStatistics,
  buildArrowLogBatch,
  buildRecordBatch,
  ChangeType,
  decodeArrowLogBatch,
  filterRecordBatch,
  type InputRow,
  isFlussError,
  mayMatch,
  NO_COMPRESSION,
  parsePredicate,
  parseSchema,
  readBatchStatistics,
  readRows,
  type Schema,
  selectRows,
} from "../src/index.ts";

const schema = parseSchema("id INT, name STRING, f DOUBLE, t TIME(6), raw BYTES");
const rows: InputRow[] = [
  { id: 1, name: "a", f: 0.5, t: "00:00:00.000100" },
  { id: 2, name: null, f: Number.NaN, t: "00:00:01" },
  { id: null, name: "😀", f: -0, t: null },
  { id: 4, name: "\uffff", f: null, t: "00:00:00.000900" },
  { id: 5, name: "ab", f: Number.NEGATIVE_INFINITY, t: "00:00:00.001" },
];
const batch = buildRecordBatch(schema, rows);

function select(text: string): number[] {
  return [...selectRows(batch, schema.columns, parsePredicate(text, schema))];
}

describe("row evaluation", () => {
  it("treats comparisons with NULL as UNKNOWN, also under NOT", () => {
    expect(select("id <> 1")).toEqual([1, 3, 4]);
    expect(select("NOT (id = 1)")).toEqual([1, 3, 4]);
    expect(select("NOT (id > 1)")).toEqual([0]);
    expect(select("id IS NULL OR id > 4")).toEqual([2, 4]);
    expect(select("NOT (id IS NULL)")).toEqual([0, 1, 3, 4]);
    expect(select("id > 1 OR name = 'a'")).toEqual([0, 1, 3, 4]);
    expect(select("NOT (id > 1 AND name IS NOT NULL)")).toEqual([0, 1]);
  });

  it("follows SQL for IN and NOT IN with NULL literals", () => {
    expect(select("id IN (1, NULL)")).toEqual([0]);
    expect(select("id NOT IN (1, NULL)")).toEqual([]);
    expect(select("NOT (id IN (1, NULL))")).toEqual([]);
    expect(select("id NOT IN (1, 2)")).toEqual([3, 4]);
    expect(select("NOT (id NOT IN (1, 2))")).toEqual([0, 1]);
  });

  it("orders doubles with NaN largest and -0 equal to 0", () => {
    expect(select("f > 1")).toEqual([1]);
    expect(select("f = 'NaN'")).toEqual([1]);
    expect(select("f = 0")).toEqual([2]);
    expect(select("f < 0")).toEqual([4]);
    expect(select("f <> 'NaN'")).toEqual([0, 2, 4]);
  });

  it("orders strings by UTF-8 bytes and matches prefixes, suffixes and infixes", () => {
    expect(select("name > '\uffff'")).toEqual([2]);
    expect(select("name < 'b'")).toEqual([0, 4]);
    expect(select("STARTS_WITH(name, 'a')")).toEqual([0, 4]);
    expect(select("ENDS_WITH(name, 'b')")).toEqual([4]);
    expect(select("CONTAINS(name, '')")).toEqual([0, 2, 3, 4]);
    expect(select("NOT STARTS_WITH(name, 'a')")).toEqual([2, 3]);
  });

  it("compares TIME at millisecond precision (Fluss's TIME is int milliseconds)", () => {
    expect(select("t = '00:00:00'")).toEqual([0, 3]);
    expect(select("t >= '00:00:00.001'")).toEqual([1, 4]);
  });

  it("filters batches and their change types, keeping exact values", () => {
    const types = Uint8Array.of(
      ChangeType.INSERT,
      ChangeType.DELETE,
      ChangeType.INSERT,
      ChangeType.UPDATE_AFTER,
      1,
    );
    const r = filterRecordBatch(batch, schema.columns, parsePredicate("id >= 2", schema), types);
    expect([...r.selection]).toEqual([1, 3, 4]);
    expect([...r.changeTypes!]).toEqual([ChangeType.DELETE, ChangeType.UPDATE_AFTER, 1]);
    const all = readRows(batch, schema.columns);
    expect(readRows(r.batch, schema.columns)).toEqual([all[1], all[3], all[4]]);
    expect(filterRecordBatch(batch, schema.columns, parsePredicate("TRUE", schema)).batch).toBe(batch);
    expect(filterRecordBatch(batch, schema.columns, parsePredicate("FALSE", schema)).batch.numRows).toBe(0);
  });

  it("works on a projected batch that holds the columns read, and names a missing one", () => {
    const projected = buildRecordBatch(parseSchema("name STRING, id INT"), [{ name: "x", id: 3 }]);
    const columns = [schema.columns[1]!, schema.columns[0]!];
    expect([...selectRows(projected, columns, parsePredicate("id = 3 AND name = 'x'", schema))]).toEqual([0]);
    try {
      selectRows(projected, columns, parsePredicate("f = 1", schema));
      expect.unreachable();
    } catch (err) {
      expect(isFlussError(err) && err.message).toMatch(/column 'f', which the batch does not hold/);
    }
  });
});

describe("mayMatch", () => {
  const s = parseSchema("id INT NOT NULL, name STRING, f DOUBLE, raw BYTES, day DATE");
  const batchOf = (rs: InputRow[]) =>
    buildArrowLogBatch({ schema: s, schemaId: 1, rows: rs, compression: NO_COMPRESSION, statistics: true });
  const statsOf = (bytes: Uint8Array): BatchStatistics => readBatchStatistics(bytes, s)!;
  const ranges = [0, 10, 20].map((from) =>
    batchOf(
      Array.from({ length: 10 }, (_, k) => ({
        id: from + k,
        name: from === 10 ? null : `n${from + k}`,
        f: from === 20 && k === 0 ? Number.NaN : from + k,
        raw: new Uint8Array([k]),
        day: "2024-01-01",
      })),
    ),
  );
  const kept = (text: string, sch: Schema = s): number[] =>
    ranges.flatMap((b, i) => (mayMatch(parsePredicate(text, sch), statsOf(b), 10) ? [i] : []));

  it("skips batches whose ranges cannot match", () => {
    expect(kept("id >= 25")).toEqual([2]);
    expect(kept("id < 0")).toEqual([]);
    expect(kept("id = 15")).toEqual([1]);
    expect(kept("id IN (3, 29, 100)")).toEqual([0, 2]);
    expect(kept("id BETWEEN 9 AND 10")).toEqual([0, 1]);
    expect(kept("NOT (id < 20)")).toEqual([2]);
    expect(kept("id > 5 AND id < 8")).toEqual([0]);
    expect(kept("id > 28 OR id < 1")).toEqual([0, 2]);
    expect(kept("day > '2024-01-01'")).toEqual([]);
  });

  it("uses null counts for IS [NOT] NULL and for all-null columns", () => {
    expect(kept("name IS NULL")).toEqual([1]);
    expect(kept("name IS NOT NULL")).toEqual([0, 2]);
    expect(kept("name <> 'x'")).toEqual([0, 2]);
    expect(kept("NOT (name = 'x')")).toEqual([0, 2]);
    expect(kept("NOT STARTS_WITH(name, 'zz')")).toEqual([0, 2]);
    expect(kept("id IS NULL")).toEqual([]);
  });

  it("rules out <> and NOT IN only when every value is that literal", () => {
    const same = batchOf([{ id: 5 }, { id: 5 }]);
    const withNull = batchOf([
      { id: 5, name: "a" },
      { id: 5, name: null },
    ]);
    expect(mayMatch(parsePredicate("id <> 5", s), statsOf(same), 2)).toBe(false);
    expect(mayMatch(parsePredicate("id NOT IN (4, 5)", s), statsOf(same), 2)).toBe(false);
    expect(mayMatch(parsePredicate("id <> 4", s), statsOf(same), 2)).toBe(true);
    expect(mayMatch(parsePredicate("name <> 'a'", s), statsOf(withNull), 2)).toBe(false);
    expect(mayMatch(parsePredicate("name NOT IN ('b', NULL)", s), statsOf(withNull), 2)).toBe(false);
  });

  it("uses the prefix range for STARTS_WITH and its negation", () => {
    expect(kept("STARTS_WITH(name, 'n2')")).toEqual([0, 2]);
    expect(kept("STARTS_WITH(name, 'n3')")).toEqual([0]);
    expect(kept("STARTS_WITH(name, 'm')")).toEqual([]);
    expect(kept("name LIKE 'o%'")).toEqual([]);
    expect(kept("STARTS_WITH(name, 'n')")).toEqual([0, 2]);
    expect(kept("NOT STARTS_WITH(name, 'n')")).toEqual([]);
    expect(kept("NOT STARTS_WITH(name, 'n2')")).toEqual([0]);
    expect(kept("ENDS_WITH(name, 'zz')")).toEqual([0, 2]);
    const ab = batchOf([
      { id: 1, name: "ab" },
      { id: 2, name: "abc" },
    ]);
    for (const text of [
      "NOT ENDS_WITH(name, 'a')",
      "NOT CONTAINS(name, 'a')",
      "NOT STARTS_WITH(name, 'abc')",
    ]) {
      expect(mayMatch(parsePredicate(text, s), statsOf(ab), 2)).toBe(true);
    }
    expect(mayMatch(parsePredicate("NOT STARTS_WITH(name, 'ab')", s), statsOf(ab), 2)).toBe(false);
  });

  it("treats NaN as the largest double, as the statistics do", () => {
    expect(kept("f > 100")).toEqual([2]);
    expect(kept("f = 'NaN'")).toEqual([2]);
    expect(kept("f < 0")).toEqual([]);
  });

  it("keeps batches when a column has no statistics, and skips empty batches", () => {
    expect(kept("raw = X'09'")).toEqual([0, 1, 2]);
    const partial = buildArrowLogBatch({
      schema: s,
      schemaId: 1,
      rows: [{ id: 1, name: "a" }],
      compression: NO_COMPRESSION,
      statistics: "name",
    });
    expect(mayMatch(parsePredicate("id = 100", s), statsOf(partial), 1)).toBe(true);
    expect(mayMatch(parsePredicate("id = 100 AND name = 'b'", s), statsOf(partial), 1)).toBe(false);
    expect(mayMatch(parsePredicate("TRUE", s), statsOf(partial), 0)).toBe(false);
  });

  it("agrees with row evaluation on the batches it keeps", () => {
    for (const text of ["id >= 25", "name IS NULL OR f > 9", "NOT (id < 20) AND STARTS_WITH(name, 'n2')"]) {
      const p = parsePredicate(text, s);
      for (const b of ranges) {
        const decoded = decodeArrowLogBatch(b, s.columns, { verifyCrc: true });
        const selected = selectRows(decoded.recordBatch, s.columns, p);
        if (!mayMatch(p, statsOf(b), 10)) expect(selected.length).toBe(0);
      }
    }
  });
});
