// The lake workload (issue 14): tiering throughput and union reads, against `fluss local` in its
// own process, with the tiering round and the readers in the benchmark process (the same code
// the in-server tiering service runs; it reaches the server only through the SDK).
// 1. tiering: ~100 B event rows (4 buckets) in the log, then tiering rounds until every bucket is
//    in one committed Iceberg snapshot: rows/s from log to committed snapshot.
// 2. union read vs log-only scan of the same rows: after tiering all but a ~5% tail, a union read
//    (lake Parquet + log tail) and a plain log scan of the whole table, Arrow batches, best of 2.
// 3. 2 of 20 columns through the lake: the 20-column wide table tiered, union read of 2 columns
//    vs all 20 (Parquet reads and decodes only the asked columns' chunks), interleaved, best of
//    PROJECTION_ROUNDS (the 2-column read takes ~0.1 s, so one stall of a shared core can halve
//    its rate: more rounds of it, and the note adds the client CPU ratio, which stalls move less,
//    and the bytes each read took from the lake files).
// No peer: the ratios compare fluss-ts with itself in the same run.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Table } from "@fluss-ts/client";
import { systemClock } from "@fluss-ts/common";
import type { BenchContext } from "../context.ts";
import { freshTable, scanAll } from "../fluss.ts";
import { EVENT_SCHEMA, eventRow, eventRowBytes, WIDE_PROJECTION, WIDE_SCHEMA, wideRow } from "../rows.ts";
import { fmtBytes, fmtRate, fmtRatio, type ResultRow } from "../table.ts";
import { attempt, log, outcomeCell, outcomeNote } from "../workload.ts";

const BUCKETS = 4;
const TIERING_GOAL = 500_000;
const UNION_GOAL = 0.8;
const PROJECTION_GOAL = 10;
const ROUNDS = 2;
/** Rounds of the 2-vs-20-column comparison: the 20-column read in the first FULL_ROUNDS. */
const PROJECTION_ROUNDS = 6;
const FULL_ROUNDS = 3;
const LAKE = { "table.datalake.enabled": "true", "table.log.arrow.compression.type": "NONE" };

async function load(table: Table, from: number, to: number, row: (i: number) => Record<string, unknown>) {
  const w = table.newAppendWriter();
  for (let i = from; i < to; i++) await w.append(row(i));
  await w.close();
}

export async function lakeWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const rows = opts.appendRows;
  const wideRows = opts.scanRows;
  const warehouse = mkdtempSync(join(tmpdir(), "fluss-bench-lake-"));
  const outcome = await attempt(async () => {
    const lake = await import("@fluss-ts/lake");
    const server = await ctx.fluss();
    const admin = server.conn.admin;
    // Everything tiered in as few rounds as the budget allows: the round reads up to 1 GiB.
    const tierAll = async (t: Table) => {
      const lt = (await lake.LakeTable.open(warehouse, t.info, systemClock, true))!;
      let records = 0;
      for (;;) {
        const r = await lake.tierRound(admin, t, lt, { clock: systemClock, roundBytesMax: 1024 ** 3 });
        records += r.recordsRead;
        if (!r.partial) return records;
      }
    };
    const unionScan = async (t: Table, columns?: readonly string[]) => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let n = 0;
      const sc = new lake.UnionScanner(t, admin, { warehouse, ...(columns ? { columns } : {}) });
      for await (const b of sc.batches()) n += b.recordBatch.numRows;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      return {
        rows: n,
        seconds,
        cpuMs: (cpu.user + cpu.system) / 1000,
        bytesRead: sc.lakeReadStats.bytesRead,
      };
    };

    log(opts, `lake: loading ${rows} event rows`);
    const events = await freshTable(server, "lake_events", EVENT_SCHEMA, BUCKETS, LAKE);
    await load(events, 0, rows, (i) => eventRow(i));
    log(opts, "lake: tiering them");
    const t0 = performance.now();
    const tiered = await tierAll(events);
    const tierSeconds = (performance.now() - t0) / 1000;
    if (tiered !== rows) throw new Error(`tiering read ${tiered} rows, expected ${rows}`);

    const tail = Math.max(1, Math.round(rows * 0.05));
    await load(events, rows, rows + tail, (i) => eventRow(i));
    let union = { rows: 0, seconds: Number.POSITIVE_INFINITY, cpuMs: 0, bytesRead: 0 };
    let plain = { rows: 0, seconds: Number.POSITIVE_INFINITY };
    for (let r = 0; r < ROUNDS; r++) {
      log(opts, `lake: union read vs log scan, round ${r + 1}`);
      const u = await unionScan(events);
      if (u.rows !== rows + tail) throw new Error(`union read ${u.rows} rows, expected ${rows + tail}`);
      if (u.seconds < union.seconds) union = u;
      const p = await scanAll(events);
      if (p.rows !== rows + tail) throw new Error(`log scan read ${p.rows} rows, expected ${rows + tail}`);
      if (p.seconds < plain.seconds) plain = p;
    }

    log(opts, `lake: loading and tiering ${wideRows} rows of 20 columns`);
    const wide = await freshTable(server, "lake_wide", WIDE_SCHEMA, BUCKETS, LAKE);
    await load(wide, 0, wideRows, wideRow);
    await tierAll(wide);
    let full = { rows: 0, seconds: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY, bytesRead: 0 };
    let proj = { ...full };
    let fullCpuMs = Number.POSITIVE_INFINITY;
    let projCpuMs = Number.POSITIVE_INFINITY;
    for (let r = 0; r < PROJECTION_ROUNDS; r++) {
      log(opts, `lake: 20 vs 2 columns through the lake, round ${r + 1}`);
      if (r < FULL_ROUNDS) {
        const f = await unionScan(wide);
        if (f.rows !== wideRows) throw new Error(`lake read ${f.rows} rows, expected ${wideRows}`);
        if (f.seconds < full.seconds) full = f;
        fullCpuMs = Math.min(fullCpuMs, f.cpuMs);
      }
      const p = await unionScan(wide, WIDE_PROJECTION);
      if (p.rows !== wideRows) throw new Error(`projected lake read ${p.rows} rows, expected ${wideRows}`);
      if (p.seconds < proj.seconds) proj = p;
      projCpuMs = Math.min(projCpuMs, p.cpuMs);
    }
    return { tierSeconds, union, plain, full, proj, tail, fullCpuMs, projCpuMs };
  });
  rmSync(warehouse, { recursive: true, force: true });
  outcomeNote(ctx, "fluss", "lake", outcome);
  const ok = "ok" in outcome ? outcome.ok : undefined;
  const rate = (x: { rows: number; seconds: number }) => x.rows / x.seconds;
  const tierRate = ok ? rows / ok.tierSeconds : Number.NaN;
  const unionRatio = ok ? rate(ok.union) / rate(ok.plain) : Number.NaN;
  const projRatio = ok ? rate(ok.proj) / rate(ok.full) : Number.NaN;
  ctx.note(
    `lake: ${rows} event rows (~${eventRowBytes().toFixed(0)} B), ${BUCKETS} buckets, tiered by tierRound (the tiering ` +
      `service's round) from the log to one committed Iceberg snapshot (Parquet LZ4_RAW, Avro manifests, fsynced); ` +
      `union read = lake + a ${ok?.tail ?? "5%"}-row log tail vs a log-only scan of the same rows (Arrow batches, best of ${ROUNDS}); ` +
      `the wide table (${wideRows} rows x 20 columns) read through the lake with 2 vs 20 columns, interleaved, ` +
      `best of ${PROJECTION_ROUNDS} (2) and ${FULL_ROUNDS} (20)` +
      (ok
        ? `: client CPU ${ok.projCpuMs.toFixed(0)} vs ${ok.fullCpuMs.toFixed(0)} ms (${fmtRatio(ok.fullCpuMs / ok.projCpuMs)}), ` +
          `lake bytes read ${fmtBytes(ok.proj.bytesRead)} vs ${fmtBytes(ok.full.bytesRead)}.`
        : "."),
  );
  return [
    {
      workload: "lake tiering, log → Iceberg snapshot (rows/s)",
      fluss: outcomeCell(outcome, () => fmtRate(tierRate)),
      redis: "n/a",
      nats: "n/a",
      ratio: "",
      goal: `>= ${fmtRate(TIERING_GOAL)} rows/s`,
      met: ok ? tierRate >= TIERING_GOAL : null,
      raw: ok ? { rows, seconds: ok.tierSeconds, rowsPerSec: tierRate } : outcome,
    },
    {
      workload: "union read (lake + log tail) vs log-only scan",
      fluss: outcomeCell(outcome, (v) => `${fmtRate(rate(v.union))} vs ${fmtRate(rate(v.plain))}`),
      redis: "n/a",
      nats: "n/a",
      ratio: fmtRatio(unionRatio),
      goal: `>= ${UNION_GOAL}x the log scan`,
      met: ok ? unionRatio >= UNION_GOAL : null,
      raw: ok ? { union: ok.union, log: ok.plain, ratio: unionRatio } : outcome,
    },
    {
      workload: "lake scan 2 of 20 columns vs 20 (rows/s)",
      fluss: outcomeCell(outcome, (v) => `${fmtRate(rate(v.proj))} vs ${fmtRate(rate(v.full))}`),
      redis: "n/a",
      nats: "n/a",
      ratio: fmtRatio(projRatio),
      goal: `>= ${PROJECTION_GOAL}x the 20-column lake scan`,
      met: ok ? projRatio >= PROJECTION_GOAL : null,
      raw: ok
        ? {
            full: ok.full,
            projected: ok.proj,
            ratio: projRatio,
            cpuMs: { full: ok.fullCpuMs, projected: ok.projCpuMs, ratio: ok.fullCpuMs / ok.projCpuMs },
          }
        : outcome,
    },
  ];
}
