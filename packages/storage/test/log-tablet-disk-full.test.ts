// A full disk and failing syncs, injected at the file-I/O seam (file-io.ts setIoFaultInjector):
// a failed append fails alone and leaves the log as it was, reads of acknowledged data go on and
// writes resume once space is back; a failed fdatasync fences writes (reads continue up to the
// flushed offset) until the tablet is reopened; close and open work on a full disk.

import fs from "node:fs";
import path from "node:path";
import { Errors, type FlussError, isFlussError, splitBatches } from "@fluss-ts/common";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { errnoError, type IoOp, setIoFaultInjector } from "../src/log/file-io.ts";
import { batch, concat, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);
afterEach(() => setIoFaultInjector(null));

/** Fail `ops` on files whose name passes `match` with errno `code` (after `allowBytes` of a write). */
function inject(opts: {
  ops: readonly IoOp[];
  code: string;
  match?: (file: string) => boolean;
  allowBytes?: number;
}): { hits: number } {
  const state = { hits: 0, allowed: opts.allowBytes ?? 0 };
  setIoFaultInjector((op, file, bytes) => {
    if (!opts.ops.includes(op) || !(opts.match?.(file) ?? true)) return undefined;
    if (op === "write" && state.allowed > 0) {
      const n = Math.min(state.allowed, bytes);
      state.allowed -= n;
      return n; // a short write, as a filling disk gives one
    }
    state.hits++;
    throw errnoError(opts.code, `injected on ${op} ${path.basename(file)}`);
  });
  return state;
}

const isLog = (file: string): boolean => file.endsWith(".log");

async function failure(p: Promise<unknown>): Promise<FlussError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isFlussError(err)) throw new Error(`expected a FlussError, got ${String(err)}`);
  return err;
}

function logBytes(dir: string): number {
  let n = 0;
  for (const name of fs.readdirSync(dir))
    if (name.endsWith(".log")) n += fs.statSync(path.join(dir, name)).size;
  return n;
}

async function readAll(tablet: LogTablet): Promise<Uint8Array> {
  return (await tablet.read(0n, 64 << 20, tablet.logEndOffset)).records;
}

describe("LogTablet on a full disk", () => {
  it("fails only the append whose write hit ENOSPC, keeps serving reads, and takes writes again once space is freed", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    const acked = [batch({ seed: 1 }), batch({ seed: 2, records: 3 })];
    for (const b of acked) await tablet.append(b);
    tablet.updateHighWatermark(tablet.logEndOffset);
    const sizeBefore = logBytes(dir);

    const fault = inject({ ops: ["write"], code: "ENOSPC", match: isLog, allowBytes: 40 });
    const err = await failure(tablet.append(batch({ seed: 3, bodyBytes: 500 })));
    expect(fault.hits).toBe(1);
    expect(err.code).toBe(Errors.STORAGE_EXCEPTION.code);
    expect(err.retriable).toBe(true);
    // The log is as it was: same end, same bytes on disk (the short write was cut off).
    expect(tablet.logEndOffset).toBe(4n);
    expect(logBytes(dir)).toBe(sizeBefore);
    expect(tablet.stats()).toMatchObject({ appendsFailed: 1, writable: true });
    // Acknowledged data is still served, while the disk is still full.
    expect(Buffer.from(await readAll(tablet)).equals(concat(acked))).toBe(true);
    expect((await failure(tablet.append(batch({ seed: 4 })))).code).toBe(Errors.STORAGE_EXCEPTION.code);

    setIoFaultInjector(null); // space freed
    const next = batch({ seed: 5 });
    const info = await tablet.append(next);
    expect(info.firstOffset).toBe(4n);
    expect(Buffer.from(await readAll(tablet)).equals(concat([...acked, next]))).toBe(true);
    // A crash now loses nothing and finds no torn bytes.
    const reopened = await LogTablet.open({ dir, clock: new TestClock() });
    expect(reopened.logEndOffset).toBe(5n);
    expect(reopened.stats().truncatedOnLoadBytes).toBe(0);
    expect(Buffer.from(await readAll(reopened)).equals(concat([...acked, next]))).toBe(true);
    await reopened.close();
  });

  it("skips index entries a full disk refuses instead of failing the append", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { indexIntervalBytes: 64, flush: { mode: "never" } },
    });
    const fault = inject({ ops: ["write"], code: "ENOSPC", match: (f) => f.endsWith("index") });
    const batches = Array.from({ length: 20 }, (_, i) => batch({ seed: i, bodyBytes: 200 }));
    for (const b of batches) await tablet.append(b);
    expect(fault.hits).toBeGreaterThan(0);
    expect(tablet.stats()).toMatchObject({ appends: 20, appendsFailed: 0, writable: true });
    expect(Buffer.from(await readAll(tablet)).equals(concat(batches))).toBe(true);
    const mid = await tablet.read(10n, 1, 20n);
    expect(Buffer.from(mid.records).equals(batches[10]!)).toBe(true);
    setIoFaultInjector(null);
    await tablet.close();
    const reopened = await LogTablet.open({ dir, clock: new TestClock() });
    expect(Buffer.from(await readAll(reopened)).equals(concat(batches))).toBe(true);
    await reopened.close();
  });

  it("rolls a segment on a full disk without losing the roll's consistency", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 1024, flush: { mode: "always" } },
    });
    const first = batch({ seed: 1, bodyBytes: 800 });
    await tablet.append(first);
    // Everything fails now: the roll's time index entry and writer snapshot are skipped, the new
    // segment is created (creating a file needs no data blocks), the append itself fails.
    inject({ ops: ["write"], code: "ENOSPC" });
    const err = await failure(tablet.append(batch({ seed: 2, bodyBytes: 800 })));
    expect(err.code).toBe(Errors.STORAGE_EXCEPTION.code);
    expect(tablet.logEndOffset).toBe(1n);
    setIoFaultInjector(null);
    const second = batch({ seed: 3, bodyBytes: 800 });
    expect((await tablet.append(second)).firstOffset).toBe(1n);
    expect(tablet.stats().segments).toBe(2);
    expect(Buffer.from(await readAll(tablet)).equals(concat([first, second]))).toBe(true);
    await tablet.close();
    const reopened = await LogTablet.open({ dir, clock: new TestClock() });
    expect(Buffer.from(await readAll(reopened)).equals(concat([first, second]))).toBe(true);
    await reopened.close();
  });

  it("keeps acknowledging appends when only the recovery checkpoint cannot be written", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { recoveryCheckpointIntervalMs: 0, flush: { mode: "always" } },
    });
    const fault = inject({ ops: ["write"], code: "ENOSPC", match: (f) => f.includes("checkpoint") });
    for (let i = 0; i < 5; i++) await tablet.append(batch({ seed: i }));
    expect(fault.hits).toBeGreaterThan(0);
    expect(tablet.stats().writable).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]); // no half-written temp file
    await tablet.close();
  });

  it("closes on a full disk (data flushed, optional files skipped) and reopens on it", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    const batches = Array.from({ length: 5 }, (_, i) => batch({ seed: i, writerId: 7n, sequence: i }));
    for (const b of batches) await tablet.append(b);
    inject({ ops: ["write"], code: "ENOSPC" });
    await tablet.close(); // writer snapshot and checkpoint fail; the segment is flushed

    const reopened = await LogTablet.open({ dir, clock: new TestClock() }); // still full
    expect(reopened.logEndOffset).toBe(5n);
    expect(Buffer.from(await readAll(reopened)).equals(concat(batches))).toBe(true);
    expect((await failure(reopened.append(batch({ seed: 9 })))).code).toBe(Errors.STORAGE_EXCEPTION.code);
    // Writer state came back from the log: the writer's next sequence is accepted, a retry is a duplicate.
    setIoFaultInjector(null);
    expect((await reopened.append(batch({ seed: 4, writerId: 7n, sequence: 4 }))).duplicate).toBe(true);
    expect((await reopened.append(batch({ seed: 5, writerId: 7n, sequence: 5 }))).firstOffset).toBe(5n);
    await reopened.close();
  });
  it("recovers after a crash on a full disk (rebuilt index entries that do not fit are skipped)", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { indexIntervalBytes: 64, flush: { mode: "always" } },
    });
    const batches = Array.from({ length: 30 }, (_, i) => batch({ seed: i, bodyBytes: 150 }));
    for (const b of batches) await tablet.append(b);
    fs.appendFileSync(path.join(dir, "00000000000000000000.log"), Buffer.alloc(20, 7)); // a torn tail
    // No close: a crash. The disk is full when the server comes back.
    const fault = inject({ ops: ["write"], code: "ENOSPC" });
    const reopened = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { indexIntervalBytes: 64 },
    });
    expect(fault.hits).toBeGreaterThan(0);
    expect(reopened.stats().cleanShutdown).toBe(false);
    expect(reopened.logEndOffset).toBe(30n);
    expect(Buffer.from(await readAll(reopened)).equals(concat(batches))).toBe(true);
    const mid = await reopened.read(17n, 1, 30n);
    expect(Buffer.from(mid.records).equals(batches[17]!)).toBe(true);
    setIoFaultInjector(null);
    expect((await reopened.append(batch({ seed: 99 }))).firstOffset).toBe(30n);
    await reopened.close();
  });
});

describe("LogTablet after a failed fdatasync or a failed undo", () => {
  it("fences writes after a failed fdatasync until reopened, and serves reads up to the flushed offset", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    const acked = batch({ seed: 1 });
    await tablet.append(acked);
    tablet.updateHighWatermark(tablet.logEndOffset);

    inject({ ops: ["fdatasync"], code: "EIO", match: isLog });
    const err = await failure(tablet.append(batch({ seed: 2 })));
    expect(err.code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
    expect(err.retriable).toBe(false);
    expect(tablet.flushedOffset).toBe(1n);
    setIoFaultInjector(null); // a later fdatasync succeeding proves nothing about the lost pages
    expect((await failure(tablet.append(batch({ seed: 3 })))).code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
    expect(tablet.stats().writable).toBe(false);
    // Reads go on, but not past what was flushed (the unacknowledged batch stays unread).
    const r = await tablet.read(0n, 1 << 20, tablet.logEndOffset);
    expect(Buffer.from(r.records).equals(acked)).toBe(true);
    await tablet.close();

    const reopened = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    const after = await reopened.append(batch({ seed: 4 }));
    expect(after.firstOffset).toBe(reopened.logEndOffset - 1n);
    await reopened.close();
  });

  it("fences writes but keeps reads when a failed write cannot be cut back", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    const acked = [batch({ seed: 1 }), batch({ seed: 2 })];
    for (const b of acked) await tablet.append(b);
    // 30 bytes get in, then the disk is full, and the undo (ftruncate) fails too.
    const state = { allowed: 30 };
    setIoFaultInjector((op, file, bytes) => {
      if (!isLog(file)) return undefined;
      if (op === "write" && state.allowed > 0) {
        const n = Math.min(state.allowed, bytes);
        state.allowed -= n;
        return n;
      }
      if (op === "write") throw errnoError("ENOSPC", "injected");
      if (op === "truncate") throw errnoError("EIO", "injected");
      return undefined;
    });
    const err = await failure(tablet.append(batch({ seed: 3 })));
    expect(err.code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
    expect(tablet.stats().writable).toBe(false);
    setIoFaultInjector(null);
    expect((await failure(tablet.append(batch({ seed: 4 })))).code).toBe(Errors.LOG_STORAGE_EXCEPTION.code);
    expect(Buffer.from(await readAll(tablet)).equals(concat(acked))).toBe(true);
    await tablet.close();
    // The next open cuts the torn 30 bytes and takes writes again.
    const reopened = await LogTablet.open({ dir, clock: new TestClock() });
    expect(reopened.logEndOffset).toBe(2n);
    const records = await readAll(reopened);
    expect(splitBatches(records, { verifyCrc: true, allowPartialTail: false }).length).toBe(2);
    await reopened.append(batch({ seed: 5 }));
    await reopened.close();
  });
});
