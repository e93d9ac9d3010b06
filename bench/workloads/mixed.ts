// The mixed-load workload: appends while full scans run. One append writer is paced at a light
// rate (the latency workload's 5k rows/s, 1 ms linger, acks=all) into its own table, first alone,
// then while a worker thread scans the 20-column table of the scan workload end to end, over and
// over (scan-thread.ts). It reports each append's acknowledgement latency (append() called ->
// receipt.acknowledged; the first second is warm-up), the scan's rows/s during the appends, and the
// server's event-loop delay and GC pauses in each phase (server-probe.ts). The server's event loop
// serves the appends, the fetches and their disk reads: a read that blocks it delays every append.

import type { Table } from "@fluss-ts/client";
import type { BenchContext } from "../context.ts";
import { type FlussServer, freshTable } from "../fluss.ts";
import type { ProbeWindow } from "../probe.ts";
import { EVENT_SCHEMA, eventRow, WIDE_SCHEMA, wideRow } from "../rows.ts";
import { startScanLoop } from "../scan-thread.ts";
import { fmtMs, fmtMsPair, fmtRate, fmtRatio, quantile, type ResultRow } from "../table.ts";
import { attempt, log, outcomeCell, outcomeNote, paced, Samples } from "../workload.ts";
import { APPEND_BUCKETS, APPEND_TABLE_OPTIONS } from "./append.ts";
import { LATENCY_LINGER_MS, LIGHT_RATE, probeSummary } from "./latency.ts";
import { SCAN_BUCKETS } from "./scan.ts";

const WARMUP_SECONDS = 1;
const GOAL_LOOP_DELAY_P99_MS = 1;

interface Phase {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  acked: number;
  server: ProbeWindow;
}

interface Mixed {
  alone: Phase;
  withScan: Phase & { scanRows: number; scanSeconds: number; scanPasses: number };
  scanAloneRowsPerSec: number | undefined;
  tableRows: number;
}

/** The 20-column table of the scan workload, or one loaded here when that did not run. */
async function wideTable(ctx: BenchContext, server: FlussServer): Promise<{ table: Table; rows: number }> {
  if (ctx.wide !== undefined) return ctx.wide;
  const rows = ctx.opts.scanRows;
  log(ctx.opts, `mixed: loading ${rows} rows of 20 columns`);
  const table = await freshTable(server, "wide", WIDE_SCHEMA, SCAN_BUCKETS, {
    "table.log.arrow.compression.type": "NONE",
  });
  const writer = table.newAppendWriter();
  for (let i = 0; i < rows; i++) await writer.append(wideRow(i));
  await writer.close();
  ctx.wide = { table, rows };
  return ctx.wide;
}

/** Appends paced at LIGHT_RATE for `seconds`; acknowledgement latencies after the warm-up. */
async function pacedAppends(
  server: FlussServer,
  table: Table,
  seconds: number,
  idBase: number,
): Promise<Phase> {
  const writer = table.newAppendWriter({ lingerMs: LATENCY_LINGER_MS });
  const samples = new Samples();
  const warmUntil = performance.now() + WARMUP_SECONDS * 1000;
  let acked = 0;
  const acks: Promise<void>[] = [];
  await server.probe.window(); // a fresh window from here
  await paced(LIGHT_RATE, seconds, async (count, first) => {
    for (let i = first; i < first + count; i++) {
      const t = performance.now();
      const receipt = await writer.append(eventRow(idBase + i));
      acks.push(
        receipt.acknowledged.then(() => {
          acked++;
          if (t >= warmUntil) samples.add((performance.now() - t) * 1000);
        }),
      );
    }
  });
  await writer.close();
  await Promise.all(acks);
  const windowed = await server.probe.window();
  const sorted = samples.sorted();
  return {
    p50Ms: quantile(sorted, 0.5) / 1000,
    p99Ms: quantile(sorted, 0.99) / 1000,
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! / 1000 : Number.NaN,
    acked,
    server: windowed,
  };
}

export async function mixedWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const seconds = opts.latencySeconds;
  const outcome = await attempt(async (): Promise<Mixed> => {
    const server = await ctx.fluss();
    const wide = await wideTable(ctx, server);
    const table = await freshTable(server, "mixed", EVENT_SCHEMA, APPEND_BUCKETS, APPEND_TABLE_OPTIONS);
    log(opts, `mixed: appends at ${LIGHT_RATE} rows/s alone, ${seconds} s`);
    const alone = await pacedAppends(server, table, seconds, 0);
    log(
      opts,
      `mixed: appends at ${LIGHT_RATE} rows/s while full scans of ${wide.rows} rows run, ${seconds} s`,
    );
    const scan = await startScanLoop(server.bootstrap, "bench.wide");
    let withAppends: Phase;
    try {
      withAppends = await pacedAppends(server, table, seconds, 10_000_000);
    } catch (err) {
      await scan.stop().catch(() => undefined);
      throw err;
    }
    const scanned = await scan.stop();
    return {
      alone,
      withScan: {
        ...withAppends,
        scanRows: scanned.rows,
        scanSeconds: scanned.seconds,
        scanPasses: scanned.passes,
      },
      scanAloneRowsPerSec: ctx.scanFullRowsPerSec,
      tableRows: wide.rows,
    };
  });
  outcomeNote(ctx, "fluss", "mixed", outcome);
  const ok = "ok" in outcome ? outcome.ok : undefined;
  if (ok) {
    const w = probeSummary;
    ctx.note(
      `mixed: one append writer paced at ${fmtRate(LIGHT_RATE)} rows/s (lingerMs=${LATENCY_LINGER_MS}, acks=all, ` +
        `log.flush.mode=always), ${seconds} s alone, then ${seconds} s while a worker thread scans the ` +
        `${fmtRate(ok.tableRows)}-row 20-column table from earliest to latest over and over ` +
        `(${ok.withScan.scanPasses} whole passes); latency = append() -> receipt.acknowledged, first ` +
        `${WARMUP_SECONDS} s not recorded. Server alone: ${w(ok.alone.server)}; with the scans: ${w(ok.withScan.server)}.`,
    );
  }
  const scanRate = ok ? ok.withScan.scanRows / ok.withScan.scanSeconds : Number.NaN;
  return [
    {
      workload: `mixed: append ack p50 / p99 @ ${fmtRate(LIGHT_RATE)} rows/s, alone`,
      fluss: outcomeCell(outcome, (v) => fmtMsPair(v.alone.p50Ms, v.alone.p99Ms)),
      redis: "n/a",
      nats: "n/a",
      ratio: "",
      goal: "",
      met: null,
      raw: ok?.alone ?? outcome,
    },
    {
      workload: "mixed: append ack p50 / p99 during full scans",
      fluss: outcomeCell(outcome, (v) => fmtMsPair(v.withScan.p50Ms, v.withScan.p99Ms)),
      redis: "n/a",
      nats: "n/a",
      ratio: ok ? fmtRatio(ok.alone.p99Ms / ok.withScan.p99Ms) : "",
      goal: "",
      met: null,
      raw: ok?.withScan ?? outcome,
    },
    {
      workload: "mixed: full scan during appends (rows/s)",
      fluss: outcomeCell(outcome, () => fmtRate(scanRate)),
      redis: "n/a",
      nats: "n/a",
      ratio: ok?.scanAloneRowsPerSec ? fmtRatio(scanRate / ok.scanAloneRowsPerSec) : "",
      goal: "",
      met: null,
    },
    {
      workload: "server event-loop delay p99, full scan + appends",
      fluss: outcomeCell(outcome, (v) => fmtMs(v.withScan.server.loopDelay.p99Ms)),
      redis: "n/a",
      nats: "n/a",
      ratio: "",
      goal: `<= ${GOAL_LOOP_DELAY_P99_MS} ms`,
      met: ok ? ok.withScan.server.loopDelay.p99Ms <= GOAL_LOOP_DELAY_P99_MS : null,
    },
  ];
}
