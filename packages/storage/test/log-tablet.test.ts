// Appends, reads (bounds, at-least-one-batch, across segments), rolls, timestamps, events.

import fs from "node:fs";
import path from "node:path";
import { Errors, isFlussError, readBatchHeader, splitBatches } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, concat, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

async function expectError(p: Promise<unknown>, kind: { code: number }): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isFlussError(err) && err.code === kind.code, `expected error ${kind.code}, got ${String(err)}`).toBe(
    true,
  );
}

/** Append `count` batches of varying size and record count; returns the stamped batches. */
async function fill(tablet: LogTablet, count: number, clock?: TestClock): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const b = batch({ bodyBytes: 50 + ((i * 37) % 250), records: 1 + (i % 4), seed: i });
    const info = await tablet.append(b);
    expect(info.duplicate).toBe(false);
    out.push(b);
    clock?.advance(10);
  }
  return out;
}

describe("LogTablet append and read", () => {
  it("assigns offsets by lastOffsetDelta, rolls segments, and reads everything back byte-identical", async () => {
    const dir = await tempDir();
    const clock = new TestClock();
    const tablet = await LogTablet.open({
      dir,
      clock,
      config: { segmentBytesMax: 1024, indexIntervalBytes: 64, flush: { mode: "never" } },
    });
    const batches = await fill(tablet, 60, clock);
    let expectedOffset = 0n;
    for (const b of batches) {
      const h = readBatchHeader(b);
      expect(h.baseOffset).toBe(expectedOffset);
      expectedOffset += BigInt(h.lastOffsetDelta) + 1n;
    }
    expect(tablet.logEndOffset).toBe(expectedOffset);
    expect(tablet.stats().segments).toBeGreaterThan(5);
    const logs = fs.readdirSync(dir).filter((n) => n.endsWith(".log"));
    expect(logs.length).toBe(tablet.stats().segments);
    expect(logs[0]).toBe("00000000000000000000.log");
    for (const name of logs) expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1024);

    const all = await tablet.read(0n, 10 * 1024 * 1024, tablet.logEndOffset);
    expect(Buffer.from(all.records).equals(concat(batches))).toBe(true);

    // Every offset, read with a 1-byte budget, returns exactly the batch holding it.
    for (const b of batches) {
      const h = readBatchHeader(b);
      for (let o = h.baseOffset; o <= h.baseOffset + BigInt(h.lastOffsetDelta); o++) {
        const r = await tablet.read(o, 1, tablet.logEndOffset);
        expect(Buffer.from(r.records).equals(Buffer.from(b))).toBe(true);
      }
    }
    await tablet.close();
  });

  it("bounds reads by maxBytes and maxOffset, and returns at least one whole batch", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const b = batch({ bodyBytes: 952, records: 2, seed: i }); // 1000 bytes, 2 offsets each
      await tablet.append(b);
      batches.push(b);
    }
    const leo = tablet.logEndOffset;
    expect(leo).toBe(20n);
    // maxBytes cuts at whole batches.
    let r = await tablet.read(0n, 2500, leo);
    expect(Buffer.from(r.records).equals(concat(batches.slice(0, 2)))).toBe(true);
    // A budget smaller than one batch still yields that one batch.
    r = await tablet.read(4n, 10, leo);
    expect(Buffer.from(r.records).equals(Buffer.from(batches[2]))).toBe(true);
    r = await tablet.read(0n, 0, leo);
    expect(r.records.byteLength).toBe(1000);
    // maxOffset (exclusive) stops before the batch holding it.
    r = await tablet.read(0n, 1 << 20, 6n);
    expect(Buffer.from(r.records).equals(concat(batches.slice(0, 3)))).toBe(true);
    r = await tablet.read(0n, 1 << 20, 5n); // inside batch 2: batch 2 is not whole below 5
    expect(Buffer.from(r.records).equals(concat(batches.slice(0, 2)))).toBe(true);
    // Nothing below maxOffset: nothing, even with the at-least-one rule.
    r = await tablet.read(6n, 1 << 20, 6n);
    expect(r.records.byteLength).toBe(0);
    tablet.updateHighWatermark(8n);
    r = await tablet.read(8n, 1 << 20, tablet.highWatermark);
    expect(r.records.byteLength).toBe(0);
    expect(r.highWatermark).toBe(8n);
    // At the end of the log: empty; past it or before the start: out of range.
    r = await tablet.read(leo, 1 << 20, leo);
    expect(r.records.byteLength).toBe(0);
    await expectError(tablet.read(leo + 1n, 100, leo + 10n), Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION);
    await expectError(tablet.read(-1n, 100, leo), Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION);
    await tablet.close();
  });

  it("continues a read into the next segment and stops where a batch does not fit", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 2048, flush: { mode: "never" } },
    });
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 9; i++) {
      const b = batch({ bodyBytes: 952, seed: i }); // 1000 bytes: two per segment
      await tablet.append(b);
      batches.push(b);
    }
    expect(tablet.stats().segments).toBe(5);
    const r = await tablet.read(1n, 3500, tablet.logEndOffset); // batch 1 ends segment 0
    expect(Buffer.from(r.records).equals(concat(batches.slice(1, 4)))).toBe(true);
    await tablet.close();
  });

  it("rejects corrupt, truncated and oversized input without appending anything", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 4096, flush: { mode: "never" } },
    });
    await tablet.append(batch({ seed: 1 }));
    const good = batch({ seed: 2 });
    const flipped = batch({ seed: 3 });
    flipped[flipped.length - 1] ^= 0x01;
    await expectError(tablet.append(concat([good, flipped])), Errors.CORRUPT_RECORD_EXCEPTION);
    await expectError(
      tablet.append(concat([good, batch().subarray(0, 30)])),
      Errors.CORRUPT_RECORD_EXCEPTION,
    );
    await expectError(tablet.append(new Uint8Array(0)), Errors.CORRUPT_RECORD_EXCEPTION);
    await expectError(tablet.append(batch({ bodyBytes: 5000 })), Errors.RECORD_TOO_LARGE_EXCEPTION);
    expect(tablet.logEndOffset).toBe(1n);
    const r = await tablet.read(0n, 1 << 20, 10n);
    expect(splitBatches(r.records, { verifyCrc: true, allowPartialTail: false }).length).toBe(1);
    await tablet.close();
  });

  it("appends several batches of one request contiguously", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    const parts = [
      batch({ records: 3, seed: 1 }),
      batch({ records: 1, seed: 2 }),
      batch({ records: 5, seed: 3 }),
    ];
    const info = await tablet.append(concat(parts));
    expect(info).toEqual({ firstOffset: 0n, lastOffset: 8n, logEndOffset: 9n, duplicate: false });
    const r = await tablet.read(0n, 1 << 20, 9n);
    const read = splitBatches(r.records, { verifyCrc: true, allowPartialTail: false });
    expect(read.map((s) => s.header.baseOffset)).toEqual([0n, 3n, 4n]);
    await tablet.close();
  });

  it("finds offsets by commit timestamp through the time index", async () => {
    const dir = await tempDir();
    const clock = new TestClock(1_000_000);
    const tablet = await LogTablet.open({
      dir,
      clock,
      config: { segmentBytesMax: 2048, indexIntervalBytes: 200, flush: { mode: "never" } },
    });
    const firstOffsets: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      clock.ms = 1_000_000 + i * 100; // batch i committed at 1_000_000 + 100 i
      const info = await tablet.append(batch({ bodyBytes: 150, records: 2, seed: i }));
      firstOffsets.push(info.firstOffset);
    }
    expect(tablet.stats().segments).toBeGreaterThan(3);
    for (let i = 0; i < 40; i++) {
      expect(await tablet.offsetForTimestamp(1_000_000 + i * 100)).toBe(firstOffsets[i]);
      expect(await tablet.offsetForTimestamp(1_000_000 + i * 100 - 50)).toBe(firstOffsets[i]);
    }
    expect(await tablet.offsetForTimestamp(0)).toBe(0n);
    expect(await tablet.offsetForTimestamp(9_000_000)).toBe(tablet.logEndOffset);
    // A clock going backwards never makes commit timestamps decrease.
    clock.ms = 5;
    await tablet.append(batch({ seed: 99 }));
    const last = await tablet.read(tablet.logEndOffset - 1n, 1, tablet.logEndOffset);
    expect(readBatchHeader(last.records).commitTimestamp).toBe(BigInt(1_000_000 + 39 * 100));
    await tablet.close();
    // The same answers after a reopen (indexes loaded from disk).
    const again = await LogTablet.open({
      dir,
      clock,
      config: { segmentBytesMax: 2048, indexIntervalBytes: 200 },
    });
    for (let i = 0; i < 40; i += 7)
      expect(await again.offsetForTimestamp(1_000_000 + i * 100)).toBe(firstOffsets[i]);
    await again.close();
  });

  it("notifies append and high-watermark listeners", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    const seen: bigint[] = [];
    const hws: bigint[] = [];
    const off = tablet.onAppend((e) => seen.push(e.logEndOffset));
    tablet.onHighWatermark((e) => hws.push(e.highWatermark));
    await tablet.append(batch({ records: 2 }));
    await tablet.append(batch({ records: 3 }));
    off();
    await tablet.append(batch());
    expect(seen).toEqual([2n, 5n]);
    expect(tablet.updateHighWatermark(4n)).toBe(4n);
    expect(tablet.updateHighWatermark(100n)).toBe(6n); // clamped to the LEO
    expect(hws).toEqual([4n, 6n]);
    await tablet.close();
  });
});
