// Remote log tiering (remote-log.ts, remote-tiering.ts): closed segments are copied, local copies
// beyond table.log.tiered.local-segments deleted; reads (plain, visited like projections, filtered
// like filters) across the remote/local boundary return exactly what they returned before
// tiering; the log start stays the true start; retention expires remote segments; a failed upload
// loses nothing and is retried; a restart reads remote segments; corruption in a remote segment is
// refused; a remote read of a big segment holds bounded memory.

import fs from "node:fs";
import path from "node:path";
import { Errors, isFlussError, splitBatches } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import type { BatchVisitor } from "../src/log/log-segment.ts";
import { remoteLogPrefix } from "../src/log/remote-log.ts";
import { remoteReadStats, resetRemoteReadPeak } from "../src/log/remote-segment-reader.ts";
import { LocalFileStorage } from "../src/remote/local-file-storage.ts";
import type { RemoteStorage } from "../src/remote/remote-storage.ts";
import { batch, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const config = { segmentBytesMax: 4096, indexIntervalBytes: 256, flush: { mode: "never" as const } };
const tier = { localSegmentsRetained: 2, uploadSegmentsMax: 1000, ttlMs: 0 };
const prefix = remoteLogPrefix(5n, "dt=2026$eu", 1);

interface Fixture {
  dir: string;
  storage: RemoteStorage;
  clock: TestClock;
  tablet: LogTablet;
}

async function open(f: Omit<Fixture, "tablet">, storage = f.storage): Promise<LogTablet> {
  return LogTablet.open({
    dir: f.dir,
    clock: f.clock,
    config,
    remote: { storage, prefix, readChunkBytes: 2048 },
  });
}

/** A tablet of ~12 segments of batches of 1-3 records, committed one second apart. */
async function filled(batches = 40): Promise<Fixture> {
  const base = {
    dir: await tempDir(),
    storage: new LocalFileStorage(await tempDir("fluss-remote-")),
    clock: new TestClock(1_000_000),
  };
  const tablet = await open(base);
  for (let i = 0; i < batches; i++) {
    await tablet.append(batch({ bodyBytes: 700 + (i % 5) * 150, records: 1 + (i % 3), seed: i }));
    base.clock.advance(1000);
  }
  tablet.updateHighWatermark(tablet.logEndOffset);
  return { ...base, tablet };
}

/** Every batch from `from`, fetch by fetch of `maxBytes`, as [base offset, bytes] pairs. */
async function scan(t: LogTablet, from: bigint, maxBytes: number): Promise<Array<[bigint, string]>> {
  const out: Array<[bigint, string]> = [];
  let offset = from;
  for (let i = 0; i < 10_000 && offset < t.highWatermark; i++) {
    const r = await t.read(offset, maxBytes, t.highWatermark);
    const slices = splitBatches(r.records, { verifyCrc: true, allowPartialTail: false });
    expect(slices.length).toBeGreaterThan(0);
    for (const s of slices) {
      out.push([s.header.baseOffset, Buffer.from(s.bytes).toString("hex")]);
      offset = s.header.baseOffset + BigInt(s.header.lastOffsetDelta) + 1n;
    }
  }
  return out;
}

/** A visited scan with `visit` (projection-like parts, or a filter's skips), fetch by fetch. */
async function visitedScan(
  t: LogTablet,
  from: bigint,
  maxBytes: number,
  visit: BatchVisitor,
): Promise<string> {
  const out: string[] = [];
  let offset = from;
  for (let i = 0; i < 10_000 && offset < t.highWatermark; i++) {
    const r = await t.readVisited(offset, maxBytes, t.highWatermark, visit, {
      examineBytesMax: 3000,
      prefixBytes: 64,
    });
    out.push(Buffer.concat(r.parts).toString("hex")); // parts come cut differently: compare the bytes
    expect(r.examinedEnd).toBeGreaterThan(offset);
    offset = r.examinedEnd;
  }
  return out.join("");
}

const projectLike: BatchVisitor = (b) => [b.read(0, 48), b.read(b.header.sizeBytes - 16, 16)];
const filterLike: BatchVisitor = (b) => (b.header.baseOffset % 3n === 0n ? "whole" : "skip");

describe("remote log tiering", () => {
  it("copies closed segments and deletes local copies beyond the kept count; reads are unchanged", async () => {
    const f = await filled();
    const t = f.tablet;
    const segments = t.stats().segments;
    expect(segments).toBeGreaterThan(8);
    const before = {
      plain: await scan(t, 0n, 1500),
      big: await scan(t, 0n, 64 << 20),
      mid: await scan(t, 17n, 3000),
      projected: await visitedScan(t, 0n, 2000, projectLike),
      filtered: await visitedScan(t, 0n, 2000, filterLike),
      ts: await t.offsetForTimestamp(1_000_000 + 13_500),
    };
    const r = await t.tierToRemote(tier);
    expect(r).toMatchObject({ copiedSegments: segments - 1, deletedLocalSegments: segments - 2 });
    expect(t.stats().segments).toBe(2);
    expect(t.logStartOffset).toBe(0n);
    expect(t.localLogStartOffset).toBeGreaterThan(0n);
    expect(t.remoteLogInfo()).toMatchObject({ startOffset: 0n, segments: segments - 1, version: 1 });
    // Every scan crosses the remote/local boundary and returns exactly what it did before.
    expect(await scan(t, 0n, 1500)).toEqual(before.plain);
    expect(await scan(t, 0n, 64 << 20)).toEqual(before.big);
    expect(await scan(t, 17n, 3000)).toEqual(before.mid);
    expect(await visitedScan(t, 0n, 2000, projectLike)).toEqual(before.projected);
    expect(await visitedScan(t, 0n, 2000, filterLike)).toEqual(before.filtered);
    expect(await t.offsetForTimestamp(1_000_000 + 13_500)).toBe(before.ts);
    // Nothing new to copy: a second round changes nothing.
    expect(await t.tierToRemote(tier)).toMatchObject({ copiedSegments: 0, deletedLocalSegments: 0 });
    // Files: the manifest plus three per copied segment, under the bucket's prefix.
    const objects = await f.storage.list(prefix);
    expect(objects.length).toBe(1 + 3 * (segments - 1));
    await t.close();
  });

  it("copies only whole segments below the high watermark, at most uploadSegmentsMax a round", async () => {
    const f = await filled();
    const t = f.tablet;
    t.updateHighWatermark(9n);
    const r1 = await t.tierToRemote({ ...tier, uploadSegmentsMax: 100 });
    expect(r1!.remoteEndOffset).toBeLessThanOrEqual(9n);
    t.updateHighWatermark(t.logEndOffset);
    const r2 = await t.tierToRemote({ ...tier, uploadSegmentsMax: 2 });
    expect(r2!.copiedSegments).toBe(2);
    expect(r2!.remoteStartOffset).toBe(0n);
    await t.close();
  });

  it("survives a restart: the log start, remote reads and timestamps come back", async () => {
    const f = await filled();
    const before = await scan(f.tablet, 0n, 2500);
    await f.tablet.tierToRemote(tier);
    await f.tablet.close();
    const t = await open(f);
    expect(t.logStartOffset).toBe(0n);
    t.updateHighWatermark(t.logEndOffset);
    expect(await scan(t, 0n, 2500)).toEqual(before);
    expect(await t.offsetForTimestamp(0)).toBe(0n);
    // More data, more rounds after the restart.
    for (let i = 0; i < 10; i++) await t.append(batch({ bodyBytes: 900, seed: 100 + i }));
    t.updateHighWatermark(t.logEndOffset);
    expect((await t.tierToRemote(tier))!.copiedSegments).toBeGreaterThan(0);
    expect((await scan(t, 0n, 2500)).slice(0, before.length)).toEqual(before);
    await t.close();
  });

  it("retention expires remote segments by their newest commit; reads below the start are out of range", async () => {
    const f = await filled();
    const t = f.tablet;
    await t.tierToRemote(tier);
    const segs = t.remoteLogInfo()!.segments;
    f.clock.advance(20_000); // now = start + 60 s; batch i was committed at start + i s
    const r = await t.tierToRemote({ ...tier, ttlMs: 45_000 });
    expect(r!.expiredRemoteSegments).toBeGreaterThan(0);
    expect(t.remoteLogInfo()!.segments).toBe(segs - r!.expiredRemoteSegments);
    const start = t.logStartOffset;
    expect(start).toBeGreaterThan(0n);
    expect(start).toBe(r!.remoteStartOffset);
    const err = await t.read(0n, 1000, t.highWatermark).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION)).toBe(true);
    expect((await scan(t, start, 4000))[0]![0]).toBe(start);
    // The expired segments' files are gone from remote storage.
    expect((await f.storage.list(prefix)).length).toBe(1 + 3 * t.remoteLogInfo()!.segments);
    // Everything expires: the remote log empties and the log starts at the local segments.
    f.clock.advance(10_000_000);
    await t.tierToRemote({ ...tier, ttlMs: 1000 });
    expect(t.remoteLogInfo()!.segments).toBe(0);
    expect(t.logStartOffset).toBe(t.localLogStartOffset);
    await t.close();
  });

  it("local retention deletes expired segments tiered or not; the remote log restarts past the gap", async () => {
    const f = await filled();
    const t = f.tablet;
    await t.tierToRemote({ ...tier, uploadSegmentsMax: 3 });
    const remoteEnd = t.remoteLogInfo()!.endOffset!;
    f.clock.advance(10_000_000);
    for (let i = 0; i < 30; i++) await t.append(batch({ bodyBytes: 900, seed: 500 + i }));
    t.updateHighWatermark(t.logEndOffset);
    expect(t.deleteExpiredSegments(1_000_000)).toBeGreaterThan(3);
    // The remote segments no longer reach the local ones: the log starts locally.
    expect(t.localLogStartOffset).toBeGreaterThan(remoteEnd);
    expect(t.logStartOffset).toBe(t.localLogStartOffset);
    const start = t.logStartOffset;
    const before = await scan(t, start, 64 << 20);
    const r = await t.tierToRemote({ ...tier, ttlMs: 1_000_000 });
    expect(r!.remoteStartOffset).toBe(start);
    expect(t.logStartOffset).toBe(start);
    expect(await scan(t, start, 64 << 20)).toEqual(before);
    expect((await f.storage.list(prefix)).length).toBe(1 + 3 * t.remoteLogInfo()!.segments);
    await t.close();
  });

  it("a failed upload loses nothing: local segments stay, the manifest is unchanged, the next round succeeds", async () => {
    const f = await filled();
    const before = await scan(f.tablet, 0n, 64 << 20);
    const segments = f.tablet.stats().segments;
    let putFiles = 0;
    const flaky: RemoteStorage = Object.create(f.storage, {
      putFile: {
        value: async (key: string, source: string) => {
          if (++putFiles === 7) throw new Error("injected upload failure");
          return f.storage.putFile(key, source);
        },
      },
    });
    await f.tablet.close();
    const t = await open(f, flaky);
    t.updateHighWatermark(t.logEndOffset);
    await expect(t.tierToRemote(tier)).rejects.toThrow(/injected upload failure/);
    expect(t.stats().segments).toBe(segments);
    expect(t.remoteLogInfo()!.segments).toBe(0);
    expect(await scan(t, 0n, 64 << 20)).toEqual(before);
    // Orphans of the failed round are in remote storage until the next run reconciles them.
    expect((await f.storage.list(prefix)).length).toBe(6);
    const r = await t.tierToRemote(tier);
    expect(r!.copiedSegments).toBe(segments - 1);
    expect(await scan(t, 0n, 64 << 20)).toEqual(before);
    await t.close();
    const again = await open(f);
    expect((await again.tierToRemote(tier))!.orphansDeleted).toBe(6);
    expect((await f.storage.list(prefix)).length).toBe(1 + 3 * (segments - 1));
    await again.close();
  });

  it("a corrupt byte in a remote segment is refused, never served", async () => {
    const f = await filled();
    await f.tablet.tierToRemote(tier);
    const objects = await f.storage.list(prefix);
    const log = objects.find((o) => o.key.endsWith("00000000000000000000.log"))!;
    const file = (f.storage as LocalFileStorage).pathOf(log.key);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    const err = await scan(f.tablet, 0n, 64 << 20).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.CORRUPT_RECORD_EXCEPTION)).toBe(true);
    expect(String((err as Error).message)).toContain(path.basename(file));
    await f.tablet.close();
  });

  it("a corrupt local manifest copy takes the tablet offline instead of forgetting remote data", async () => {
    const f = await filled();
    await f.tablet.tierToRemote(tier);
    await f.tablet.close();
    const file = path.join(f.dir, "remote-log-manifest.json");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"version', '"versioN'));
    const err = await open(f).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.LOG_STORAGE_EXCEPTION)).toBe(true);
  });

  it("a crash between the remote commit and the local copy is healed from the remote manifest", async () => {
    const f = await filled();
    const before = await scan(f.tablet, 0n, 64 << 20);
    await f.tablet.tierToRemote({ ...tier, uploadSegmentsMax: 2 });
    await f.tablet.close();
    const copy = fs.readFileSync(path.join(f.dir, "remote-log-manifest.json"));
    const t = await open(f);
    t.updateHighWatermark(t.logEndOffset);
    await t.tierToRemote({ ...tier, uploadSegmentsMax: 2 });
    await t.close();
    // As if the process died after the remote put and before the local write of version 2.
    fs.writeFileSync(path.join(f.dir, "remote-log-manifest.json"), copy);
    const healed = await open(f);
    healed.updateHighWatermark(healed.logEndOffset);
    expect(healed.remoteLogInfo()!.version).toBe(1);
    const r = await healed.tierToRemote({ ...tier, uploadSegmentsMax: 0 });
    expect(r!.orphansDeleted).toBe(0);
    expect(healed.remoteLogInfo()).toMatchObject({ version: 2, segments: 4 });
    expect(await scan(healed, 0n, 64 << 20)).toEqual(before);
    await healed.close();
  });
});

describe("remote reads hold bounded memory", () => {
  it("scanning a 16 MiB remote segment buffers at most one chunk at a time", async () => {
    const dir = await tempDir();
    const storage = new LocalFileStorage(await tempDir("fluss-remote-"));
    const clock = new TestClock();
    const chunk = 1024 * 1024;
    const big = {
      segmentBytesMax: 16 * 1024 * 1024,
      indexIntervalBytes: 64 * 1024,
      flush: { mode: "never" as const },
    };
    let t = await LogTablet.open({
      dir,
      clock,
      config: big,
      remote: { storage, prefix, readChunkBytes: chunk },
    });
    for (let i = 0; i < 300; i++) await t.append(batch({ bodyBytes: 60_000, seed: i })); // rolls at ~279
    t.updateHighWatermark(t.logEndOffset);
    const before = await scan(t, 0n, 256 * 1024);
    await t.tierToRemote({ ...tier, localSegmentsRetained: 1 });
    expect(t.localLogStartOffset).toBeGreaterThan(200n);
    await t.close();
    t = await LogTablet.open({ dir, clock, config: big, remote: { storage, prefix, readChunkBytes: chunk } });
    t.updateHighWatermark(t.logEndOffset);
    resetRemoteReadPeak();
    const fetched = remoteReadStats().bytesFetched;
    expect(await scan(t, 0n, 256 * 1024)).toEqual(before);
    const stats = remoteReadStats();
    expect(stats.bytesFetched - fetched).toBeGreaterThan(15 * 1024 * 1024); // the segment was read remotely
    expect(stats.bytesBufferedPeak).toBeLessThanOrEqual(chunk);
    expect(stats.bytesBuffered).toBe(0);
    // One fetch of the whole log at once still buffers one chunk (its output is the fetch's).
    resetRemoteReadPeak();
    await t.read(0n, 64 << 20, t.highWatermark);
    expect(remoteReadStats().bytesBufferedPeak).toBeLessThanOrEqual(chunk);
    await t.close();
  });
});
