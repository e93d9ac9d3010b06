// Append throughput of one LogTablet with 1 MiB batches under each flush mode.
// Run: npx node packages/storage/bench/log-append.ts [totalMiB=512] [inFlight=1,8]
// "always" is measured with 1 append in flight (every append waits for its own fdatasync) and with
// several in flight (group commit shares each fdatasync among them).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildBatch, NO_WRITER_ID, systemClock } from "@fluss-ts/common";
import { type FlushMode, LogTablet } from "../src/index.ts";

const totalMiB = Number(process.argv[2] ?? 512);
const inFlights = (process.argv[3] ?? "1,8").split(",").map(Number);
const batchBytes = 1024 * 1024;

const template = buildBatch({
  schemaId: 1,
  appendOnly: true,
  writerId: NO_WRITER_ID,
  batchSequence: -1,
  recordCount: 1000,
  lastOffsetDelta: 999,
  body: [new Uint8Array(batchBytes - 48).fill(7)],
});

async function run(mode: FlushMode, inFlight: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fluss-bench-"));
  const tablet = await LogTablet.open({ dir, clock: systemClock, config: { flush: { mode } } });
  const count = Math.floor((totalMiB * 1024 * 1024) / batchBytes);
  const copies = Array.from({ length: inFlight }, () => Uint8Array.from(template));
  let next = 0;
  const started = performance.now();
  const worker = async (k: number): Promise<void> => {
    while (next < count) {
      next++;
      await tablet.append(copies[k]);
    }
  };
  await Promise.all(copies.map((_, k) => worker(k)));
  const ms = performance.now() - started;
  const flushStarted = performance.now();
  if (mode !== "always") await tablet.flush();
  const flushMs = performance.now() - flushStarted;
  const stats = tablet.stats();
  await tablet.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const mibs = (count * batchBytes) / 1024 / 1024 / (ms / 1000);
  console.log(
    `flush=${mode.padEnd(6)} inFlight=${String(inFlight).padStart(2)}: ${mibs.toFixed(0).padStart(5)} MiB/s, ` +
      `${(count / (ms / 1000)).toFixed(0)} appends/s, ${stats.flushes} fdatasyncs for ${count} appends` +
      (mode === "always" ? "" : `; final flush of the page cache took ${flushMs.toFixed(0)} ms`),
  );
}

for (const inFlight of inFlights) await run("always", inFlight);
await run("never", 1);
