// Resumable reads through the SDK: a scan stopped anywhere (mid-batch, between batches, with a
// filter skipping batches) saves `positions()` as JSON, and a new scan `from` them reads every
// remaining row exactly once; partitions dropped since are skipped and new ones read from the
// start; positions of another (or a re-created) table are refused; an offset outside the log fails
// with LOG_OFFSET_OUT_OF_RANGE_EXCEPTION or is clamped on request.

import { connect, type LogScanner, parseScanPositions, type ScanPositions } from "@fluss-ts/client";
import { Errors, ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const HOUR = 3_600_000;

/** Save-and-load as a program would: through JSON text. */
function roundTrip(p: ScanPositions): ScanPositions {
  return parseScanPositions(JSON.parse(JSON.stringify(p)));
}

/** Read up to `n` rows (all when undefined), returning their ids and the positions after them. */
async function readIds(
  scanner: LogScanner,
  n?: number,
): Promise<{ ids: bigint[]; positions: ScanPositions }> {
  const ids: bigint[] = [];
  if (n !== 0) {
    for await (const r of scanner) {
      ids.push(r.row.id as bigint);
      if (n !== undefined && ids.length >= n) break;
    }
  }
  return { ids, positions: roundTrip(scanner.positions()) };
}

function expectExactlyOnce(parts: bigint[][], total: number): void {
  const all = parts.flat().map(Number);
  expect(all.length).toBe(total);
  expect(new Set(all).size).toBe(total);
}

describe("resumable scans", () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 26));
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster({ "log.segment.file-size": "4kb" }, undefined, clock);
    await tc.conn.admin.createTable("fluss.events", {
      schema: "id BIGINT NOT NULL, kind STRING, pad STRING",
      buckets: 3,
    });
    const t = await tc.conn.getTable("fluss.events");
    const w = t.newAppendWriter({ batchSizeBytes: 1024, lingerMs: 0 });
    for (let i = 0; i < 600; i++) {
      await w.append({ id: BigInt(i), kind: i % 10 === 0 ? "rare" : "common", pad: "p".repeat(20) });
      if (i % 50 === 49) await w.flush();
    }
    await w.close();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("continues exactly where a scan stopped, across several stops", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const parts: bigint[][] = [];
    let from: ScanPositions | "earliest" = "earliest";
    // Stops mid-batch and at odd counts; the last scan reads the rest.
    for (const n of [1, 137, 0, 250, undefined]) {
      const r = await readIds(t.newLogScanner({ from, untilLatest: true }), n);
      parts.push(r.ids);
      from = r.positions;
    }
    expectExactlyOnce(parts, 600);
    expect(parts[2]!.length).toBe(0); // a resumed scan stopped before it started keeps its positions
    expect(parts[0]!.length).toBe(1);
    expect(parts[1]!.length).toBe(137);
    // The last positions are the end of every bucket.
    const ends = await tc.conn.admin.listOffsets("fluss.events", "latest");
    for (const b of (from as ScanPositions).buckets) expect(BigInt(b.offset)).toBe(ends.get(b.bucket));
    expect((from as ScanPositions).table).toBe("fluss.events");
  });

  it("has no positions before a fresh scan starts", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const s = t.newLogScanner({ from: "latest" });
    expect(s.positionsKnown).toBe(false);
    expect(() => s.positions()).toThrow(/has not started/);
    s.close();
  });

  it("continues after Arrow batches, and with a filter that skips batches", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const first = t.newLogScanner({ untilLatest: true });
    let taken = 0;
    for await (const b of first.batches()) {
      taken += b.recordBatch.numRows;
      if (taken > 100) break;
    }
    const rest = await readIds(t.newLogScanner({ from: roundTrip(first.positions()), untilLatest: true }));
    expect(rest.ids.length).toBe(600 - taken);
    // With a filter: 60 rare rows, read in three stops.
    const parts: bigint[][] = [];
    let from: ScanPositions | "earliest" = "earliest";
    for (const n of [7, 20, undefined]) {
      const r = await readIds(t.newLogScanner({ from, filter: "kind = 'rare'", untilLatest: true }), n);
      parts.push(r.ids);
      from = r.positions;
    }
    expectExactlyOnce(parts, 60);
    expect(parts.flat().every((id) => id % 10n === 0n)).toBe(true);
  });

  it("refuses positions of another table, or of a table dropped and re-created", async () => {
    await tc.conn.admin.createTable("fluss.other", { schema: "id BIGINT", buckets: 1 });
    const t = await tc.conn.getTable("fluss.events");
    const saved = (await readIds(t.newLogScanner({ untilLatest: true }), 5)).positions;
    const other = await tc.conn.getTable("fluss.other");
    expect(() => other.newLogScanner({ from: saved })).toThrow(/saved for table 'fluss.events'/);
    const otherSaved = (await readIds(other.newLogScanner({ untilLatest: true }))).positions;
    await tc.conn.admin.dropTable("fluss.other");
    await tc.conn.admin.createTable("fluss.other", { schema: "id BIGINT", buckets: 1 });
    const again = await tc.conn.getTable("fluss.other");
    try {
      again.newLogScanner({ from: otherSaved });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: Errors.INVALID_ARGUMENT.code });
      expect((err as Error).message).toMatch(/dropped and re-created/);
    }
    expect(() => parseScanPositions({ version: 2 })).toThrow(/version/);
    expect(() => parseScanPositions({ ...saved, buckets: [{ bucket: 0, offset: "x" }] })).toThrow(/offset/);
  });

  it("fails on an offset past the log's end, or clamps it on request", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const saved = (await readIds(t.newLogScanner({ untilLatest: true }), 3)).positions;
    const far: ScanPositions = {
      ...saved,
      buckets: saved.buckets.map((b) => (b.bucket === 1 ? { ...b, offset: "1000000" } : b)),
    };
    await expect(readIds(t.newLogScanner({ from: far, untilLatest: true }))).rejects.toMatchObject({
      code: Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION.code,
      message: expect.stringMatching(/bucket 1 at offset 1000000: the log ends at/),
    });
    const clamped = await readIds(t.newLogScanner({ from: far, untilLatest: true, outOfRange: "clamp" }));
    // Bucket 1 resumed at its end (nothing from it), the others where they were.
    const ends = await tc.conn.admin.listOffsets("fluss.events", "latest");
    const remaining = saved.buckets
      .filter((b) => b.bucket !== 1)
      .reduce((n, b) => n + Number(ends.get(b.bucket)! - BigInt(b.offset)), 0);
    expect(clamped.ids.length).toBe(remaining);
    expect(clamped.positions.buckets.find((b) => b.bucket === 1)!.offset).toBe(String(ends.get(1)));
  });

  it("fails when retention removed rows the reader never read, or clamps to the log start", async () => {
    await tc.conn.admin.createTable("fluss.ttl", {
      schema: "id BIGINT NOT NULL, pad STRING",
      buckets: 1,
      options: { "table.log.ttl": "2 h" },
    });
    const t = await tc.conn.getTable("fluss.ttl");
    const write = async (from: number, n: number) => {
      const w = t.newAppendWriter({ lingerMs: 0, batchSizeBytes: 1024 });
      for (let i = from; i < from + n; i++) {
        await w.append({ id: BigInt(i), pad: "p".repeat(60) });
        if (i % 10 === 9) await w.flush();
      }
      await w.close();
    };
    await write(0, 200);
    const saved = (await readIds(t.newLogScanner({ untilLatest: true }), 10)).positions;
    clock.advance(3 * HOUR);
    await write(200, 20);
    expect(await tc.cluster.tabletServers[0]!.tasks.enforceRetention()).toBeGreaterThan(0);
    const earliest = (await tc.conn.admin.listOffsets("fluss.ttl", "earliest")).get(0)!;
    expect(earliest).toBeGreaterThan(10n);
    await expect(readIds(t.newLogScanner({ from: saved, untilLatest: true }))).rejects.toMatchObject({
      code: Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION.code,
      message: expect.stringMatching(/offset 10: the log now starts at/),
    });
    const rest = await readIds(t.newLogScanner({ from: saved, untilLatest: true, outOfRange: "clamp" }));
    expect(rest.ids[0]).toBe(earliest);
    expect(rest.ids.at(-1)).toBe(219n);
  });
});

describe("resumable scans of a partitioned table", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("skips partitions dropped since, reads new ones from their start, resumes the rest", async () => {
    await tc.conn.admin.createTable("fluss.sales", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL",
      partitionKeys: ["dt"],
      buckets: 2,
    });
    const t = await tc.conn.getTable("fluss.sales");
    const write = async (dt: string, from: number, n: number) => {
      const w = t.newAppendWriter({ lingerMs: 0, batchSizeBytes: 1024 });
      for (let i = from; i < from + n; i++) await w.append({ id: BigInt(i), dt });
      await w.close();
    };
    await write("a", 0, 100);
    await write("b", 100, 100);
    const first = await readIds(t.newLogScanner({ untilLatest: true }), 50);
    const pos = first.positions;
    expect(new Set(pos.buckets.map((b) => b.partition))).toEqual(new Set(["a", "b"]));
    expect(pos.buckets.every((b) => b.partitionId !== null)).toBe(true);
    // While stopped: partition a is dropped, c is created with rows, b gets more rows.
    const aRead = first.ids.filter((id) => id < 100n).length;
    await tc.conn.admin.dropPartition("fluss.sales", { dt: "a" });
    await write("c", 200, 40);
    await write("b", 300, 10);
    const rest = await readIds(t.newLogScanner({ from: pos, untilLatest: true }));
    expect(rest.ids.some((id) => id < 100n)).toBe(false); // partition a is gone: skipped, no error
    // Every row of b (110) and c (40) exactly once over both scans.
    expectExactlyOnce([first.ids.filter((id) => id >= 100n), rest.ids], 150);
    expect(aRead).toBeLessThanOrEqual(50);
    expect(rest.ids.filter((id) => id >= 200n && id < 240n).length).toBe(40);
    expect(new Set(rest.positions.buckets.map((b) => b.partition))).toEqual(new Set(["b", "c"]));
    // Re-created under the same name, a partition is a new one (matched by id): read from its start.
    // (Written by another client: a writer caches partition ids, see the report.)
    await tc.conn.admin.dropPartition("fluss.sales", { dt: "c" });
    {
      await using other = await connect({ bootstrap: tc.bootstrap });
      await using w = (await other.getTable("fluss.sales")).newAppendWriter();
      for (let i = 400; i < 405; i++) await w.append({ id: BigInt(i), dt: "c" });
    }
    const again = await readIds(t.newLogScanner({ from: rest.positions, untilLatest: true }));
    expect(again.ids.sort()).toEqual([400n, 401n, 402n, 403n, 404n]);
  });
});
