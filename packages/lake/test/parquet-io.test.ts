// Unit tests of the lake's Parquet reads: every lake column type (with nulls) comes back equal
// through parquet-wasm and the Arrow C data interface copy, from bytes and from a file; a
// projection returns only the asked columns and reads only their column chunks (bytes counted
// at the file source); row-group selection returns only those row groups; a truncated file fails.

import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ParquetSource,
  ROW_GROUP_ROWS_MAX,
  readFooterOf,
  readParquet,
  writeParquet,
} from "../src/parquet-io.ts";

const ROWS = 1000;
const nth = <T>(i: number, v: T): T | null => (i % 7 === 3 ? null : v);

function dec(i: number): Uint32Array {
  // A Decimal128 value: little-endian 32-bit words of i * 1000 + 1 (non-negative, fits one word).
  return Uint32Array.of(i * 1000 + 1, 0, 0, 0);
}

/** One batch of every type the lake stores (lake-schema.ts), each column with nulls. */
function allTypes(rows: number): RecordBatch {
  const cols: [string, DataType, (i: number) => unknown][] = [
    ["b", new Bool(), (i) => nth(i, i % 2 === 0)],
    ["i", new Int32(), (i) => nth(i, i - 500)],
    ["l", new Int64(), (i) => nth(i, BigInt(i) * 10_000_000_000n)],
    ["f", new Float32(), (i) => nth(i, i / 4)],
    ["d", new Float64(), (i) => nth(i, i / 3)],
    ["s", new Utf8(), (i) => nth(i, `str-${i}-${"x".repeat(i % 13)}`)],
    ["bin", new Binary(), (i) => nth(i, Uint8Array.of(i & 255, (i >> 8) & 255, 7))],
    ["fix", new FixedSizeBinary(3), (i) => nth(i, Uint8Array.of(1, 2, i & 255))],
    ["dt", new DateDay(), (i) => nth(i, new Date(Date.UTC(2026, 0, 1) + i * 86_400_000))],
    ["tm", new TimeMicrosecond(), (i) => nth(i, BigInt(i) * 1_000_001n)],
    ["ts", new TimestampMicrosecond(null), (i) => nth(i, 1_700_000_000_000 + i)],
    ["tz", new TimestampMicrosecond("UTC"), (i) => nth(i, 1_700_000_000_000 + i * 3)],
  ];
  const fields = cols.map(([n, t]) => new Field(n, t, true));
  const children = cols.map(
    ([, t, f]) =>
      vectorFromArray(
        Array.from({ length: rows }, (_, i) => f(i)),
        t,
      ).data[0]!,
  );
  // Decimal(10, 2) from raw words (vectorFromArray has no decimal builder input form).
  const decType = new Decimal(2, 10, 128);
  const decValues = new Uint32Array(rows * 4);
  const validity = new Uint8Array(Math.ceil(rows / 8));
  let nulls = 0;
  for (let i = 0; i < rows; i++) {
    if (nth(i, 1) === null) nulls++;
    else {
      decValues.set(dec(i), i * 4);
      validity[i >> 3]! |= 1 << (i & 7);
    }
  }
  fields.push(new Field("dec", decType, true));
  children.push(
    makeData({ type: decType, length: rows, nullCount: nulls, nullBitmap: validity, data: decValues }),
  );
  const schema = new Schema(fields);
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }),
  );
}

/** Row values as plain JSON-able text (bigint, bytes and decimals as strings). */
function rowsOf(batches: readonly RecordBatch[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.numRows; i++) {
      const row: Record<string, unknown> = {};
      for (const n of names) {
        const v: unknown = b.getChild(n)!.get(i);
        row[n] =
          typeof v === "bigint"
            ? `${v}n`
            : v instanceof Uint8Array
              ? `0x${Buffer.from(v).toString("hex")}`
              : v instanceof Uint32Array
                ? `dec${[...v].join(",")}`
                : v;
      }
      out.push(JSON.stringify(row));
    }
  }
  return out;
}

describe("lake Parquet reads", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-parquet-io-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("returns every lake column type, nulls included, equal to what was written (bytes and file)", async () => {
    const batch = allTypes(ROWS);
    const names = batch.schema.fields.map((f) => f.name);
    const bytes = writeParquet([batch]);
    const path = join(dir, "all.parquet");
    await writeFile(path, bytes);
    const expected = rowsOf([batch], names);
    for (const got of [await readParquet(bytes), await readParquet(path)]) {
      expect(got.reduce((n, b) => n + b.numRows, 0)).toBe(ROWS);
      expect(got[0]!.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(
        batch.schema.fields.map((f) => `${f.name}:${f.type}`),
      );
      expect(rowsOf(got, names)).toEqual(expected);
      expect(got[0]!.getChild("s")!.nullCount).toBe(batch.getChild("s")!.nullCount);
    }
  });

  it("reads only the projected columns' chunks of the selected row groups", async () => {
    // 3 row groups of 10 columns (4 longs, 6 strings); read 2 columns, then one row group.
    const rows = ROW_GROUP_ROWS_MAX * 2 + 100;
    const fields: Field[] = [];
    const children = [];
    for (let c = 0; c < 10; c++) {
      if (c < 4) {
        fields.push(new Field(`c${c}`, new Int64(), false));
        const data = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * (c + 1)));
        children.push(makeData({ type: new Int64(), length: rows, nullCount: 0, data }));
      } else {
        fields.push(new Field(`c${c}`, new Utf8(), true));
        const values = Array.from({ length: rows }, (_, i) => `${c}:${(i * 2654435761) % 1000003}`);
        children.push(vectorFromArray(values, new Utf8()).data[0]!);
      }
    }
    const batch = new RecordBatch(
      new Schema(fields),
      makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }),
    );
    const path = join(dir, "wide.parquet");
    const bytes = writeParquet([batch]);
    await writeFile(path, bytes);
    expect((await readFooterOf(path)).rowGroups.length).toBe(3);

    const all = { bytesRead: 0 };
    const full = await readParquet(path, { stats: all });
    expect(full.reduce((n, b) => n + b.numRows, 0)).toBe(rows);
    const two = { bytesRead: 0 };
    const proj = await readParquet(path, { columns: ["c1", "c7"], stats: two });
    expect(proj.every((b) => b.schema.fields.map((f) => f.name).join() === "c1,c7")).toBe(true);
    const c1 = proj.flatMap((b) => [...(b.getChild("c1")!.data[0]!.values as BigInt64Array)]);
    expect(c1).toEqual([...(children[1]!.values as BigInt64Array)]);
    const c7 = proj.flatMap((b) => b.getChild("c7")!.toArray() as string[]);
    expect(c7.length).toBe(rows);
    for (const i of [0, 1, 65_535, 65_536, rows - 1]) expect(c7[i]).toBe(batch.getChild("c7")!.get(i));
    // Everything once for the full read; about 2/10 of it (plus the footer) for the projection.
    expect(all.bytesRead).toBeGreaterThan(bytes.length * 0.9);
    expect(two.bytesRead).toBeLessThan(bytes.length * 0.3);

    const one = { bytesRead: 0 };
    const rg = await readParquet(path, { columns: ["c1"], rowGroups: [2], stats: one });
    expect(rg.reduce((n, b) => n + b.numRows, 0)).toBe(100);
    expect(rg[0]!.getChild("c1")!.get(0)).toBe(BigInt(ROW_GROUP_ROWS_MAX * 2 * 2));
    expect(one.bytesRead).toBeLessThan(two.bytesRead / 4);
    expect(await readParquet(path, { rowGroups: [] })).toEqual([]);
  });

  it("fails on a truncated file and closes it", async () => {
    const path = join(dir, "cut.parquet");
    await writeFile(path, writeParquet([allTypes(ROWS)]));
    await truncate(path, 100);
    await expect(readParquet(path)).rejects.toThrow();
    const src = await ParquetSource.open(path);
    expect(src.size).toBe(100);
    await expect(src.slice(50, 500).arrayBuffer()).resolves.toHaveProperty("byteLength", 50);
    await src.close();
  });
});
