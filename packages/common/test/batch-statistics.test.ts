// Batch statistics (magic v1): min / max / null count per column type (incl. nulls, all-null
// columns, Java's float order, UTF-8 string order, non-compact decimals and timestamps), the exact
// byte layout of Fluss's statistics block, column selection (`table.statistics.columns`), and v1
// batches through CRC checks, decoding, change types, stamping and projection.

import { describe, expect, it } from "vitest";
import {
  type BatchStatistics,
  buildArrowLogBatch,
  ChangeType,
  computeBatchStatistics,
  createProjectionPlan,
  decodeArrowLogBatch,
  decodeBatchStatistics,
  encodeBatchStatistics,
  HEADER_SIZE_V1,
  type InputRow,
  isBatchValid,
  isFlussError,
  MAGIC_V0,
  MAGIC_V1,
  NO_COMPRESSION,
  parseSchema,
  projectLogBatches,
  readBatchHeader,
  readBatchStatistics,
  readRows,
  resolveStatisticsColumns,
  type ScalarValue,
  STATISTICS_VALUE_BYTES_MAX,
  stampBatch,
} from "../src/index.ts";

const compression = NO_COMPRESSION;

function errorKind(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isFlussError(err) ? err.kind.name : String(err);
  }
  return undefined;
}

interface Case {
  type: string;
  values: unknown[];
  nullCount: number;
  min: ScalarValue | null;
  max: ScalarValue | null;
}

const ts = (epochMs: number, nanoOfMs = 0) => ({ epochMs, nanoOfMs });

const cases: Case[] = [
  { type: "BOOLEAN", values: [true, null, false], nullCount: 1, min: false, max: true },
  { type: "BOOLEAN", values: [true, true], nullCount: 0, min: true, max: true },
  { type: "TINYINT", values: [5, -128, 127, null], nullCount: 1, min: -128, max: 127 },
  { type: "SMALLINT", values: [-300, 12], nullCount: 0, min: -300, max: 12 },
  { type: "INT", values: [3, -7, null, 0], nullCount: 1, min: -7, max: 3 },
  { type: "BIGINT", values: [2n ** 62n, -5n], nullCount: 0, min: -5n, max: 2n ** 62n },
  // Java's Float.compare: NaN above everything, -0 below +0.
  {
    type: "FLOAT",
    values: [1.5, -0, 0, Number.NaN, Number.NEGATIVE_INFINITY],
    nullCount: 0,
    min: -Infinity,
    max: NaN,
  },
  { type: "FLOAT", values: [0, -0], nullCount: 0, min: -0, max: 0 },
  { type: "DOUBLE", values: [0.1, -2.5, null], nullCount: 1, min: -2.5, max: 0.1 },
  { type: "DECIMAL(5, 2)", values: ["1.50", "-3.25", "999.99"], nullCount: 0, min: -325n, max: 99999n },
  {
    type: "DECIMAL(38, 10)",
    values: ["1234567890123456789012345678.0123456789", "-1", null],
    nullCount: 1,
    min: -10_000_000_000n,
    max: 12345678901234567890123456780123456789n,
  },
  // UTF-8 byte order: U+1F600 (F0 ..) sorts above U+FFFF (EF BF BF), unlike JS's UTF-16 order.
  { type: "STRING", values: ["b", "a", "ab", "😀", "\uffff", null], nullCount: 1, min: "a", max: "😀" },
  {
    type: "STRING",
    values: ["a long string value", "a long string valuf", "short"],
    nullCount: 0,
    min: "a long string value",
    max: "short",
  },
  { type: "CHAR(3)", values: ["abc", "ab"], nullCount: 0, min: "ab", max: "abc" },
  { type: "DATE", values: ["2024-01-02", "1969-12-31"], nullCount: 0, min: -1, max: 19724 },
  { type: "TIME(0)", values: ["10:00:01", "00:00:00"], nullCount: 0, min: 0, max: 36_001_000 },
  { type: "TIME(3)", values: ["23:59:59.999", null], nullCount: 1, min: 86_399_999, max: 86_399_999 },
  // TIME is milliseconds of the day in Fluss: finer digits are floored.
  {
    type: "TIME(9)",
    values: ["10:00:00.123456789", "10:00:00.123999999"],
    nullCount: 0,
    min: 36_000_123,
    max: 36_000_123,
  },
  {
    type: "TIMESTAMP(0)",
    values: ["2024-01-01T00:00:01", "1969-12-31T23:59:59"],
    nullCount: 0,
    min: ts(-1000),
    max: ts(1704067201000),
  },
  { type: "TIMESTAMP(3)", values: [new Date(5), new Date(-5)], nullCount: 0, min: ts(-5), max: ts(5) },
  {
    type: "TIMESTAMP(6)",
    values: [1_000_001n, 999_999n],
    nullCount: 0,
    min: ts(999, 999_000),
    max: ts(1000, 1000),
  },
  {
    type: "TIMESTAMP(9)",
    values: [-1n, 1_000_000_000_000_000_001n],
    nullCount: 0,
    min: ts(-1, 999_999),
    max: ts(1_000_000_000_000, 1),
  },
  {
    type: "TIMESTAMP_LTZ(3)",
    values: ["2024-05-01T12:00:00+02:00", null],
    nullCount: 1,
    min: ts(1714557600000),
    max: ts(1714557600000),
  },
  { type: "TIMESTAMP_LTZ(9)", values: [123n, 5n], nullCount: 0, min: ts(0, 5), max: ts(0, 123) },
  { type: "INT", values: [null, null], nullCount: 2, min: null, max: null },
  { type: "STRING", values: [null], nullCount: 1, min: null, max: null },
  { type: "DECIMAL(20, 0)", values: [null, null], nullCount: 2, min: null, max: null },
  { type: "TIMESTAMP(9)", values: [null], nullCount: 1, min: null, max: null },
];

describe("column statistics per type", () => {
  for (const c of cases) {
    it(`${c.type} ${JSON.stringify(c.values, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`, () => {
      const schema = parseSchema(`id INT, v ${c.type}`);
      const rows = c.values.map((v, i) => ({ id: i, v }));
      const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: true });
      expect(isBatchValid(batch)).toBe(true);
      expect(readBatchHeader(batch).magic).toBe(MAGIC_V1);
      const stats = readBatchStatistics(batch, schema)!;
      expect(stats.columnIndexes).toEqual([0, 1]);
      expect(stats.columns[1]).toEqual({ nullCount: c.nullCount, min: c.min, max: c.max });
      // The block round-trips on its own too.
      expect(decodeBatchStatistics(encodeBatchStatistics(schema, stats), schema.columns)).toEqual(stats);
      // And the records are untouched.
      const decoded = decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true });
      expect(decoded.recordBatch.numRows).toBe(c.values.length);
    });
  }
});

describe("the statistics block layout (Fluss's LogRecordBatchStatisticsWriter)", () => {
  it("matches the bytes Fluss writes", () => {
    const schema = parseSchema("a INT, s STRING");
    const rows: InputRow[] = [
      { a: 1, s: "x" },
      { a: 3, s: null },
    ];
    const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: "s, a" });
    const h = readBatchHeader(batch);
    const block = batch.subarray(h.statisticsOffset, h.statisticsOffset + h.statisticsLength);
    const row = (s: number, a: number): number[] => [
      ...[0, 0, 0, 0, 0, 0, 0, 0], // header byte + null bits (none null)
      ...[s, 0, 0, 0, 0, 0, 0, 0x81], // "x" inline: byte 7 = 0x80 | length
      ...[a, 0, 0, 0, 0, 0, 0, 0], // INT, little-endian
    ];
    expect([...block]).toEqual([
      1, // version
      ...[2, 0], // column count
      ...[1, 0, 0, 0], // column indexes: s (1), a (0)
      ...[1, 0, 0, 0, 0, 0, 0, 0], // null counts
      ...[24, 0, 0, 0],
      ...row(0x78, 1),
      ...[24, 0, 0, 0],
      ...row(0x78, 3),
    ]);
    expect(h.statisticsOffset).toBe(HEADER_SIZE_V1);
    expect(h.recordsOffset).toBe(HEADER_SIZE_V1 + block.length);
  });

  it("sets the null bit (field + 8) and writes a zero slot for an all-null column", () => {
    const schema = parseSchema("a INT");
    const stats: BatchStatistics = { columnIndexes: [0], columns: [{ nullCount: 2, min: null, max: null }] };
    const block = encodeBatchStatistics(schema, stats);
    const minRow = block.subarray(3 + 6 + 4, 3 + 6 + 4 + 16);
    expect([...minRow]).toEqual([0, 1, 0, 0, 0, 0, 0, 0, ...new Array(8).fill(0)]);
  });

  it("puts long strings, wide decimals and fine timestamps in the 8-byte aligned variable part", () => {
    const schema = parseSchema("s STRING, d DECIMAL(20, 2), t TIMESTAMP(6)");
    const stats: BatchStatistics = {
      columnIndexes: [0, 1, 2],
      columns: [
        { nullCount: 0, min: "abcdefghij", max: "abcdefghij" },
        { nullCount: 0, min: -1n, max: -1n },
        { nullCount: 0, min: { epochMs: 7, nanoOfMs: 9000 }, max: { epochMs: 7, nanoOfMs: 9000 } },
      ],
    };
    const block = encodeBatchStatistics(schema, stats);
    const size = new DataView(block.buffer).getInt32(3 + 18, true);
    // 8 null-bit bytes + 3 slots + 16 (10-byte string padded) + 16 (decimal) + 8 (timestamp ms).
    expect(size).toBe(8 + 24 + 16 + 16 + 8);
    const row = block.subarray(3 + 18 + 4, 3 + 18 + 4 + size);
    const dv = new DataView(row.buffer, row.byteOffset);
    expect(dv.getBigUint64(8, true)).toBe((32n << 32n) | 10n); // string: offset 32, length 10
    expect(dv.getBigUint64(16, true)).toBe((48n << 32n) | 1n); // decimal: offset 48, 1 byte
    expect(row[48]).toBe(0xff); // BigInteger(-1).toByteArray() = [0xff]
    expect(dv.getBigUint64(24, true)).toBe((64n << 32n) | 9000n); // timestamp: offset 64, nano-of-ms
    expect(dv.getBigInt64(64, true)).toBe(7n);
    expect(decodeBatchStatistics(block, schema.columns)).toEqual(stats);
  });

  it("reads an unknown version or an empty column list as no statistics, and refuses a corrupt block", () => {
    const schema = parseSchema("a INT");
    const block = encodeBatchStatistics(schema, {
      columnIndexes: [0],
      columns: [{ nullCount: 0, min: 1, max: 2 }],
    });
    const v2 = block.slice();
    v2[0] = 2;
    expect(decodeBatchStatistics(v2, schema.columns)).toBeNull();
    expect(decodeBatchStatistics(Uint8Array.of(1, 0, 0), schema.columns)).toBeNull();
    const badIndex = block.slice();
    badIndex[3] = 5;
    expect(errorKind(() => decodeBatchStatistics(badIndex, schema.columns))).toBe("CORRUPT_RECORD_EXCEPTION");
    expect(errorKind(() => decodeBatchStatistics(block.subarray(0, 20), schema.columns))).toBe(
      "CORRUPT_RECORD_EXCEPTION",
    );
  });
});

describe("which columns get statistics", () => {
  const schema = parseSchema("id BIGINT, raw BYTES, name STRING, bin BINARY(2)");

  it("follows table.statistics.columns", () => {
    expect(resolveStatisticsColumns(schema, undefined)).toBeNull();
    expect(resolveStatisticsColumns(schema, false)).toBeNull();
    expect(resolveStatisticsColumns(schema, true)).toEqual([0, 2]);
    expect(resolveStatisticsColumns(schema, " * ")).toEqual([0, 2]);
    expect(resolveStatisticsColumns(schema, "name, id")).toEqual([2, 0]);
    expect(resolveStatisticsColumns(schema, ["id"])).toEqual([0]);
  });

  it("refuses unknown, unsupported, repeated and empty column lists", () => {
    for (const spec of ["nope", "raw", "id,id", " , ", "bin"]) {
      expect(errorKind(() => resolveStatisticsColumns(schema, spec))).toBe("INVALID_CONFIG_EXCEPTION");
    }
  });

  it("computes only the chosen columns", () => {
    const rows = [{ id: 1n, raw: new Uint8Array([1]), name: "n", bin: new Uint8Array([1, 2]) }];
    const batch = buildArrowLogBatch({ schema, schemaId: 3, rows, compression, statistics: ["name"] });
    const stats = readBatchStatistics(batch, schema)!;
    expect(stats.columnIndexes).toEqual([2]);
    expect(stats.columns).toEqual([undefined, undefined, { nullCount: 0, min: "n", max: "n" }, undefined]);
  });
});

describe("magic v1 batches", () => {
  const schema = parseSchema("id BIGINT NOT NULL, name STRING, amount DECIMAL(10, 2)");
  const rows: InputRow[] = [
    { id: 1, name: "one", amount: "1.10" },
    { id: 2, name: null, amount: null },
    { id: 3, name: "three", amount: -3 },
  ];

  it("are valid, decode with and without change types, and survive stamping", () => {
    for (const changeTypes of [
      undefined,
      Uint8Array.of(ChangeType.INSERT, ChangeType.DELETE, ChangeType.INSERT),
    ]) {
      const batch = buildArrowLogBatch({
        schema,
        schemaId: 1,
        rows,
        compression,
        statistics: true,
        changeTypes,
      });
      expect(isBatchValid(batch)).toBe(true);
      stampBatch(batch, 1000n, 1_700_000_000_000n);
      expect(isBatchValid(batch)).toBe(true);
      const decoded = decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true });
      expect(decoded.header.baseOffset).toBe(1000n);
      expect(decoded.changeTypes === null ? null : [...decoded.changeTypes]).toEqual(
        changeTypes === undefined ? null : [...changeTypes],
      );
      expect(readRows(decoded.recordBatch, schema.columns).map((r) => r.id)).toEqual([1n, 2n, 3n]);
      expect(readBatchStatistics(batch, schema)?.columns[0]).toEqual({ nullCount: 0, min: 1n, max: 3n });
    }
  });

  it("fail the CRC check when a statistics byte changes", () => {
    const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: true });
    const h = readBatchHeader(batch);
    const copy = batch.slice();
    copy[h.statisticsOffset + 5]! ^= 1;
    expect(isBatchValid(copy)).toBe(false);
  });

  it("lose their statistics when projected, as in Fluss", () => {
    const v1 = buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: true });
    const v0 = buildArrowLogBatch({ schema, schemaId: 1, rows, compression });
    const projected = projectLogBatches(new Uint8Array([...v1, ...v0]), createProjectionPlan(schema, [2, 0]));
    const first = readBatchHeader(projected);
    expect(first.magic).toBe(MAGIC_V1);
    expect(first.statisticsLength).toBe(0);
    expect(readBatchStatistics(projected, schema)).toBeNull();
    const columns = [schema.columns[2]!, schema.columns[0]!];
    const a = decodeArrowLogBatch(projected, columns);
    const b = decodeArrowLogBatch(projected.subarray(first.sizeBytes), columns);
    expect(readRows(a.recordBatch, columns)).toEqual(readRows(b.recordBatch, columns));
    expect(readRows(a.recordBatch, columns)[0]).toEqual({ amount: "1.10", id: 1n });
  });

  it("without records are header-only v1 batches without statistics", () => {
    const batch = buildArrowLogBatch({ schema, schemaId: 1, rows: [], compression, statistics: true });
    expect(batch.byteLength).toBe(HEADER_SIZE_V1);
    expect(isBatchValid(batch)).toBe(true);
    expect(readBatchStatistics(batch, schema)).toBeNull();
    expect(decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true }).recordBatch.numRows).toBe(0);
  });

  it("are not written without the option; v0 batches have no statistics", () => {
    const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression });
    expect(readBatchHeader(batch).magic).toBe(MAGIC_V0);
    expect(readBatchStatistics(batch, schema)).toBeNull();
  });

  it("carry statistics equal to computeBatchStatistics over the Arrow batch", () => {
    const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: true });
    const decoded = decodeArrowLogBatch(batch, schema.columns);
    expect(readBatchStatistics(batch, schema)).toEqual(
      computeBatchStatistics(decoded.recordBatch, schema, [0, 1, 2]),
    );
  });
});

describe("string statistics are bounded (STATISTICS_VALUE_BYTES_MAX)", () => {
  const schema = parseSchema("id INT, s STRING, c CHAR(100)");
  const enc = new TextEncoder();
  const bytesOf = (v: ScalarValue | null | undefined): number =>
    typeof v === "string" ? enc.encode(v).length : Number.NaN;

  it("a row with a 10 MB string costs about 10 MB, not three times that", () => {
    const big = "x".repeat(10 * 1024 * 1024);
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows: [{ id: 1, s: big, c: "c" }],
      compression,
      statistics: true,
    });
    // The string once in the Arrow body, plus a header, offsets and statistics of a few hundred bytes.
    expect(batch.byteLength).toBeGreaterThan(10 * 1024 * 1024);
    expect(batch.byteLength).toBeLessThan(10 * 1024 * 1024 + 4096);
    const s = readBatchStatistics(batch, schema)!.columns[1]!;
    expect(s.min).toBe("x".repeat(STATISTICS_VALUE_BYTES_MAX));
    expect(s.max).toBe(`${"x".repeat(STATISTICS_VALUE_BYTES_MAX - 1)}y`);
  });

  it("keeps values of at most the limit exact and truncates longer ones to bounds", () => {
    const n = STATISTICS_VALUE_BYTES_MAX;
    const exact = "a".repeat(n);
    const stats = (values: string[]) => {
      const rows = values.map((s, id) => ({ id, s, c: null }));
      return readBatchStatistics(
        buildArrowLogBatch({ schema, schemaId: 1, rows, compression, statistics: true }),
        schema,
      )!.columns[1]!;
    };
    expect(stats([exact, "b"])).toMatchObject({ min: exact, max: "b" });
    // Min: a prefix (a lower bound). Max: the prefix with its last code point incremented.
    expect(stats([`${exact}zzz`, "b"])).toMatchObject({ min: exact, max: "b" });
    expect(stats(["0", `${exact}zzz`])).toMatchObject({ min: "0", max: `${"a".repeat(n - 1)}b` });
    // A code point is never split: after "a", each 2-byte "é" starts at an odd byte, so the cut
    // at an even limit falls before the straddling one.
    const accents = `a${"é".repeat(n)}`;
    const s = stats([accents]);
    expect(s.min).toBe(`a${"é".repeat(n / 2 - 1)}`);
    expect(bytesOf(s.min)).toBe(n - 1);
    expect(s.max).toBe(`a${"é".repeat(n / 2 - 2)}ê`);
    // U+FFFF + 1 is U+10000 (4 bytes); U+D7FF + 1 skips the surrogates to U+E000.
    expect(stats([`${"a".repeat(n - 3)}\uffff-tail`]).max).toBe(`${"a".repeat(n - 3)}\u{10000}`);
    expect(stats([`${"a".repeat(n - 3)}\ud7ff-tail`]).max).toBe(`${"a".repeat(n - 3)}\ue000`);
    // Trailing U+10FFFF cannot be incremented: the code point before it is.
    expect(stats([`${"a".repeat(n - 8)}\u{10ffff}\u{10ffff}-tail`]).max).toBe(`${"a".repeat(n - 9)}b`);
  });

  it("drops the max (unbounded) when no prefix can be rounded up", () => {
    const top = "\u{10ffff}".repeat(STATISTICS_VALUE_BYTES_MAX); // 4 bytes each
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows: [
        { id: 1, s: top, c: null },
        { id: 2, s: "a", c: null },
      ],
      compression,
      statistics: true,
    });
    expect(readBatchStatistics(batch, schema)!.columns[1]).toEqual({ nullCount: 0, min: "a", max: null });
  });

  it("bounds CHAR columns the same way", () => {
    const c = "q".repeat(100);
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows: [{ id: 1, s: null, c }],
      compression,
      statistics: true,
    });
    const st = readBatchStatistics(batch, schema)!.columns[2]!;
    expect(bytesOf(st.min)).toBe(STATISTICS_VALUE_BYTES_MAX);
    expect(st.min! <= c && c < (st.max as string)).toBe(true);
  });
});
