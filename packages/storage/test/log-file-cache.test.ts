// The file cache (file-cache.ts): the bound on open descriptors, LRU eviction, reads after an
// eviction, asynchronous pins (bounded, FIFO), EMFILE at open, close while pinned. Then log tablets
// over a small cache: many segments and many tablets within the bound (counted in /proc/self/fd),
// everything read back, also after a reopen.

import fs from "node:fs";
import path from "node:path";
import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FileCache } from "../src/log/file-cache.ts";
import { errnoError, setIoFaultInjector } from "../src/log/file-io.ts";
import { LogTablet } from "../src/log/log-tablet.ts";
import { batch, concat, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(() => setIoFaultInjector(null));

const linux = process.platform === "linux";

/** Descriptors this process has open on files under `dir` (Linux: /proc/self/fd). */
function openUnder(dir: string): number {
  let n = 0;
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // the descriptor readdir used, closed by now
    }
  }
  return n;
}

/** `count` files of 64 bytes each (byte i of file k is (k + i) & 0xff). */
async function makeFiles(count: number): Promise<{ dir: string; paths: string[] }> {
  const dir = await tempDir("fluss-cache-");
  const paths: string[] = [];
  for (let k = 0; k < count; k++) {
    const p = path.join(dir, `f${k}`);
    fs.writeFileSync(
      p,
      Uint8Array.from({ length: 64 }, (_, i) => (k + i) & 0xff),
    );
    paths.push(p);
  }
  return { dir, paths };
}

function firstByte(file: { read(buf: Uint8Array, position: number): number }, position = 0): number {
  const buf = new Uint8Array(1);
  expect(file.read(buf, position)).toBe(1);
  return buf[0]!;
}

describe("FileCache", () => {
  it("keeps at most openFilesMax descriptors open, evicting the least recently used", async () => {
    const { dir, paths } = await makeFiles(40);
    const cache = new FileCache({ openFilesMax: 8 });
    const files = paths.map((p) => cache.file(p, "r"));
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < files.length; k++) {
        expect(firstByte(files[k]!, 5)).toBe((k + 5) & 0xff); // right bytes, also after an eviction
        expect(cache.stats().openFiles).toBeLessThanOrEqual(8);
        if (linux) expect(openUnder(dir)).toBeLessThanOrEqual(8);
      }
    }
    expect(cache.stats().openFilesPeak).toBe(8);
    expect(cache.stats().evictions).toBe(3 * 40 - 8);
    // LRU: files 32..39 are open; touching 32 makes 33 the next victim.
    firstByte(files[32]!);
    firstByte(files[0]!);
    expect(files[32]!.isOpen).toBe(true);
    expect(files[33]!.isOpen).toBe(false);
    expect(files[0]!.isOpen).toBe(true);
    for (const f of files) f.close();
    expect(cache.stats().openFiles).toBe(0);
    if (linux) expect(openUnder(dir)).toBe(0);
  });

  it("bounds asynchronous pins (FIFO waiters) while synchronous reads of other files go on", async () => {
    const { dir, paths } = await makeFiles(20);
    const cache = new FileCache({ openFilesMax: 8 });
    const files = paths.map((p) => cache.file(p, "r"));
    const releases: Array<() => void> = [];
    const started: number[] = [];
    const done = files.slice(0, 10).map((f, k) =>
      f.useAsync(async (fd) => {
        started.push(k);
        expect(fd).toBeGreaterThanOrEqual(0);
        await new Promise<void>((resolve) => releases.push(resolve));
        return k;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(cache.stats().asyncPins).toBe(4); // half the bound
    expect(cache.stats().asyncWaiting).toBe(6);
    expect(started).toEqual([0, 1, 2, 3]);
    // Synchronous users still find descriptors to evict (none of the pinned ones).
    for (let k = 10; k < 20; k++) expect(firstByte(files[k]!, 1)).toBe((k + 1) & 0xff);
    for (let k = 0; k < 4; k++) expect(files[k]!.isOpen).toBe(true);
    expect(cache.stats().openFiles).toBeLessThanOrEqual(8);
    // Release in order: the waiters start first come, first served.
    for (let i = 0; i < 10; i++) {
      while (releases.length === 0) await new Promise((r) => setImmediate(r));
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(cache.stats().asyncPins).toBe(0);
    expect(cache.stats().openFilesPeak).toBeLessThanOrEqual(8);
    if (linux) expect(openUnder(dir)).toBeLessThanOrEqual(8);
  });

  it("many concurrent readers and fdatasyncs over more files than the bound all see their own bytes", async () => {
    const { dir, paths } = await makeFiles(64);
    const cache = new FileCache({ openFilesMax: 10 });
    const files = paths.map((p) => cache.file(p, "r+"));
    let peakUnder = 0;
    const work = files.map(async (f, k) => {
      for (let i = 0; i < 5; i++) {
        await f.datasync();
        expect(firstByte(f, i)).toBe((k + i) & 0xff);
        if (linux) peakUnder = Math.max(peakUnder, openUnder(dir));
      }
    });
    await Promise.all(work);
    expect(cache.stats().openFilesPeak).toBeLessThanOrEqual(10);
    expect(peakUnder).toBeLessThanOrEqual(10);
  });

  it("on EMFILE at open closes a cached descriptor and retries; with none to spare fails retriably", async () => {
    const { paths } = await makeFiles(6);
    // The process leaves this cache only 3 descriptors (sockets took the rest).
    const cache: FileCache = new FileCache({
      openFilesMax: 8,
      open: (p, flags) => {
        if (cache.stats().openFiles >= 3) {
          throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
        }
        return fs.openSync(p, flags);
      },
    });
    const files = paths.map((p) => cache.file(p, "r"));
    for (let k = 0; k < 6; k++) expect(firstByte(files[k]!, 2)).toBe((k + 2) & 0xff);
    expect(cache.stats().openFiles).toBe(3);
    expect(cache.stats().outOfDescriptors).toBe(3);
    // All three held by asynchronous users: the next open has nothing to close.
    const holds: Array<() => void> = [];
    const pinned = [3, 4, 5].map((k) =>
      files[k]!.useAsync(() => new Promise<void>((resolve) => holds.push(resolve))),
    );
    let err: unknown = null;
    try {
      firstByte(files[0]!);
    } catch (e) {
      err = e;
    }
    expect(isFlussError(err) && err.is(Errors.STORAGE_EXCEPTION) && err.retriable).toBe(true);
    expect((err as Error).message).toMatch(/out of file descriptors.*ulimit -n/);
    for (const h of holds) h();
    await Promise.all(pinned);
    expect(firstByte(files[0]!)).toBe(0); // works again once a descriptor can be closed
    for (const f of files) f.close();
  });

  it("closes a pinned file only when its last user is done, and never reopens it", async () => {
    const { paths } = await makeFiles(2);
    const cache = new FileCache({ openFilesMax: 8 });
    const f = cache.file(paths[0]!, "r");
    let release!: () => void;
    const held = f.useAsync(async (fd) => {
      await new Promise<void>((r) => {
        release = r;
      });
      const buf = new Uint8Array(1);
      expect(fs.readSync(fd, buf, 0, 1, 3)).toBe(1); // the descriptor is still valid
      return buf[0];
    });
    await new Promise((r) => setImmediate(r));
    f.close();
    expect(f.isOpen).toBe(true);
    release();
    expect(await held).toBe(3);
    expect(f.isOpen).toBe(false);
    expect(cache.stats().openFiles).toBe(0);
    expect(() => f.read(new Uint8Array(1), 0)).toThrow(/closed file/);
  });

  it("skips the fdatasync of a deleted file whose descriptor was evicted while it waited", async () => {
    const { paths } = await makeFiles(12);
    const cache = new FileCache({ openFilesMax: 8 });
    const files = paths.map((p) => cache.file(p, "r+"));
    const holds: Array<() => void> = [];
    const pinned = files
      .slice(0, 4)
      .map((f) => f.useAsync(() => new Promise<void>((resolve) => holds.push(resolve))));
    firstByte(files[4]!); // open, then evicted below
    const sync = files[4]!.datasync(); // waits: all asynchronous slots are taken
    for (let k = 5; k < 12; k++) firstByte(files[k]!);
    expect(files[4]!.isOpen).toBe(false);
    fs.unlinkSync(paths[4]!);
    files[4]!.markUnlinked();
    for (const h of holds) h();
    await Promise.all(pinned);
    await sync; // no ENOENT: nothing is reopened
    expect(fs.existsSync(paths[4]!)).toBe(false);
  });
});

describe("log tablets over a small file cache", () => {
  it.skipIf(!linux)(
    "a tablet with many segments and many tablets stay within the bound, and read back after a reopen",
    async () => {
      const root = await tempDir("fluss-cache-tablets-");
      const files = new FileCache({ openFilesMax: 12 });
      const clock = new TestClock();
      const config = { segmentBytesMax: 2048, indexIntervalBytes: 256, flush: { mode: "always" as const } };
      const tablets: LogTablet[] = [];
      for (let t = 0; t < 10; t++) {
        tablets.push(await LogTablet.open({ dir: path.join(root, `log-${t}`), clock, config, files }));
      }
      const written: Uint8Array[][] = tablets.map(() => []);
      let peak = 0;
      for (let i = 0; i < 40; i++) {
        // Concurrent appends to every tablet: group commits pin descriptors across fdatasyncs.
        await Promise.all(
          tablets.map(async (tablet, t) => {
            const b = batch({ bodyBytes: 200 + ((i * 13) % 100), records: 2, seed: t * 1000 + i });
            await tablet.append(b);
            written[t]!.push(b);
          }),
        );
        peak = Math.max(peak, openUnder(root));
        clock.advance(5);
      }
      for (const tablet of tablets) expect(tablet.stats().segments).toBeGreaterThan(4);
      const readAll = async (tablet: LogTablet, t: number) => {
        const r = await tablet.read(0n, 1 << 20, tablet.logEndOffset);
        expect(Buffer.from(r.records).equals(concat(written[t]!))).toBe(true);
        peak = Math.max(peak, openUnder(root));
      };
      for (let t = 0; t < tablets.length; t++) await readAll(tablets[t]!, t);
      for (const tablet of tablets) await tablet.close();
      expect(openUnder(root)).toBe(0);
      // Reopen (clean shutdown) and read everything again through the cache.
      const reopened: LogTablet[] = [];
      for (let t = 0; t < 10; t++) {
        reopened.push(await LogTablet.open({ dir: path.join(root, `log-${t}`), clock, config, files }));
        peak = Math.max(peak, openUnder(root));
      }
      for (let t = 0; t < reopened.length; t++) await readAll(reopened[t]!, t);
      expect(peak).toBeLessThanOrEqual(12);
      expect(files.stats().openFilesPeak).toBeLessThanOrEqual(12);
      expect(files.stats().evictions).toBeGreaterThan(0);
      for (const tablet of reopened) await tablet.close();
      expect(openUnder(root)).toBe(0);
    },
  );
});

describe("a log tablet out of descriptors for its side files", () => {
  it("skips checkpoints and writer snapshots that meet EMFILE instead of fencing writes", async () => {
    const dir = await tempDir();
    const clock = new TestClock();
    const tablet = await LogTablet.open({
      dir,
      clock,
      config: { segmentBytesMax: 1024, recoveryCheckpointIntervalMs: 0, flush: { mode: "always" } },
    });
    let hits = 0;
    // Side files are written through temp files: no descriptor for them (the process is at its limit).
    setIoFaultInjector((op, file) => {
      if (op !== "write" || !file.endsWith(".tmp")) return undefined;
      hits++;
      throw errnoError("EMFILE", "too many open files");
    });
    const written: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      const b = batch({ bodyBytes: 300, seed: i });
      await tablet.append(b); // rolls segments: writer snapshots and checkpoints are due
      written.push(b);
    }
    expect(hits).toBeGreaterThan(0);
    expect(tablet.stats().writable).toBe(true);
    setIoFaultInjector(null);
    await tablet.close();
    const reopened = await LogTablet.open({ dir, clock, config: { segmentBytesMax: 1024 } });
    const r = await reopened.read(0n, 1 << 20, reopened.logEndOffset);
    expect(Buffer.from(r.records).equals(concat(written))).toBe(true);
    await reopened.close();
  });
});
