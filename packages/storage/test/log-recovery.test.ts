// Crash recovery: torn tails (garbage, half batch, flipped byte), kill -9 of a writer process,
// torn or stale index files, clean-shutdown marker. Corruption that is not a torn tail (and is
// refused, never cut) is tested in log-corruption.test.ts.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readBatchHeader, splitBatches } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet, type LogTabletOptions } from "../src/index.ts";
import { batch, concat, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const small = { segmentBytesMax: 8192, indexIntervalBytes: 256, flush: { mode: "always" as const } };

/** Appends `count` batches with flush "always" and abandons the tablet (no close: a crash). */
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

function lastLogFile(dir: string): string {
  const logs = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".log"))
    .sort();
  return path.join(dir, logs[logs.length - 1]);
}

function endOf(batches: readonly Uint8Array[]): bigint {
  const h = readBatchHeader(batches[batches.length - 1]);
  return h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
}

async function reopenAndCheck(dir: string, good: readonly Uint8Array[], options?: Partial<LogTabletOptions>) {
  const tablet = await LogTablet.open({ dir, clock: new TestClock(), config: small, ...options });
  expect(tablet.logEndOffset).toBe(endOf(good));
  const r = await tablet.read(0n, 64 << 20, tablet.logEndOffset);
  expect(Buffer.from(r.records).equals(concat(good))).toBe(true);
  return tablet;
}

describe("LogTablet recovery", () => {
  it("cuts garbage appended after the last batch", async () => {
    const dir = await tempDir();
    const batches = await crashAfter(dir, 40);
    fs.appendFileSync(lastLogFile(dir), Buffer.alloc(777, 0x5a));
    const tablet = await reopenAndCheck(dir, batches);
    expect(tablet.stats().truncatedOnLoadBytes).toBe(777);
    expect(tablet.stats().cleanShutdown).toBe(false);
    // The log keeps working after recovery.
    const info = await tablet.append(batch({ seed: 1000 }));
    expect(info.firstOffset).toBe(endOf(batches));
    await tablet.close();
  });

  it("cuts a half-written batch", async () => {
    const dir = await tempDir();
    const batches = await crashAfter(dir, 25);
    const half = batch({ bodyBytes: 600, seed: 7 }).subarray(0, 300);
    fs.appendFileSync(lastLogFile(dir), half);
    const tablet = await reopenAndCheck(dir, batches);
    expect(tablet.stats().truncatedOnLoadBytes).toBe(300);
    await tablet.close();
  });

  it("drops the last batch when one of its bytes flipped, and a header-only torn tail", async () => {
    const dir = await tempDir();
    const batches = await crashAfter(dir, 30);
    const file = lastLogFile(dir);
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, "r+");
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 10);
    b[0] ^= 0x10;
    fs.writeSync(fd, b, 0, 1, size - 10);
    fs.closeSync(fd);
    const tablet = await reopenAndCheck(dir, batches.slice(0, -1));
    expect(tablet.stats().truncatedOnLoadBytes).toBe(batches[batches.length - 1].byteLength);
    await tablet.close();
  });

  it("survives kill -9 of a writer process: every acknowledged batch reads back identical", async () => {
    const dir = await tempDir();
    const script = fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url));
    const child = spawn(process.execPath, [script, dir, "100000"], { stdio: ["ignore", "pipe", "pipe"] });
    let acked = -1;
    let text = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", () => resolve());
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const lines = text.split("\n");
        text = lines.pop() ?? "";
        for (const line of lines) if (line !== "done") acked = Number(line.split(" ")[0]);
        if (acked >= 300 && child.exitCode === null) child.kill("SIGKILL");
      });
    });
    expect(acked, `writer process stderr: ${stderr}`).toBeGreaterThanOrEqual(300);
    const tablet = await LogTablet.open({ dir, clock: new TestClock(), config: small });
    expect(tablet.stats().cleanShutdown).toBe(false);
    const r = await tablet.read(0n, 256 << 20, tablet.logEndOffset);
    const read = splitBatches(r.records, { verifyCrc: true, allowPartialTail: false });
    expect(read.length).toBeGreaterThanOrEqual(acked + 1);
    for (let i = 0; i <= acked; i++) {
      const expected = batch({ bodyBytes: 1000 + (i % 7) * 300, records: 1 + (i % 3), seed: i });
      // Same bytes as sent, apart from the stamped offset and timestamp.
      expect(Buffer.from(read[i].bytes.subarray(21)).equals(Buffer.from(expected.subarray(21)))).toBe(true);
      expect(Buffer.from(read[i].bytes.subarray(8, 13)).equals(Buffer.from(expected.subarray(8, 13)))).toBe(
        true,
      );
    }
    await tablet.close();
  }, 60_000);

  it("rebuilds a torn offset index and a stale time index of a closed segment", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, indexIntervalBytes: 128, flush: { mode: "never" as const } };
    let tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const b = batch({ bodyBytes: 100 + (i % 4) * 50, records: 1 + (i % 2), seed: i });
      await tablet.append(b);
      batches.push(b);
    }
    await tablet.close();
    const index = path.join(dir, "00000000000000000000.index");
    const timeIndex = path.join(dir, "00000000000000000000.timeindex");
    const entries = fs.statSync(index).size;
    expect(entries % 8).toBe(0);
    expect(entries / 8).toBeGreaterThan(5);
    fs.truncateSync(index, entries - 3); // torn
    fs.appendFileSync(timeIndex, Buffer.alloc(24, 0xff)); // garbage entries
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    expect(tablet.stats().cleanShutdown).toBe(true);
    for (const b of batches) {
      const h = readBatchHeader(b);
      const r = await tablet.read(h.baseOffset + BigInt(h.lastOffsetDelta), 1, tablet.logEndOffset);
      expect(Buffer.from(r.records).equals(Buffer.from(b))).toBe(true);
    }
    expect(fs.statSync(index).size).toBe(entries);
    expect(fs.statSync(timeIndex).size % 12).toBe(0);
    await tablet.close();
  });

  it("rebuilds missing index files", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, indexIntervalBytes: 128, flush: { mode: "never" as const } };
    let tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    for (let i = 0; i < 60; i++) await tablet.append(batch({ bodyBytes: 150, seed: i }));
    await tablet.close();
    const index = path.join(dir, "00000000000000000000.index");
    const size = fs.statSync(index).size;
    expect(size).toBeGreaterThan(0);
    fs.rmSync(index);
    fs.rmSync(path.join(dir, "00000000000000000000.timeindex"));
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    const r = await tablet.read(10n, 1, 60n);
    expect(Buffer.from(r.records).equals(Buffer.from(batch({ bodyBytes: 150, seed: 10 }).subarray(21)))).toBe(
      false,
    );
    expect(readBatchHeader(r.records).baseOffset).toBe(10n);
    expect(fs.statSync(index).size).toBe(size);
    expect(await tablet.offsetForTimestamp(0)).toBe(0n);
    await tablet.close();
  });

  it("rebuilds an index whose entries point at no batch start", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, indexIntervalBytes: 128, flush: { mode: "never" as const } };
    let tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const b = batch({ bodyBytes: 150, seed: i });
      await tablet.append(b);
      batches.push(b);
    }
    await tablet.close();
    const index = path.join(dir, "00000000000000000000.index");
    const entry = Buffer.alloc(8);
    entry.writeUInt32LE(19, 0);
    entry.writeUInt32LE(7, 4); // offset 19 "at byte 7": inside batch 0
    fs.writeFileSync(index, entry);
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    const r = await tablet.read(19n, 1, 20n);
    expect(Buffer.from(r.records).equals(Buffer.from(batches[19]))).toBe(true);
    expect(fs.statSync(index).size).toBeGreaterThan(8);
    await tablet.close();
  });

  it("skips the scan after a clean shutdown and keeps the high watermark", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 8192, flush: { mode: "interval" as const, intervalMs: 10 } };
    let tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    for (let i = 0; i < 50; i++) await tablet.append(batch({ seed: i }));
    tablet.updateHighWatermark(42n);
    await tablet.close();
    expect(fs.existsSync(path.join(dir, ".clean_shutdown"))).toBe(true);
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    expect(fs.existsSync(path.join(dir, ".clean_shutdown"))).toBe(false);
    expect(tablet.stats().cleanShutdown).toBe(true);
    expect(tablet.logEndOffset).toBe(50n);
    expect(tablet.flushedOffset).toBe(50n);
    expect(tablet.highWatermark).toBe(42n);
    await tablet.close();
  });
});
