// Corruption versus torn tails. Recovery may cut only a torn tail: bad bytes past the recovery
// point with nothing valid after them. A bad batch below the recovery point, anywhere in a cleanly
// shut down log, or followed by valid batches is corruption: open fails with a typed error naming
// the file, byte position and offset, and no byte is truncated or deleted. Reads verify the CRC of
// every batch they return (plain, filtered and projected reads), so corrupt bytes are never served.

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  buildBatch,
  Errors,
  type FlussError,
  isFlussError,
  NO_WRITER_ID,
  readBatchHeader,
  splitBatches,
} from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, body, concat, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const small = { segmentBytesMax: 8192, indexIntervalBytes: 256, flush: { mode: "always" as const } };

/** Appends `count` batches (each acknowledged after fdatasync) and abandons the tablet: a crash. */
async function crashAfter(dir: string, count: number): Promise<Uint8Array[]> {
  const tablet = await LogTablet.open({ dir, clock: new TestClock(), config: small });
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const b = batch({ bodyBytes: 200 + (i % 5) * 100, records: 1 + (i % 3), seed: i });
    await tablet.append(b);
    out.push(b);
  }
  expect(tablet.flushedOffset).toBe(tablet.logEndOffset);
  return out;
}

function logFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".log"))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Name, size and digest of every segment file: what "nothing was truncated or deleted" compares. */
function fingerprint(dir: string): string[] {
  return logFiles(dir).map((f) => {
    const bytes = fs.readFileSync(f);
    return `${path.basename(f)} ${bytes.byteLength} ${createHash("sha256").update(bytes).digest("hex")}`;
  });
}

/** Positions and headers of the batches of one segment file. */
function batchesOf(file: string): Array<{ position: number; baseOffset: bigint; sizeBytes: number }> {
  const bytes = fs.readFileSync(file);
  const out: Array<{ position: number; baseOffset: bigint; sizeBytes: number }> = [];
  let position = 0;
  for (const s of splitBatches(bytes, { verifyCrc: true, allowPartialTail: false })) {
    out.push({ position, baseOffset: s.header.baseOffset, sizeBytes: s.header.sizeBytes });
    position += s.header.sizeBytes;
  }
  return out;
}

/** Flip one bit of the body of the batch at `position` (the header stays well-formed). */
function flipBodyByte(file: string, position: number, sizeBytes: number): void {
  const at = position + Math.floor((48 + sizeBytes) / 2);
  const fd = fs.openSync(file, "r+");
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0x04;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
}

/** What the checkpoint says after a crash that happened once the recovery point covered `offset`. */
function writeRecoveryPoint(dir: string, offset: bigint): void {
  fs.writeFileSync(path.join(dir, "recovery-point.checkpoint"), `fluss-ts-log v1 ${offset} ${offset}\n`);
}

async function openError(dir: string): Promise<FlussError> {
  const err: unknown = await LogTablet.open({ dir, clock: new TestClock(), config: small }).then(
    async (t) => {
      await t.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(isFlussError(err), `open should fail, got ${String(err)}`).toBe(true);
  return err as FlussError;
}

describe("LogTablet recovery: corruption is not a torn tail", () => {
  it("refuses to open, untouched, when a batch below the recovery point fails its CRC", async () => {
    const dir = await tempDir();
    await crashAfter(dir, 60);
    const files = logFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    const last = files[files.length - 1]!;
    const inLast = batchesOf(last);
    expect(inLast.length).toBeGreaterThan(4);
    const lastBatch = inLast[inLast.length - 1]!;
    // The crash happened after the recovery point reached the log end: all of it was flushed.
    writeRecoveryPoint(dir, lastBatch.baseOffset + 10n);
    const victim = inLast[2]!;
    flipBodyByte(last, victim.position, victim.sizeBytes);
    const before = fingerprint(dir);

    const err = await openError(dir);
    expect(err.code).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(err.message).toContain(last);
    expect(err.message).toContain(`byte ${victim.position}`);
    expect(err.message).toContain(`offset ${victim.baseOffset}`);
    expect(err.message).toMatch(/CRC/);
    expect(fingerprint(dir)).toEqual(before);
    // A second attempt finds the same and still changes nothing.
    const again = await openError(dir);
    expect(again.message).toBe(err.message);
    expect(fingerprint(dir)).toEqual(before);
  });

  it("refuses to open when valid batches follow the bad one (no checkpoint: mid-log, not a tail)", async () => {
    const dir = await tempDir();
    await crashAfter(dir, 80);
    const files = logFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    // Without a checkpoint every segment is re-verified; segment 1 has a bad batch in its middle.
    fs.rmSync(path.join(dir, "recovery-point.checkpoint"));
    const victimFile = files[1]!;
    const victim = batchesOf(victimFile)[3]!;
    flipBodyByte(victimFile, victim.position, victim.sizeBytes);
    const before = fingerprint(dir);
    const err = await openError(dir);
    expect(err.code).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(err.message).toContain(victimFile);
    expect(err.message).toContain(`byte ${victim.position}`);
    expect(err.message).toContain(`offset ${victim.baseOffset}`);
    expect(fingerprint(dir)).toEqual(before);
  });

  it("refuses to open a cleanly shut down log whose last segment does not end on a whole batch", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, flush: { mode: "never" as const } };
    const t = await LogTablet.open({ dir, clock: new TestClock(), config });
    for (let i = 0; i < 30; i++) await t.append(batch({ bodyBytes: 300, seed: i }));
    await t.close();
    expect(fs.existsSync(path.join(dir, ".clean_shutdown"))).toBe(true);
    const files = logFiles(dir);
    const last = files[files.length - 1]!;
    const size = fs.statSync(last).size;
    fs.appendFileSync(last, Buffer.alloc(300, 0x5a));
    const before = fingerprint(dir);
    const err = await openError(dir);
    expect(err.code).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(err.message).toContain(last);
    expect(err.message).toContain(`byte ${size}`);
    expect(err.message).toMatch(/shut down cleanly/);
    expect(fingerprint(dir)).toEqual(before);
  });

  it("still cuts a torn tail past the recovery point and reports file, position and bytes cut", async () => {
    const dir = await tempDir();
    const batches = await crashAfter(dir, 40);
    const files = logFiles(dir);
    const last = files[files.length - 1]!;
    const size = fs.statSync(last).size;
    const half = batch({ bodyBytes: 600, seed: 7 }).subarray(0, 300);
    fs.appendFileSync(last, half);
    const t = await LogTablet.open({ dir, clock: new TestClock(), config: small });
    const lastHeader = readBatchHeader(batches[batches.length - 1]!);
    expect(t.logEndOffset).toBe(lastHeader.baseOffset + BigInt(lastHeader.lastOffsetDelta) + 1n);
    const r = await t.read(0n, 64 << 20, t.logEndOffset);
    expect(Buffer.from(r.records).equals(concat(batches))).toBe(true);
    expect(t.stats().truncatedOnLoadBytes).toBe(300);
    expect(t.stats().tailCuts).toEqual([
      { file: last, position: size, bytes: 300, reason: expect.any(String) },
    ]);
    expect(fs.statSync(last).size).toBe(size);
    await t.close();
  });
});

describe("LogTablet open failures", () => {
  const openFds = (): number => fs.readdirSync("/proc/self/fd").length;

  it.runIf(fs.existsSync("/proc/self/fd"))("a log that fails to open keeps no file open", async () => {
    // Refused by recovery: a bad batch below the recovery point.
    const corrupt = await tempDir();
    await crashAfter(corrupt, 60);
    const files = logFiles(corrupt);
    const last = files[files.length - 1]!;
    const victim = batchesOf(last)[0]!;
    writeRecoveryPoint(corrupt, 1n << 40n);
    flipBodyByte(last, victim.position, victim.sizeBytes);
    // Failing after recovery: a cleanly closed log whose first segment lost its end and whose writer
    // snapshots are gone, so rebuilding the writer state walks into the damage.
    const torn = await tempDir();
    const config = { segmentBytesMax: 8192, flush: { mode: "never" as const } };
    const t = await LogTablet.open({ dir: torn, clock: new TestClock(), config });
    for (let i = 0; i < 60; i++)
      await t.append(batch({ bodyBytes: 300, seed: i, writerId: 7n, sequence: i }));
    await t.close();
    for (const n of fs.readdirSync(torn)) if (n.endsWith(".writer_snapshot")) fs.rmSync(path.join(torn, n));
    const first = logFiles(torn)[0]!;
    fs.truncateSync(first, fs.statSync(first).size - 10);

    const before = openFds();
    for (const dir of [corrupt, torn]) {
      const err = await LogTablet.open({ dir, clock: new TestClock(), config: small }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isFlussError(err), String(err)).toBe(true);
    }
    expect(openFds()).toBe(before);
  });
});

describe("LogTablet reads verify what they return", () => {
  /** A cleanly closed log (open trusts it without a scan) with one flipped byte in segment 1. */
  async function closedLogWithFlip(): Promise<{
    t: LogTablet;
    file: string;
    victim: { position: number; baseOffset: bigint; sizeBytes: number };
  }> {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, flush: { mode: "never" as const } };
    let t = await LogTablet.open({ dir, clock: new TestClock(), config });
    for (let i = 0; i < 60; i++) await t.append(batch({ bodyBytes: 400, records: 2, seed: i }));
    await t.close();
    const file = logFiles(dir)[1]!;
    const victim = batchesOf(file)[2]!;
    flipBodyByte(file, victim.position, victim.sizeBytes);
    t = await LogTablet.open({ dir, clock: new TestClock(), config });
    expect(t.stats().cleanShutdown).toBe(true);
    t.updateHighWatermark(t.logEndOffset);
    return { t, file, victim };
  }

  function expectCorrupt(err: unknown, file: string, victim: { position: number; baseOffset: bigint }): void {
    expect(isFlussError(err)).toBe(true);
    const e = err as FlussError;
    expect(e.code).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(e.message).toContain(file);
    expect(e.message).toContain(`byte ${victim.position}`);
    expect(e.message).toContain(`offset ${victim.baseOffset}`);
  }

  it("a plain read fails on a batch whose CRC does not match, naming file, byte and offset", async () => {
    const { t, file, victim } = await closedLogWithFlip();
    const err = await t.read(0n, 64 << 20, t.highWatermark).then(
      () => null,
      (e: unknown) => e,
    );
    expectCorrupt(err, file, victim);
    // Reads before the bad batch still work.
    const ok = await t.read(0n, 1, victim.baseOffset);
    expect(splitBatches(ok.records, { verifyCrc: true, allowPartialTail: false }).length).toBe(1);
    await t.close();
  });

  it("a visited read fails when its visitor keeps the bad batch, whole or in parts", async () => {
    const { t, file, victim } = await closedLogWithFlip();
    const whole = await t
      .readVisited(0n, 64 << 20, t.highWatermark, () => "whole", {
        examineBytesMax: 1 << 30,
        prefixBytes: 0,
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expectCorrupt(whole, file, victim);
    // A projection-like visitor reading just a few bytes of each batch is verified too.
    const parts = await t
      .readVisited(0n, 64 << 20, t.highWatermark, (b) => [b.read(0, 48)], {
        examineBytesMax: 1 << 30,
        prefixBytes: 0,
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expectCorrupt(parts, file, victim);
    // A filter that skips the bad batch unread does not fail: nothing corrupt is returned.
    const skipped = await t.readVisited(
      0n,
      64 << 20,
      t.highWatermark,
      (b) => (b.header.baseOffset === victim.baseOffset ? "skip" : "whole"),
      { examineBytesMax: 1 << 30, prefixBytes: 0 },
    );
    expect(skipped.bytes).toBeGreaterThan(0);
    await t.close();
  });

  it("hands a batch whose header and statistics exceed the scan window to the visitor too", async () => {
    const dir = await tempDir();
    const t = await LogTablet.open({ dir, clock: new TestClock(), config: { flush: { mode: "never" } } });
    // A v1 batch whose statistics block alone is larger than the 64 KiB header-walk window.
    const big = buildBatch({
      schemaId: 1,
      appendOnly: true,
      writerId: NO_WRITER_ID,
      batchSequence: -1,
      recordCount: 1,
      lastOffsetDelta: 0,
      statistics: body(70_000, 3),
      body: [body(1000, 4)],
    });
    await t.append(batch({ seed: 1 }));
    await t.append(big);
    await t.append(batch({ seed: 2 }));
    t.updateHighWatermark(t.logEndOffset);
    const seen: Array<{ offset: bigint; prefix: number }> = [];
    const r = await t.readVisited(
      0n,
      64 << 20,
      t.highWatermark,
      (b) => {
        seen.push({ offset: b.header.baseOffset, prefix: b.prefix.byteLength });
        return b.header.baseOffset === 1n ? [b.read(0, 16)] : "skip";
      },
      { examineBytesMax: 1 << 30, prefixBytes: 1024 },
    );
    expect(seen.map((s) => s.offset)).toEqual([0n, 1n, 2n]);
    // The visitor saw at least the header and statistics of the big batch.
    expect(seen[1]!.prefix).toBeGreaterThanOrEqual(70_000 + 52);
    expect(r.bytes).toBe(16);
    // `append` stamped the batch in place, so `big` holds what the log holds.
    expect(Buffer.from(r.parts[0]!).equals(Buffer.from(big.subarray(0, 16)))).toBe(true);
    await t.close();
  });
});
