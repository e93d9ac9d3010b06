// Filtered reads: batches a selector rejects are skipped without reading their bodies, across
// segments, within the byte and examination limits, and the examined end lets a reader continue.

import { ManualClock, readBatchHeader, splitBatches } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, removeTempDirs, tempDir } from "./helpers.ts";

afterEach(removeTempDirs);

async function tabletWith(batches: number, recordsPerBatch: number): Promise<LogTablet> {
  const t = await LogTablet.open({
    dir: await tempDir(),
    clock: new ManualClock(1_000),
    config: { segmentBytesMax: 16 * 1024, flush: { mode: "never" } },
  });
  for (let i = 0; i < batches; i++) {
    await t.append(batch({ records: recordsPerBatch, bodyBytes: 500, seed: i }));
  }
  t.updateHighWatermark(t.logEndOffset);
  return t;
}

describe("LogTablet.readSelected", () => {
  it("returns only the selected batches, across segments, and where it stopped", async () => {
    const t = await tabletWith(100, 10);
    const seen: bigint[] = [];
    const r = await t.readSelected(
      0n,
      1 << 20,
      t.highWatermark,
      (prefix, header) => {
        expect(readBatchHeader(prefix).baseOffset).toBe(header.baseOffset);
        seen.push(header.baseOffset);
        return header.baseOffset % 200n === 0n;
      },
      1 << 30,
    );
    const kept = splitBatches(r.records, { verifyCrc: true, allowPartialTail: false }).map(
      (b) => b.header.baseOffset,
    );
    expect(kept).toEqual([0n, 200n, 400n, 600n, 800n]);
    expect(seen.length).toBe(100);
    expect(r.examinedEnd).toBe(1000n);
    await t.close();
  });

  it("stops at the examination limit and at the byte limit, keeping at least one batch", async () => {
    const t = await tabletWith(50, 10);
    const none = await t.readSelected(0n, 1 << 20, t.highWatermark, () => false, 5_000);
    expect(none.records.byteLength).toBe(0);
    expect(none.examinedEnd).toBeGreaterThan(0n);
    expect(none.examinedEnd).toBeLessThan(500n);
    const one = await t.readSelected(0n, 1, t.highWatermark, () => true, 1 << 30);
    expect(splitBatches(one.records, { verifyCrc: true, allowPartialTail: false }).length).toBe(1);
    const capped = await t.readSelected(0n, 1 << 20, 200n, () => true, 1 << 30);
    const last = splitBatches(capped.records, { verifyCrc: true, allowPartialTail: false }).at(-1)!;
    expect(last.header.baseOffset + BigInt(last.header.lastOffsetDelta)).toBeLessThan(200n);
    await t.close();
  });
});
