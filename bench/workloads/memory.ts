// The memory workload: a fresh `fluss local` process gets a log of at least the configured size
// (default 2 GiB) of ~1 KiB rows, then one scanner reads it all from the earliest offset. The
// server's RSS is read from /proc/<pid>/status every 100 ms, during the load and during the scan;
// the table shows the peak during the scan beside the log's size on disk. A server that streams
// from its segment files keeps RSS flat however big the log is.

import type { BenchContext } from "../context.ts";
import { freshTable, scanAll, startFluss } from "../fluss.ts";
import { dirBytes, rssBytes } from "../proc.ts";
import { BLOB_ROW_BYTES, BLOB_SCHEMA, blobRow } from "../rows.ts";
import { fmtBytes, fmtMBps, type ResultRow } from "../table.ts";
import { attempt, log, outcomeCell, outcomeNote } from "../workload.ts";

const BUCKETS = 4;
const SAMPLE_MS = 100;

/** Samples a process's RSS until stopped; remembers the peak. */
class RssSampler {
  peak = 0;
  last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number) {
    const sample = (): void => {
      const v = rssBytes(pid);
      if (v === null) return;
      this.last = v;
      if (v > this.peak) this.peak = v;
    };
    sample();
    this.timer = setInterval(sample, SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export async function memoryWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const rows = Math.ceil(opts.memoryLogBytes / BLOB_ROW_BYTES);
  const outcome = await attempt(async () => {
    const server = await startFluss();
    try {
      const table = await freshTable(server, "blob", BLOB_SCHEMA, BUCKETS, {
        "table.log.arrow.compression.type": "NONE",
      });
      const idleRss = rssBytes(server.pid) ?? 0;
      log(opts, `memory: writing ${rows} rows (~${fmtBytes(rows * BLOB_ROW_BYTES)})`);
      const loadRss = new RssSampler(server.pid);
      const t0 = performance.now();
      const writer = table.newAppendWriter();
      for (let i = 0; i < rows; i++) await writer.append(blobRow(i));
      await writer.close();
      const loadSeconds = (performance.now() - t0) / 1000;
      loadRss.stop();
      const logBytes = dirBytes(server.dataDir);
      const beforeScanRss = rssBytes(server.pid) ?? 0;
      log(opts, `memory: scanning ${fmtBytes(logBytes)}`);
      const scanRss = new RssSampler(server.pid);
      const scan = await scanAll(table);
      scanRss.stop();
      if (scan.rows !== rows) throw new Error(`memory scan read ${scan.rows} rows, expected ${rows}`);
      return {
        rows,
        logBytes,
        idleRss,
        loadPeakRss: loadRss.peak,
        beforeScanRss,
        scanPeakRss: scanRss.peak,
        loadSeconds,
        scanSeconds: scan.seconds,
        scanBytes: scan.arrowBytes,
      };
    } finally {
      await server.stop();
    }
  });
  outcomeNote(ctx, "fluss", "memory", outcome);
  const ok = "ok" in outcome ? outcome.ok : undefined;
  if (ok) {
    ctx.note(
      `memory: a fresh fluss local; ${ok.rows} rows of ~1 KiB in ${BUCKETS} buckets, no compression; log on disk ` +
        `${fmtBytes(ok.logBytes)}; server RSS idle ${fmtBytes(ok.idleRss)}, peak while loading ` +
        `${fmtBytes(ok.loadPeakRss)} (load ${(ok.logBytes / ok.loadSeconds / 1e6).toFixed(0)} MB/s), before the scan ` +
        `${fmtBytes(ok.beforeScanRss)}; the scan read ${fmtMBps(ok.scanBytes / ok.scanSeconds)} ` +
        `(sampled every ${SAMPLE_MS} ms from /proc/<pid>/status VmRSS).`,
    );
  }
  return [
    {
      workload: "memory: server peak RSS, full scan",
      fluss: outcomeCell(outcome, (v) => `${fmtBytes(v.scanPeakRss)} (log ${fmtBytes(v.logBytes)})`),
      redis: "n/a",
      nats: "n/a",
      ratio: ok ? `${((100 * ok.scanPeakRss) / ok.logBytes).toFixed(0)}% of log` : "",
      goal: "peak < 1/4 of log size",
      met: ok ? ok.scanPeakRss < ok.logBytes / 4 : null,
      raw: ok ?? outcome,
    },
  ];
}
