// LogSegment on its own: sparse offset index, translateOffset for every offset, time index
// lookups, recovery of indexes, truncation, large reads on the thread pool (and one overtaken by a
// truncation).

import fs from "node:fs";
import { readBatchHeader, stampBatch } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { asyncReadBytesMin, LogSegment, type SegmentBatch } from "../src/log/log-segment.ts";
import { batch, removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const options = { indexIntervalBytes: 500, indexBytesMax: 1 << 20 };

/** Append `count` batches (1-4 offsets, 60-460 bytes of body) at timestamps 1000 + 10 i. */
function fillSegment(
  segment: LogSegment,
  count: number,
): { bytes: Uint8Array; base: bigint; next: bigint }[] {
  const out: { bytes: Uint8Array; base: bigint; next: bigint }[] = [];
  let offset = segment.nextOffset;
  for (let i = 0; i < count; i++) {
    const bytes = batch({ bodyBytes: 60 + ((i * 53) % 400), records: 1 + (i % 4), seed: i });
    const h = readBatchHeader(bytes);
    const next = offset + BigInt(h.lastOffsetDelta) + 1n;
    const ts = BigInt(1000 + 10 * i);
    stampBatch(bytes, offset, ts);
    const planned: SegmentBatch = {
      position: 0,
      sizeBytes: bytes.byteLength,
      baseOffset: offset,
      nextOffset: next,
      commitTimestamp: ts,
    };
    segment.append(bytes, [planned]);
    out.push({ bytes, base: offset, next });
    offset = next;
  }
  return out;
}

describe("LogSegment", () => {
  it("keeps a sparse offset index and translates every offset to its batch", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 100n, options);
    const batches = fillSegment(segment, 200);
    const entries = segment.offsetIndex.entries;
    expect(entries).toBeGreaterThan(10);
    expect(entries).toBeLessThan(batches.length / 2);
    expect(segment.timeIndex.entries).toBe(entries);
    let position = 0;
    for (const b of batches) {
      for (let o = b.base; o < b.next; o++) {
        const at = segment.translateOffset(o);
        expect(at?.position).toBe(position);
        expect(at?.header.baseOffset).toBe(b.base);
      }
      position += b.bytes.byteLength;
    }
    expect(segment.translateOffset(segment.nextOffset)).toBeNull();
    expect(segment.translateOffset(0n)?.position).toBe(0); // below the base: the first batch
    segment.close();
  });

  it("finds the first batch at or after a timestamp", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 0n, options);
    const batches = fillSegment(segment, 120);
    for (let i = 0; i < batches.length; i++) {
      expect(segment.findOffsetByTimestamp(BigInt(1000 + 10 * i))).toBe(batches[i].base);
      expect(segment.findOffsetByTimestamp(BigInt(1000 + 10 * i - 5))).toBe(batches[i].base);
    }
    expect(segment.findOffsetByTimestamp(1n)).toBe(0n);
    expect(segment.findOffsetByTimestamp(BigInt(1000 + 10 * 120))).toBeNull();
    expect(segment.maxTimestamp()).toBe(BigInt(1000 + 10 * 119));
    segment.close();
  });

  it("rebuilds identical indexes when recovering a whole segment", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 0n, options);
    fillSegment(segment, 150);
    const index = fs.readFileSync(segment.offsetIndex.path);
    const time = fs.readFileSync(segment.timeIndex.path);
    const next = segment.nextOffset;
    segment.close();
    const reopened = LogSegment.open(dir, 0n, options);
    const scan = reopened.scanForRecovery();
    expect(scan.problem).toBeNull();
    expect(scan.validBytes).toBe(reopened.sizeBytes);
    expect(reopened.nextOffset).toBe(next);
    expect(fs.readFileSync(reopened.offsetIndex.path).equals(index)).toBe(true);
    expect(fs.readFileSync(reopened.timeIndex.path).equals(time)).toBe(true);
    reopened.close();
  });

  it("truncates the log and both indexes at a batch boundary", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 0n, options);
    const batches = fillSegment(segment, 100);
    const cutAt = batches[62]; // three offsets: truncating inside it removes it whole
    const kept = batches.slice(0, 62).reduce((n, b) => n + b.bytes.byteLength, 0);
    const total = segment.sizeBytes;
    expect(segment.truncateTo(cutAt.base + 1n)).toBe(total - kept);
    expect(segment.sizeBytes).toBe(kept);
    expect(segment.nextOffset).toBe(cutAt.base);
    expect(segment.offsetIndex.lastEntry?.offset ?? 0n).toBeLessThan(cutAt.base);
    expect(segment.timeIndex.lastEntry?.offset ?? 0n).toBeLessThan(cutAt.base);
    const more = fillSegment(segment, 5);
    expect(more[0].base).toBe(cutAt.base);
    const r = await segment.read(more[0].base, 1 << 20, 1n << 40n, true);
    expect(Buffer.from(r?.bytes ?? []).equals(Buffer.concat(more.map((b) => b.bytes)))).toBe(true);
    expect(r?.reachedEnd).toBe(true);
    segment.close();
  });

  it("reads large ranges on the thread pool: the bytes the synchronous reads return", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 0n, options);
    const batches = fillSegment(segment, 3000);
    const all = Buffer.concat(batches.map((b) => b.bytes));
    expect(all.byteLength).toBeGreaterThan(2 * asyncReadBytesMin);
    const whole = await segment.read(0n, all.byteLength, segment.nextOffset, true);
    expect(Buffer.from(whole!.bytes).equals(all)).toBe(true); // one read on the thread pool
    expect(whole!.reachedEnd).toBe(true);
    const parts: Uint8Array[] = [];
    for (let offset = 0n; offset < segment.nextOffset; ) {
      const r = await segment.read(offset, 16 * 1024, segment.nextOffset, true); // synchronous reads
      parts.push(r!.bytes);
      offset = r!.nextOffset;
    }
    expect(Buffer.concat(parts).equals(all)).toBe(true);
    segment.close();
  });

  it("returns nothing from a thread-pool read that a truncation overtook", async () => {
    const dir = await tempDir();
    const segment = LogSegment.create(dir, 0n, options);
    const batches = fillSegment(segment, 3000);
    const reading = segment.read(0n, 4 * asyncReadBytesMin, segment.nextOffset, true);
    const cutAt = batches[10]!;
    segment.truncateTo(cutAt.base); // before the read's bytes are back: they may be rewritten
    fillSegment(segment, 50);
    const r = await reading;
    expect(r!.bytes.byteLength).toBe(0);
    expect(r!.nextOffset).toBe(0n);
    const again = await segment.read(0n, 4 * asyncReadBytesMin, segment.nextOffset, true);
    expect(again!.bytes.byteLength).toBeGreaterThan(0); // read again: today's bytes
    expect(again!.nextOffset).toBe(segment.nextOffset);
    segment.close();
  });
});
