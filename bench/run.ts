// Entry point of `npm run bench`: parse the options, run the selected workloads (append, scan,
// latency, mixed, memory, upsert, lookup, prune, lake, replication) against Fluss and the Debian peers it starts itself, print ONE
// table and write bench/results.json. Everything started is stopped on exit, on errors and on
// Ctrl-C.
//   npm run bench -- [--only append,scan,latency,mixed,memory,upsert,lookup,prune,lake,replication] [--rows N] [--scan-rows N]
//                    [--latency-seconds S] [--memory-gb G] [--kv-keys N] [--lookup-seconds S]
//                    [--prune-rows N] [--quick] [--no-json] [--quiet]

import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BenchContext } from "./context.ts";
import { NATS_INSTALL_HINT } from "./peers/nats.ts";
import { cleanupAll, findBinary, installCleanupHooks } from "./proc.ts";
import { type ResultRow, renderTable } from "./table.ts";
import type { BenchOptions } from "./workload.ts";
import { appendWorkload } from "./workloads/append.ts";
import { lakeWorkload } from "./workloads/lake.ts";
import { latencyWorkload } from "./workloads/latency.ts";
import { lookupWorkload } from "./workloads/lookup.ts";
import { memoryWorkload } from "./workloads/memory.ts";
import { mixedWorkload } from "./workloads/mixed.ts";
import { pruneWorkload } from "./workloads/prune.ts";
import { replicationWorkload } from "./workloads/replication.ts";
import { scanWorkload } from "./workloads/scan.ts";
import { upsertWorkload } from "./workloads/upsert.ts";

const WORKLOADS = [
  "append",
  "scan",
  "latency",
  "mixed",
  "memory",
  "upsert",
  "lookup",
  "prune",
  "lake",
  "replication",
] as const;
type WorkloadName = (typeof WORKLOADS)[number];

const RUNNERS: Record<WorkloadName, (ctx: BenchContext) => Promise<ResultRow[]>> = {
  append: appendWorkload,
  scan: scanWorkload,
  latency: latencyWorkload,
  mixed: mixedWorkload,
  memory: memoryWorkload,
  upsert: upsertWorkload,
  lookup: lookupWorkload,
  prune: pruneWorkload,
  lake: lakeWorkload,
  replication: replicationWorkload,
};

const USAGE = `usage: npm run bench -- [options]
  --only LIST            comma-separated workloads: ${WORKLOADS.join(",")} (default: all)
  --rows N               rows per system in the append workload (default 1000000; --quick 200000)
  --scan-rows N          rows of the 20-column scan table (default 2000000; --quick 300000)
  --latency-seconds S    paced seconds per system in the latency workload (default 8; --quick 4)
  --memory-gb G          log size for the memory workload (default 2.1; --quick skips memory unless --only names it)
  --kv-keys N            keys loaded into the primary-key table, and upserts measured (default 1000000; --quick 200000)
  --lookup-seconds S     seconds of each measured lookup round (default 4; --quick 2)
  --prune-rows N         rows of each prune table: 10 partitions; filtered (default 2000000; --quick 300000)
  --quick                small sizes, a run of about a minute
  --no-json              do not write bench/results.json
  --quiet                no progress lines on stderr
  -h, --help`;

function positive(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replaceAll("_", ""));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${v}'`);
  return n;
}

function parse(): { opts: BenchOptions; only: WorkloadName[]; json: boolean } {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      rows: { type: "string" },
      "scan-rows": { type: "string" },
      "latency-seconds": { type: "string" },
      "memory-gb": { type: "string" },
      "kv-keys": { type: "string" },
      "lookup-seconds": { type: "string" },
      "prune-rows": { type: "string" },
      quick: { type: "boolean", default: false },
      "no-json": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  let only: WorkloadName[];
  if (values.only) {
    only = values.only.split(",").map((s) => s.trim()) as WorkloadName[];
    for (const w of only) {
      if (!WORKLOADS.includes(w))
        throw new Error(`unknown workload '${w}' (choose from ${WORKLOADS.join(", ")})`);
    }
  } else {
    only = quick ? WORKLOADS.filter((w) => w !== "memory") : [...WORKLOADS];
  }
  const opts: BenchOptions = {
    appendRows: Math.round(positive("--rows", values.rows, quick ? 200_000 : 1_000_000)),
    scanRows: Math.round(positive("--scan-rows", values["scan-rows"], quick ? 300_000 : 2_000_000)),
    latencySeconds: positive("--latency-seconds", values["latency-seconds"], quick ? 4 : 8),
    kvKeys: Math.round(positive("--kv-keys", values["kv-keys"], quick ? 200_000 : 1_000_000)),
    lookupSeconds: positive("--lookup-seconds", values["lookup-seconds"], quick ? 2 : 4),
    pruneRows: Math.round(positive("--prune-rows", values["prune-rows"], quick ? 300_000 : 2_000_000)),
    memoryLogBytes: Math.round(positive("--memory-gb", values["memory-gb"], quick ? 0.25 : 2.1) * 1024 ** 3),
    quick,
    verbose: !values.quiet,
  };
  return { opts, only, json: !values["no-json"] };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { opts, only, json } = parsed;
  installCleanupHooks();
  const missing = ["redis-server", "nats-server"].filter((b) => findBinary(b) === null);
  if (
    missing.length > 0 &&
    only.some((w) => !["scan", "mixed", "memory", "prune", "lake", "replication"].includes(w))
  ) {
    process.stderr.write(
      `[bench] ${missing.join(" and ")} not found: those peer rows will be "skipped". Install with:\n` +
        `        ${NATS_INSTALL_HINT}\n`,
    );
  }
  const ctx = new BenchContext(opts);
  const rows: ResultRow[] = [];
  const started = performance.now();
  const load0 = loadavg()[0]!;
  try {
    for (const w of WORKLOADS) {
      if (!only.includes(w)) continue;
      const t0 = performance.now();
      try {
        rows.push(...(await RUNNERS[w](ctx)));
      } catch (err) {
        ctx.note(`${w} workload failed: ${(err as Error).stack ?? String(err)}`);
      }
      if (opts.verbose)
        process.stderr.write(`[bench] ${w} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await ctx.close();
    await cleanupAll();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  ctx.note(
    `machine: ${availableParallelism()} cores (${cpu}), Node ${process.version}; run took ${seconds.toFixed(0)} s; ` +
      `1-min load average before the run ${load0.toFixed(1)} (other processes; above ~0.5 they compete with the ` +
      `benchmark for the CPU and numbers drop and scatter), at the end ${loadavg()[0]!.toFixed(1)}. ` +
      `Peers: Debian redis-server and nats-server, started by the benchmark on loopback.`,
  );
  process.stdout.write(`\n${renderTable(rows, ctx.notes)}\n`);
  if (json) {
    const file = join(import.meta.dirname, "results.json");
    const bigintSafe = (_k: string, v: unknown): unknown => (typeof v === "bigint" ? v.toString() : v);
    writeFileSync(
      file,
      `${JSON.stringify({ date: new Date().toISOString(), options: opts, workloads: only, rows, notes: ctx.notes }, bigintSafe, 2)}\n`,
    );
    if (opts.verbose) process.stderr.write(`[bench] wrote ${file}\n`);
  }
}

await main();
