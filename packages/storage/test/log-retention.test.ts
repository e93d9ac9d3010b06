// Retention by commit-timestamp TTL (closed segments only, never past the high watermark) and
// truncation for replicas.

import fs from "node:fs";
import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const config = { segmentBytesMax: 2048, flush: { mode: "never" as const } };

/** 10 segments of two 1000-byte batches, segment k committed at t0 + k hours. */
async function tenSegments(dir: string, clock: TestClock): Promise<LogTablet> {
  const tablet = await LogTablet.open({ dir, clock, config });
  for (let i = 0; i < 20; i++) {
    await tablet.append(batch({ bodyBytes: 952, seed: i }));
    if (i % 2 === 1) clock.advance(3_600_000);
  }
  expect(tablet.stats().segments).toBe(10);
  return tablet;
}

describe("retention", () => {
  it("deletes only expired closed segments, up to the high watermark", async () => {
    const dir = await tempDir();
    const clock = new TestClock(0);
    const tablet = await tenSegments(dir, clock);
    // now = 10 h. Segment k's newest commit is at k h.
    expect(tablet.deleteExpiredSegments(0)).toBe(0);
    // Nothing is committed yet: nothing may go.
    expect(tablet.deleteExpiredSegments(60_000)).toBe(0);
    tablet.updateHighWatermark(6n);
    // TTL 5.5 h: segments 0..4 are expired, but only 0..2 lie wholly below the high watermark.
    expect(tablet.deleteExpiredSegments(5.5 * 3_600_000)).toBe(3);
    expect(tablet.logStartOffset).toBe(6n);
    tablet.updateHighWatermark(tablet.logEndOffset);
    expect(tablet.deleteExpiredSegments(5.5 * 3_600_000)).toBe(2);
    expect(tablet.logStartOffset).toBe(10n);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".log")).length).toBe(5);
    // The active segment survives even when everything is expired.
    clock.advance(100 * 3_600_000);
    expect(tablet.deleteExpiredSegments(1)).toBe(4);
    expect(tablet.logStartOffset).toBe(18n);
    const err = await tablet.read(0n, 100, 20n).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION)).toBe(true);
    const r = await tablet.read(18n, 1 << 20, 20n);
    expect(r.records.byteLength).toBe(2000);
    expect(r.logStartOffset).toBe(18n);
    await tablet.close();
    // The log start offset survives a restart (it is the first segment's base offset).
    const again = await LogTablet.open({ dir, clock, config });
    expect(again.logStartOffset).toBe(18n);
    expect(again.logEndOffset).toBe(20n);
    await again.close();
  });

  it("keeps reading a segment that retention deletes mid-read", async () => {
    const dir = await tempDir();
    const clock = new TestClock(0);
    const tablet = await tenSegments(dir, clock);
    tablet.updateHighWatermark(tablet.logEndOffset);
    const pending = tablet.read(0n, 1000, 20n);
    expect(tablet.deleteExpiredSegments(1)).toBe(9);
    const r = await pending;
    expect(r.records.byteLength).toBe(1000);
    await tablet.close();
  });
});

describe("truncateTo", () => {
  it("cuts the log at a batch boundary, across segments, and appends after the cut", async () => {
    const dir = await tempDir();
    const clock = new TestClock(0);
    const tablet = await tenSegments(dir, clock);
    tablet.truncateTo(7n);
    expect(tablet.logEndOffset).toBe(7n);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".log")).length).toBe(4);
    const info = await tablet.append(batch({ seed: 99, records: 3 }));
    expect(info.firstOffset).toBe(7n);
    const r = await tablet.read(6n, 1 << 20, tablet.logEndOffset);
    expect(r.records.byteLength).toBe(1000 + batch({ seed: 99, records: 3 }).byteLength);
    // Truncating inside a multi-offset batch removes the whole batch.
    tablet.truncateTo(9n);
    expect(tablet.logEndOffset).toBe(7n);
    await tablet.close();
    const again = await LogTablet.open({ dir, clock, config });
    expect(again.logEndOffset).toBe(7n);
    await again.close();
  });

  it("fails appends still waiting for their flush when their offsets are truncated away", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    await tablet.append(batch({ seed: 1 }));
    const pending = tablet.append(batch({ seed: 2 })); // written, waiting for the group commit
    tablet.truncateTo(1n);
    const err = await pending.catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.LOG_STORAGE_EXCEPTION)).toBe(true);
    expect(tablet.logEndOffset).toBe(1n);
    expect((await tablet.append(batch({ seed: 3 }))).firstOffset).toBe(1n);
    expect(tablet.flushedOffset).toBe(2n);
    await tablet.close();
  });
});
