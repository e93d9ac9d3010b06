// The prune workload: how much a scan saves when the server can tell what it need not read.
// 1. Partition pruning: a log table partitioned by `dt` (10 partitions of equal size, ~100 B event
//    rows, written through ONE append writer that creates the partitions as their first row comes),
//    read with `newLogScanner({ untilLatest: true, partitions: { dt } })` (one partition) vs without
//    `partitions` (the whole table). ratio = whole elapsed / one-partition elapsed.
// 2. Filter pushdown: a non-partitioned log table whose rows carry an increasing `ts` (correlated
//    with time, as event stamps are), loaded in the writer's default batches, which carry column
//    statistics by default (`table.statistics.columns` = '*'); a scan with `filter: "ts >= <p99>"`
//    (the server skips every batch whose max ts is below it) vs the same scan without a filter.
//    ratio = unfiltered elapsed / filtered elapsed; bytes fetched of both from `scanner.stats()`.
// Fluss only: the peers store opaque messages.

import type { ScanOptions, Table } from "@fluss-ts/client";
import type { BenchContext } from "../context.ts";
import { type FlussServer, freshTable } from "../fluss.ts";
import { cpuMs } from "../proc.ts";
import { EVENT_SCHEMA, eventRow } from "../rows.ts";
import { fmtBytes, fmtCount, fmtRate, fmtRatio, type ResultRow } from "../table.ts";
import { attempt, log, type Outcome, outcomeCell, outcomeNote } from "../workload.ts";

const PARTITIONS = 10;
/** Buckets of every partition of the partitioned table, and of the filtered table. */
const BUCKETS = 4;
const GOAL_RATIO = 8;
/** Scans per variant; the fastest is reported (shared machines are noisy). */
const ROUNDS = 3;
/** The filter keeps rows with ts at or above this quantile of the loaded ts values. */
const FILTER_QUANTILE = 0.99;

const PART_SCHEMA = `${EVENT_SCHEMA}, dt STRING NOT NULL`;
/** dt values 20261101 .. 20261110: one partition per "day". */
const DAYS = Array.from({ length: PARTITIONS }, (_, d) => `202611${String(d + 1).padStart(2, "0")}`);
/** ts of event row i (eventRow's default): a fixed base + i microseconds, increasing with i. */
const TS_BASE = 1_700_000_000_000_000;

interface ScanRun {
  rows: number;
  seconds: number;
  fetchedBytes: number;
  fetchedBatches: number;
  clientCpuS: number;
  serverCpuS: number;
}

interface Load {
  rows: number;
  seconds: number;
}

/** One scan of `table` to the latest offsets with `options`: rows, time, bytes fetched, CPU. */
async function scanRun(server: FlussServer, table: Table, options: ScanOptions): Promise<ScanRun> {
  const cpu0 = process.cpuUsage();
  const srv0 = cpuMs(server.pid) ?? 0;
  const t0 = performance.now();
  const scanner = table.newLogScanner({ ...options, untilLatest: true });
  let rows = 0;
  for await (const b of scanner.batches()) rows += b.recordBatch.numRows;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = cpuMs(server.pid) ?? 0;
  const { fetchedBytes, fetchedBatches } = scanner.stats();
  return {
    rows,
    seconds,
    fetchedBytes,
    fetchedBatches,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    serverCpuS: (srv1 - srv0) / 1000,
  };
}

/** Append rows rowAt(0 .. rows-1) through one writer with default options; timed to close(). */
async function load(
  table: Table,
  rows: number,
  rowAt: (i: number) => Record<string, unknown>,
): Promise<Load> {
  const t0 = performance.now();
  const writer = table.newAppendWriter();
  for (let i = 0; i < rows; i++) await writer.append(rowAt(i));
  await writer.close();
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

function faster(a: ScanRun | undefined, b: ScanRun): ScanRun {
  return a === undefined || b.seconds < a.seconds ? b : a;
}

function expectRows(what: string, got: ScanRun, want: number): void {
  if (got.rows !== want) throw new Error(`${what} read ${got.rows} rows, expected ${want}`);
}

interface PartitionResult {
  load: Load;
  perPartition: number;
  one: ScanRun;
  whole: ScanRun;
  oneRates: number[];
  wholeRates: number[];
  partitionsRead: string[];
}

async function partitionPruning(ctx: BenchContext, server: FlussServer): Promise<PartitionResult> {
  const { opts } = ctx;
  const perPartition = Math.max(1, Math.floor(opts.pruneRows / PARTITIONS));
  const total = perPartition * PARTITIONS;
  const table = await freshTable(server, "by_day", PART_SCHEMA, BUCKETS, {}, ["dt"]);
  log(opts, `prune: loading ${total} rows into ${PARTITIONS} partitions by dt`);
  // Day by day, as a stream of events would arrive: rows [d * perPartition, (d + 1) * perPartition) on DAYS[d].
  const loaded = await load(table, total, (i) => ({
    ...eventRow(i),
    dt: DAYS[Math.floor(i / perPartition)]!,
  }));
  let one: ScanRun | undefined;
  let whole: ScanRun | undefined;
  const oneRates: number[] = [];
  const wholeRates: number[] = [];
  const partitionsRead: string[] = [];
  // Each variant's rounds back to back (whole table first): alternating them would charge the
  // small scan with the garbage collection (client and server) of the big scan before it.
  for (let round = 0; round < ROUNDS; round++) {
    log(opts, `prune: scan all ${PARTITIONS} partitions, round ${round + 1}`);
    const w = await scanRun(server, table, {});
    expectRows("scan of the whole partitioned table", w, total);
    wholeRates.push(w.rows / w.seconds);
    whole = faster(whole, w);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // A different partition each round (all hold the same rows), so no one partition is favoured.
    const dt = DAYS[(PARTITIONS / 2 + round * 3) % PARTITIONS]!;
    partitionsRead.push(dt);
    log(opts, `prune: scan partition dt=${dt}, round ${round + 1}`);
    const o = await scanRun(server, table, { partitions: { dt } });
    expectRows(`scan of partition dt=${dt}`, o, perPartition);
    oneRates.push(o.rows / o.seconds);
    one = faster(one, o);
  }
  return { load: loaded, perPartition, one: one!, whole: whole!, oneRates, wholeRates, partitionsRead };
}

interface FilterResult {
  load: Load;
  threshold: bigint;
  expected: number;
  filtered: ScanRun;
  full: ScanRun;
  filteredSeconds: number[];
  fullSeconds: number[];
}

async function filterPushdown(ctx: BenchContext, server: FlussServer): Promise<FilterResult> {
  const { opts } = ctx;
  const rows = opts.pruneRows;
  const table = await freshTable(server, "by_ts", EVENT_SCHEMA, BUCKETS);
  log(opts, `prune: loading ${rows} rows with increasing ts`);
  const loaded = await load(table, rows, (i) => eventRow(i));
  const first = Math.floor(rows * FILTER_QUANTILE);
  const threshold = BigInt(TS_BASE + first);
  const expected = rows - first;
  const filter = `ts >= ${threshold}`;
  let filtered: ScanRun | undefined;
  let full: ScanRun | undefined;
  const filteredSeconds: number[] = [];
  const fullSeconds: number[] = [];
  // As above: the unfiltered rounds first, then the filtered ones.
  for (let round = 0; round < ROUNDS; round++) {
    log(opts, `prune: scan without filter, round ${round + 1}`);
    const a = await scanRun(server, table, {});
    expectRows("scan without filter", a, rows);
    fullSeconds.push(a.seconds);
    full = faster(full, a);
  }
  for (let round = 0; round < ROUNDS; round++) {
    log(opts, `prune: scan with filter ${filter}, round ${round + 1}`);
    const f = await scanRun(server, table, { filter });
    expectRows(`scan with filter ${filter}`, f, expected);
    filteredSeconds.push(f.seconds);
    filtered = faster(filtered, f);
  }
  return {
    load: loaded,
    threshold,
    expected,
    filtered: filtered!,
    full: full!,
    filteredSeconds,
    fullSeconds,
  };
}

const secs = (s: number): string => `${s.toFixed(s >= 10 ? 1 : s >= 1 ? 2 : 3)} s`;
const cpuText = (r: ScanRun): string =>
  `CPU client ${r.clientCpuS.toFixed(2)} s, server ${r.serverCpuS.toFixed(2)} s`;

export async function pruneWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const part: Outcome<PartitionResult> = await attempt(async () => partitionPruning(ctx, await ctx.fluss()));
  outcomeNote(ctx, "fluss", "partition pruning", part);
  const filt: Outcome<FilterResult> = await attempt(async () => filterPushdown(ctx, await ctx.fluss()));
  outcomeNote(ctx, "fluss", "filter pushdown", filt);

  const p = "ok" in part ? part.ok : undefined;
  const f = "ok" in filt ? filt.ok : undefined;
  const partRatio = p ? p.whole.seconds / p.one.seconds : Number.NaN;
  const filtRatio = f ? f.full.seconds / f.filtered.seconds : Number.NaN;

  if (p) {
    const total = p.perPartition * PARTITIONS;
    ctx.note(
      `prune (partitions): log table (${PART_SCHEMA}) partitioned by dt, ${PARTITIONS} partitions ` +
        `(dt ${DAYS[0]}..${DAYS[PARTITIONS - 1]}) x ${fmtCount(p.perPartition)} rows (~110 B) x ${BUCKETS} buckets ` +
        `each, table defaults (ZSTD); loaded day by day through one AppendWriter with default options, which ` +
        `created each partition on its first row (${fmtRate(total / p.load.seconds)} rows/s, ${secs(p.load.seconds)}). ` +
        `Scans: newLogScanner({ untilLatest: true, partitions: { dt } }) (dt ${p.partitionsRead.join(", ")} in ` +
        `rounds 1..${ROUNDS}) vs no partitions option, .batches() counting rows; ${ROUNDS} rounds of the whole table, then ${ROUNDS} of one partition; best of each; ` +
        `ratio = elapsed whole / elapsed one partition (ideal ${PARTITIONS}x). Rounds (rows/s): one ` +
        `${p.oneRates.map(fmtCount).join(", ")}; whole ${p.wholeRates.map(fmtCount).join(", ")}. Best one: ` +
        `${secs(p.one.seconds)}, ${fmtBytes(p.one.fetchedBytes)} fetched, ${cpuText(p.one)}; best whole: ` +
        `${secs(p.whole.seconds)}, ${fmtBytes(p.whole.fetchedBytes)} fetched, ${cpuText(p.whole)}.`,
    );
  }
  if (f) {
    const fmtSecs = (xs: number[]): string => xs.map((s) => s.toFixed(3)).join(", ");
    ctx.note(
      `prune (filter): log table (${EVENT_SCHEMA}), ${BUCKETS} buckets, table defaults (ZSTD, ` +
        `table.statistics.columns '*'), ${fmtCount(f.load.rows)} rows with ts = base + row index (increasing), ` +
        `loaded by one AppendWriter with default options (2 MiB batches; ${fmtRate(f.load.rows / f.load.seconds)} ` +
        `rows/s, ${secs(f.load.seconds)}). Filter "ts >= ${f.threshold}" (the ${FILTER_QUANTILE * 100}th ` +
        `percentile; ${fmtCount(f.expected)} rows match, checked) vs no filter, newLogScanner({ untilLatest: true }) ` +
        `.batches(); ${ROUNDS} unfiltered rounds, then ${ROUNDS} filtered; best of each; ratio = elapsed unfiltered / elapsed filtered. Batches ` +
        `fetched: ${f.filtered.fetchedBatches} of ${f.full.fetchedBatches}. Rounds (s): filtered ` +
        `${fmtSecs(f.filteredSeconds)}; unfiltered ${fmtSecs(f.fullSeconds)}. Best filtered: ${cpuText(f.filtered)}; ` +
        `best unfiltered: ${cpuText(f.full)}.`,
    );
  }
  return [
    {
      workload: `scan 1 of ${PARTITIONS} partitions vs all (rows/s)`,
      fluss: outcomeCell(
        part,
        (v) => `${fmtRate(v.one.rows / v.one.seconds)} vs ${fmtRate(v.whole.rows / v.whole.seconds)}`,
      ),
      redis: "n/a",
      nats: "n/a",
      ratio: fmtRatio(partRatio),
      goal: `whole-table time >= ${GOAL_RATIO}x one partition's`,
      met: p ? partRatio >= GOAL_RATIO : null,
      raw: p ? { ...p, ratio: partRatio } : part,
    },
    {
      workload: `scan filter ts >= p99 vs none (time, fetched)`,
      fluss: outcomeCell(
        filt,
        (v) =>
          `${secs(v.filtered.seconds)}, ${fmtCount(v.filtered.rows)} rows, ${fmtBytes(v.filtered.fetchedBytes)} vs ` +
          `${secs(v.full.seconds)}, ${fmtCount(v.full.rows)} rows, ${fmtBytes(v.full.fetchedBytes)}`,
      ),
      redis: "n/a",
      nats: "n/a",
      ratio: fmtRatio(filtRatio),
      goal: `unfiltered time >= ${GOAL_RATIO}x filtered`,
      met: f ? filtRatio >= GOAL_RATIO : null,
      raw: f ? { ...f, ratio: filtRatio } : filt,
    },
  ];
}
