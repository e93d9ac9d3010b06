// The replication workload: what a replication factor of 3 costs next to 1, on the same machine
// and the same cluster, and how fast leadership comes back when a leader dies. The cluster is a
// coordinator and three tablet servers as separate processes on loopback (each its own event
// loop, as in production), on ZooKeeper when the Debian package is installed (the deployment the
// README describes; session timeout SESSION_TIMEOUT_MS), else joined to the coordinator by
// heartbeats with the same session timeout (noted under the table).
//  - produce: one append writer (SDK defaults, acks=all) into an RF 1 and an RF 3 table of
//    APPEND_BUCKETS buckets, best of 2 rounds each; rows/s, and RF 3 / RF 1 (goal >= 0.5x);
//  - produce -> consume: a paced producer at LATENCY_RATE rows/s (linger 0) and a follower thread
//    from "latest" (follower.ts); p50/p99 of now - row stamp for RF 1 and RF 3;
//  - failover: kill -9 of the tablet server leading bucket 0 of the RF 3 table, then polling
//    GetClusterStatus every 50 ms until the bucket has another live leader; median and worst of
//    KILL_TRIALS (the server is restarted and the cluster whole again between trials); goal <=
//    session timeout + 1 s.

import { join } from "node:path";
import type { ClusterStatus, FlussConnection, Table } from "@fluss-ts/client";
import type { BenchContext } from "../context.ts";
import { startFollower } from "../follower.ts";
import { type Child, freePort, makeTempDir, onCleanup, startChild, WaitAborted, waitFor } from "../proc.ts";
import { EVENT_SCHEMA, eventRow, nowMicros } from "../rows.ts";
import { fmtMs, fmtMsPair, fmtRate, fmtRatio, type ResultRow } from "../table.ts";
import {
  attempt,
  type LatencyResult,
  latencyResult,
  log,
  type Outcome,
  outcomeNote,
  paced,
} from "../workload.ts";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const FLUSS_BIN = join(REPO_ROOT, "packages", "cli", "bin", "fluss.ts");
const APPEND_BUCKETS = 6;
const TABLE_OPTIONS = { "table.log.arrow.compression.type": "NONE" } as const;
const SESSION_TIMEOUT_MS = 3_000;
const LATENCY_RATE = 5_000;
const KILL_TRIALS = 3;
const GOAL_THROUGHPUT_RATIO = 0.5;
const GOAL_FAILOVER_MS = SESSION_TIMEOUT_MS + 1_000;

interface Role {
  readonly args: readonly string[];
  readonly port: number;
  child: Child | null;
}

/** A coordinator and three tablet servers as processes (ZooKeeper when installed). */
class ProcessCluster {
  readonly coordinator: Role;
  readonly tablets: Role[];
  readonly mode: string;

  private constructor(coordinator: Role, tablets: Role[], mode: string) {
    this.coordinator = coordinator;
    this.tablets = tablets;
    this.mode = mode;
  }

  static async start(): Promise<ProcessCluster> {
    const dir = makeTempDir("fluss-repl");
    const { zooKeeperSkipReason, ZooKeeperServer } = await import("../../test/helpers/zookeeper.ts");
    let join_: string[];
    let mode: string;
    const coordPort = await freePort();
    let zk: Awaited<ReturnType<typeof ZooKeeperServer.start>> | null = null;
    if (zooKeeperSkipReason() === null) {
      zk = await ZooKeeperServer.start();
      const z = zk;
      onCleanup(() => z.stop());
      join_ = [
        "--zookeeper-address",
        zk.address,
        "-c",
        `zookeeper.client.session-timeout=${SESSION_TIMEOUT_MS} ms`,
      ];
      mode = `ZooKeeper, session timeout ${SESSION_TIMEOUT_MS} ms`;
    } else {
      join_ = ["--coordinator-address", `127.0.0.1:${coordPort}`];
      mode = `no ZooKeeper installed: heartbeats, tablet-server.session-timeout ${SESSION_TIMEOUT_MS} ms`;
    }
    const common = [
      ...["--log-level", "warn", "-c", `tablet-server.session-timeout=${SESSION_TIMEOUT_MS}`],
      ...["-c", `tablet-server.heartbeat-interval=${SESSION_TIMEOUT_MS / 6}`],
    ];
    const coordArgs = ["coordinator", "--data-dir", join(dir, "c"), "--bind-listeners"];
    const coordinator: Role = {
      args: [...coordArgs, `FLUSS://127.0.0.1:${coordPort}`, ...common, ...(zk ? join_ : [])],
      port: coordPort,
      child: null,
    };
    const tablets: Role[] = [];
    for (let id = 0; id < 3; id++) {
      const port = await freePort();
      const ts = ["tablet-server", "--id", String(id), "--data-dir", join(dir, `ts-${id}`)];
      tablets.push({
        args: [...ts, "--bind-listeners", `FLUSS://127.0.0.1:${port}`, ...common, ...join_],
        port,
        child: null,
      });
    }
    const cluster = new ProcessCluster(coordinator, tablets, mode);
    await cluster.run(coordinator);
    await Promise.all(tablets.map((t) => cluster.run(t)));
    return cluster;
  }

  async run(r: Role): Promise<void> {
    const child = startChild(process.execPath, [FLUSS_BIN, ...r.args], { cwd: REPO_ROOT });
    r.child = child;
    await waitFor(
      `${r.args[0]} to start`,
      () => {
        if (child.proc.exitCode !== null) throw new WaitAborted(`${r.args[0]} exited:\n${child.output()}`);
        return /address:\s+\S+/.test(child.output());
      },
      60_000,
    );
  }

  kill(r: Role): void {
    r.child?.proc.kill("SIGKILL");
    r.child = null;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.coordinator.port}`;
  }
}

async function table(conn: FlussConnection, name: string, rf: number): Promise<Table> {
  const path = `bench.${name}`;
  await conn.admin.dropTable(path, { ignoreIfNotExists: true });
  await conn.admin.createTable(path, {
    schema: EVENT_SCHEMA,
    buckets: APPEND_BUCKETS,
    options: { ...TABLE_OPTIONS, "table.replication.factor": String(rf) },
  });
  return conn.getTable(path);
}

/** One writer appends `rows` rows; timed from the first append to close(). */
async function produce(conn: FlussConnection, rf: number, rows: number): Promise<number> {
  const t = await table(conn, `repl_rf${rf}`, rf);
  const t0 = performance.now();
  const w = t.newAppendWriter();
  for (let i = 0; i < rows; i++) await w.append(eventRow(i));
  await w.close();
  return rows / ((performance.now() - t0) / 1000);
}

async function latency(
  conn: FlussConnection,
  bootstrap: string,
  rf: number,
  seconds: number,
): Promise<LatencyResult> {
  const t = await table(conn, `repl_latency_rf${rf}`, rf);
  const w = t.newAppendWriter({ lingerMs: 0 });
  await w.append(eventRow(0, nowMicros()));
  await w.flush();
  const follower = await startFollower({ system: "fluss", bootstrap, table: `bench.repl_latency_rf${rf}` });
  follower.begin(nowMicros() + 1_000_000n);
  const run = await paced(LATENCY_RATE, seconds, async (count, first) => {
    const ts = nowMicros();
    for (let i = first; i < first + count; i++) await w.append(eventRow(i + 1, ts));
  });
  await w.close();
  const r = await follower.finish(run.produced);
  return latencyResult(LATENCY_RATE, run.produced / run.seconds, run.produced, r.seen, r.sorted);
}

function leaderOf(s: ClusterStatus, table: string, bucket: number): number | null {
  const b = s.buckets.find((x) => x.table === table && x.bucket === bucket);
  return b && b.state !== "offline" ? b.leader : null;
}

/** kill -9 the leader of bucket 0 of `bench.repl_rf3`; ms until another live leader is recorded. */
async function failover(cluster: ProcessCluster, conn: FlussConnection): Promise<number> {
  const path = "bench.repl_rf3";
  const before = await conn.admin.clusterStatus();
  const leader = leaderOf(before, path, 0);
  if (leader === null) throw new Error("bucket 0 has no live leader before the kill");
  const victim = cluster.tablets[leader]!;
  const t0 = performance.now();
  cluster.kill(victim);
  for (;;) {
    const s = await conn.admin.clusterStatus().catch(() => null);
    const now = s ? leaderOf(s, path, 0) : null;
    if (now !== null && now !== leader) {
      const ms = performance.now() - t0;
      await cluster.run(victim);
      await waitFor(
        "the cluster to be whole again",
        async () => {
          const s2 = await conn.admin.clusterStatus().catch(() => null);
          return (
            s2 !== null && s2.offline === 0 && s2.underReplicated === 0 && s2.servers.every((x) => x.alive)
          );
        },
        120_000,
      );
      return ms;
    }
    if (performance.now() - t0 > 60_000) throw new Error("no new leader within 60 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Both<T> = { rf1: T; rf3: T };

/** A row's cell and raw value for an outcome. */
function cell<T>(o: Outcome<T>, fmt: (v: T) => string): string {
  return "ok" in o ? fmt(o.ok) : "error" in o ? "failed" : "skipped";
}

export async function replicationWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const rows = Math.min(opts.appendRows, 300_000);
  log(opts, "replication: starting a coordinator and 3 tablet servers as processes");
  const started = await attempt(async () => {
    const cluster = await ProcessCluster.start();
    const { connect } = await import("@fluss-ts/client");
    const conn = await connect({ bootstrap: cluster.bootstrap });
    await waitFor(
      "3 tablet servers",
      async () => (await conn.admin.clusterStatus()).servers.length === 3,
      60_000,
    );
    await conn.admin.createDatabase("bench", { ignoreIfExists: true });
    return { cluster, conn };
  });
  outcomeNote(ctx, "fluss", "replication cluster", started);
  const skipped = { skipped: "the cluster did not start" } as const;
  let produced: Outcome<Both<number>> = skipped;
  let latencies: Outcome<Both<LatencyResult>> = skipped;
  let failovers: Outcome<number[]> = skipped;
  if ("ok" in started) {
    const { cluster, conn } = started.ok;
    try {
      log(opts, `replication: produce ${rows} rows, RF 1 then RF 3, best of 2`);
      produced = await attempt(async () => ({
        rf1: Math.max(await produce(conn, 1, rows), await produce(conn, 1, rows)),
        rf3: Math.max(await produce(conn, 3, rows), await produce(conn, 3, rows)),
      }));
      log(opts, `replication: produce -> consume at ${LATENCY_RATE} rows/s, ${opts.latencySeconds} s each`);
      latencies = await attempt(async () => ({
        rf1: await latency(conn, cluster.bootstrap, 1, opts.latencySeconds),
        rf3: await latency(conn, cluster.bootstrap, 3, opts.latencySeconds),
      }));
      failovers = await attempt(async () => {
        const ms: number[] = [];
        for (let i = 0; i < KILL_TRIALS; i++) {
          log(opts, `replication: kill -9 of a leader, trial ${i + 1}/${KILL_TRIALS}`);
          ms.push(await failover(cluster, conn));
        }
        return ms.sort((a, b) => a - b);
      });
    } finally {
      await conn.close();
      for (const r of [...cluster.tablets, cluster.coordinator]) await r.child?.stop();
    }
    ctx.note(`replication rows: a coordinator and 3 tablet servers as processes (${cluster.mode}).`);
  }
  outcomeNote(ctx, "fluss", "replication produce", produced);
  outcomeNote(ctx, "fluss", "replication latency", latencies);
  outcomeNote(ctx, "fluss", "replication failover", failovers);
  const p = "ok" in produced ? produced.ok : null;
  const l = "ok" in latencies ? latencies.ok : null;
  const f = "ok" in failovers ? failovers.ok : null;
  const ratio = p ? p.rf3 / p.rf1 : Number.NaN;
  const worst = f ? f[f.length - 1]! : Number.NaN;
  return [
    {
      workload: "replication: produce rows/s, RF 3 (RF 1)",
      fluss: cell(produced, (v) => `${fmtRate(v.rf3)} (${fmtRate(v.rf1)})`),
      redis: "n/a",
      nats: "n/a",
      ratio: fmtRatio(ratio),
      goal: `RF 3 >= ${GOAL_THROUGHPUT_RATIO}x RF 1`,
      met: p ? ratio >= GOAL_THROUGHPUT_RATIO : null,
      raw: p ? { ...p, ratio } : produced,
    },
    {
      workload: `replication: produce→consume p50/p99 at ${LATENCY_RATE / 1000}k rows/s, RF 3 (RF 1)`,
      fluss: cell(
        latencies,
        (v) => `${fmtMsPair(v.rf3.p50Ms, v.rf3.p99Ms)} (${fmtMsPair(v.rf1.p50Ms, v.rf1.p99Ms)})`,
      ),
      redis: "n/a",
      nats: "n/a",
      ratio: l ? fmtRatio(l.rf3.p99Ms / l.rf1.p99Ms) : "-",
      goal: "side by side (p99 RF 3 / RF 1)",
      met: null,
      raw: l ?? latencies,
    },
    {
      workload: `replication: leader kill -9 → new leader, median (worst of ${KILL_TRIALS})`,
      fluss: cell(failovers, (v) => `${fmtMs(v[Math.floor(v.length / 2)]!)} (${fmtMs(v[v.length - 1]!)})`),
      redis: "n/a",
      nats: "n/a",
      ratio: "",
      goal: `<= session timeout + 1 s (${fmtMs(GOAL_FAILOVER_MS)})`,
      met: f ? worst <= GOAL_FAILOVER_MS : null,
      raw: f ? { failoverMs: f, sessionTimeoutMs: SESSION_TIMEOUT_MS } : failovers,
    },
  ];
}
