// Flush policies: group commit under "always", the recovery point, interval flushing, and the
// memory bound of reading a large log.

import { ManualScheduler, readBatchHeader, splitBatches } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, eventually, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

describe("flush policies", () => {
  it("group-commits 100 concurrent appends into few fdatasyncs, all durable", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    const batches = Array.from({ length: 100 }, (_, i) => batch({ bodyBytes: 4000, records: 2, seed: i }));
    const resolved: bigint[] = [];
    const infos = await Promise.all(
      batches.map((b) =>
        tablet.append(b).then((info) => {
          // Resolved only once flushed past its own last offset.
          expect(tablet.flushedOffset).toBeGreaterThan(info.lastOffset);
          resolved.push(info.lastOffset);
          return info;
        }),
      ),
    );
    expect(resolved.length).toBe(100);
    expect(new Set(infos.map((i) => i.firstOffset)).size).toBe(100);
    expect(tablet.stats().flushes).toBeLessThanOrEqual(3);
    expect(tablet.flushedOffset).toBe(200n);
    // Durable: a crash now (no close) loses nothing.
    const reopened = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    expect(reopened.logEndOffset).toBe(200n);
    const r = await reopened.read(0n, 64 << 20, 200n);
    expect(splitBatches(r.records, { verifyCrc: true, allowPartialTail: false }).length).toBe(100);
    await reopened.close();
  });

  it("keeps appends flowing while a flush runs, in offset order", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    const order: bigint[] = [];
    const all: Promise<unknown>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++)
        all.push(tablet.append(batch({ seed: round * 5 + i })).then((x) => order.push(x.firstOffset)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(order).toEqual([...order].sort((a, b) => (a < b ? -1 : 1)));
    expect(tablet.stats().flushes).toBeLessThan(100);
    await tablet.close();
  });

  it("flushes on the scheduler's beat in interval mode and leaves it to the OS in never mode", async () => {
    const dir = await tempDir();
    const scheduler = new ManualScheduler();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      scheduler,
      config: { flush: { mode: "interval", intervalMs: 50 } },
    });
    await tablet.append(batch());
    await tablet.append(batch());
    expect(tablet.flushedOffset).toBe(0n);
    scheduler.advance(49);
    expect(tablet.flushedOffset).toBe(0n);
    scheduler.advance(1);
    await eventually(() => tablet.flushedOffset === 2n);
    await tablet.close();

    const never = await LogTablet.open({
      dir: await tempDir(),
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    await never.append(batch());
    expect(never.flushedOffset).toBe(0n);
    await never.flush();
    expect(never.flushedOffset).toBe(1n);
    await never.close();
  });

  it("advances the recovery point past rolled segments even in never mode", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 2048, flush: { mode: "never" } },
    });
    for (let i = 0; i < 5; i++) await tablet.append(batch({ bodyBytes: 952, seed: i }));
    expect(tablet.flushedOffset).toBe(0n);
    // The rolls (at offsets 2 and 4) started background flushes up to at least the active segment.
    await eventually(() => tablet.flushedOffset >= 4n);
    await tablet.close();
  });
});

describe("memory bound", () => {
  it("reads ~200 MB through read() in 1 MB chunks with bounded RSS growth", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 32 * 1024 * 1024, flush: { mode: "never" } },
    });
    const template = batch({ bodyBytes: 1024 * 1024 - 48 - 4096, records: 100, seed: 3 });
    const count = 200;
    for (let i = 0; i < count; i++) await tablet.append(Uint8Array.from(template));
    await tablet.flush();
    expect(tablet.stats().segments).toBeGreaterThan(5);
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    let offset = 0n;
    let batches = 0;
    let bytes = 0;
    for (let i = 0; i < 10_000 && offset < tablet.logEndOffset; i++) {
      const r = await tablet.read(offset, 1024 * 1024, tablet.logEndOffset);
      const read = splitBatches(r.records, { verifyCrc: false, allowPartialTail: false });
      expect(read.length).toBeGreaterThan(0);
      offset = readBatchHeader(read[read.length - 1].bytes).baseOffset + 100n;
      batches += read.length;
      bytes += r.records.byteLength;
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    expect(batches).toBe(count);
    expect(bytes).toBe(count * template.byteLength);
    if (process.env.FLUSS_TEST_VERBOSE)
      console.log(`rss growth ${((rssMax - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
    expect(rssMax - rssBefore).toBeLessThan(100 * 1024 * 1024);
    await tablet.close();
  }, 15_000);
});
