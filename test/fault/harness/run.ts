// One fault run: a 3-tablet-server cluster with a standby coordinator on a real ZooKeeper, a log
// table and a primary-key table (replication factor 3; 1 runs the same faults without
// replication), the load (load.ts) running while the nemesis (nemesis.ts) injects seeded
// faults; then the cluster is healed and left to settle (every server alive, no bucket offline or
// under-replicated, bounded), the load drained, and the checker (checker.ts) run: reads and lookups
// through the cluster, then — tablet servers stopped — each replica's log from its segment files.
// The report counts writes acknowledged, faults injected, lost, duplicated, moved, out-of-order
// rows, wrong lookups, divergent replicas, and servers that exited on their own (crashes).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterStatus, connect, type FlussConnection } from "@fluss-ts/client";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { checkAppends, checkReplicas, checkUpserts } from "./checker.ts";
import { KV_KEYS, KV_TABLE, LOG_TABLE, Load } from "./load.ts";
import { Nemesis, Rng } from "./nemesis.ts";
import { FaultCluster, type Role } from "./processes.ts";
import { type ReplicaLog, readReplicaLog, replicaLogDir } from "./replica-logs.ts";

export interface FaultRunOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly faultsMax: number;
  /** Replicas per bucket of both tables (3 in CI; 1 runs the same faults without replication). */
  readonly replicationFactor: 1 | 3;
  readonly rowsPerSecond: number;
  readonly buckets: number;
  /** A directory for each server process's whole stderr, logged at info (default: none, warn kept in memory). */
  readonly logDir?: string;
  /** Lines of progress (default: none). */
  readonly log?: (line: string) => void;
}

export interface FaultRunReport {
  readonly seed: number;
  readonly replicationFactor: number;
  readonly writesAcknowledged: number;
  readonly appendsAcknowledged: number;
  readonly upsertsAcknowledged: number;
  readonly writesFailed: number;
  /** Failures the application saw outside its writes' receipts. */
  readonly clientErrors: number;
  readonly faultsInjected: number;
  readonly faultsByKind: Record<string, number>;
  readonly lost: number;
  readonly duplicated: number;
  readonly moved: number;
  readonly outOfOrder: number;
  /** Keys with an acknowledged upsert, looked up on their bucket's leader after the faults. */
  readonly lookupsChecked: number;
  readonly wrongLookups: number;
  readonly divergentReplicas: number;
  readonly replicasCompared: number;
  readonly crashes: number;
  readonly healed: boolean;
  readonly unsettledWrites: number;
  readonly problems: string[];
  readonly faultLog: string[];
}

const SESSION_TIMEOUT = "2 s";
const SETTLE_MS_MAX = 90_000;
const DRAIN_MS_MAX = 150_000;
const STDERR_SHOWN_CHARS = 4_000;

async function until<T>(ms: number, f: () => Promise<T | null>): Promise<T | null> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The active coordinator, as a tablet server's metadata names it. */
async function activeCoordinator(cluster: FaultCluster): Promise<Role | null> {
  for (const t of cluster.tablets) {
    if (!t.up || t.paused) continue;
    try {
      const c = await RpcConnection.connect({ host: "127.0.0.1", port: t.port, connectTimeoutMs: 500 });
      try {
        const md = await c.request(ApiKeys.GET_METADATA, {}, { timeoutMs: 1_000 });
        const port = md.coordinatorServer?.port;
        return cluster.coordinators.find((r) => r.port === port && r.up) ?? null;
      } finally {
        await c.close();
      }
    } catch {}
  }
  return null;
}

/** Create both tables with `rf` replicas (a refusal fails the run: replication must be there). */
async function createTables(conn: FlussConnection, rf: 1 | 3, buckets: number): Promise<void> {
  const options = { "table.replication.factor": String(rf) };
  await conn.admin.createDatabase("fault", { ignoreIfExists: true });
  await conn.admin.createTable(LOG_TABLE, {
    schema: "id BIGINT NOT NULL, gen INT NOT NULL, pad STRING",
    buckets,
    options,
  });
  await conn.admin.createTable(KV_TABLE, {
    schema: "k INT NOT NULL, v BIGINT NOT NULL, gen INT NOT NULL, PRIMARY KEY (k)",
    buckets,
    options,
  });
}

/** Servers and problem buckets of a status, one per line (for a run that did not heal). */
function describeStatus(s: ClusterStatus): string {
  const servers = s.servers.map((x) => `server ${x.id} ${x.alive ? "alive" : "dead"}, leads ${x.leaders}`);
  const buckets = s.buckets
    .filter((b) => b.state !== "ok")
    .map(
      (b) =>
        `${b.table}/${b.bucket} ${b.state}: leader ${b.leader ?? "-"} epoch ${b.leaderEpoch}, ` +
        `replicas [${b.replicas.join(",")}], isr [${b.isr.join(",")}]`,
    );
  return [`coordinator ${s.coordinator} (epoch ${s.coordinatorEpoch})`, ...servers, ...buckets].join("\n");
}

function healthy(s: ClusterStatus, tablets: number): boolean {
  return s.servers.filter((x) => x.alive).length === tablets && s.offline === 0 && s.underReplicated === 0;
}

/** Read every replica of every bucket of both tables from the stopped tablet servers' disks. */
async function replicaLogs(
  cluster: FaultCluster,
  status: ClusterStatus,
  hws: ReadonlyMap<string, bigint>,
): Promise<{ name: string; hw: bigint; logs: Map<number, ReplicaLog> }[]> {
  const out: { name: string; hw: bigint; logs: Map<number, ReplicaLog> }[] = [];
  for (const b of status.buckets) {
    const name = `${b.table}/${b.bucket}`;
    const [db, table] = b.table.split(".") as [string, string];
    const logs = new Map<number, ReplicaLog>();
    for (const replica of b.replicas) {
      const t = cluster.tablets.find((x) => x.id === replica)!;
      const dir = await replicaLogDir(t.dir, replica, db, table, b.tableId, b.bucket);
      logs.set(
        replica,
        dir === null ? { batches: [], tornAt: "no log directory" } : await readReplicaLog(dir),
      );
    }
    out.push({ name, hw: hws.get(name) ?? 0n, logs });
  }
  return out;
}

function recordsBelow(log: ReplicaLog | undefined, hw: bigint): number {
  return (log?.batches ?? []).filter((b) => b.lastOffset < hw).reduce((n, b) => n + b.records, 0);
}

/** A client of the cluster that learns the active coordinator from a tablet server. */
function connectTo(cluster: FaultCluster): Promise<FlussConnection> {
  return connect({ bootstrap: cluster.tablets.map((t) => t.address) });
}

/** The cluster's status through a fresh connection (so it asks whoever is active now). */
async function statusOf(cluster: FaultCluster): Promise<ClusterStatus> {
  const conn = await connectTo(cluster);
  try {
    return await conn.admin.clusterStatus({ bucketsMax: 100_000 });
  } finally {
    await conn.close();
  }
}

/** Reads, lookups, high watermarks and, with the tablet servers stopped, the replicas' logs. */
async function check(cluster: FaultCluster, load: Load, problems: string[]) {
  const conn = await connectTo(cluster);
  let status: ClusterStatus;
  const hws = new Map<string, bigint>();
  let appends: Awaited<ReturnType<typeof checkAppends>>;
  let upserts: Awaited<ReturnType<typeof checkUpserts>>;
  try {
    appends = await checkAppends(conn, load.record);
    upserts = await checkUpserts(conn, load.record);
    status = await conn.admin.clusterStatus({ bucketsMax: 100_000 });
    for (const t of [LOG_TABLE, KV_TABLE]) {
      for (const [bucket, hw] of await conn.admin.listOffsets(t, "latest")) hws.set(`${t}/${bucket}`, hw);
    }
  } finally {
    await conn.close();
  }
  for (const t of cluster.tablets) await t.stop();
  const bucketLogs = await replicaLogs(cluster, status, hws);
  const replicas = checkReplicas(bucketLogs);
  const logRecords = bucketLogs
    .filter((b) => b.name.startsWith(`${LOG_TABLE}/`))
    .reduce((n, b) => n + recordsBelow([...b.logs.values()][0], b.hw), 0);
  if (logRecords !== appends.scanned)
    problems.push(
      `the log table's replicas hold ${logRecords} records below the high watermark, the scan read ${appends.scanned}`,
    );
  problems.push(...appends.details, ...upserts.details, ...replicas.details);
  return { appends, upserts, replicas };
}

/** Load and faults; then heal, settle and drain. */
async function faultPhase(
  cluster: FaultCluster,
  o: FaultRunOptions,
  rf: number,
  load: Load,
  problems: string[],
) {
  const log = o.log ?? (() => undefined);
  load.start();
  await new Promise((r) => setTimeout(r, 2_000));
  const nemesis = new Nemesis(cluster, {
    seed: o.seed,
    faultsMax: o.faultsMax,
    durationMs: o.durationMs,
    tabletFaultsMax: rf === 3 ? 2 : 1,
    activeCoordinator: () => activeCoordinator(cluster),
  });
  await nemesis.run().catch((err: unknown) => problems.push(`nemesis: ${(err as Error).message}`));
  log(`seed ${o.seed}: ${nemesis.injected} faults injected; healing`);
  await cluster.heal();
  const settled = await until(SETTLE_MS_MAX, async () => {
    const s = await statusOf(cluster);
    return healthy(s, cluster.tablets.length) ? s : null;
  });
  if (settled === null) {
    const s = await statusOf(cluster).catch(() => null);
    problems.push(
      `the cluster did not become whole within ${SETTLE_MS_MAX} ms: ` +
        (s
          ? `${s.offline} offline, ${s.underReplicated} under-replicated\n${describeStatus(s)}`
          : "no status"),
      ...cluster.roles.map(
        (r) => `${r.name} (pid ${r.pid ?? "-"}) stderr tail:\n${r.stderr.slice(-STDERR_SHOWN_CHARS)}`,
      ),
    );
  }
  const unsettledWrites = await load.stop(DRAIN_MS_MAX);
  if (unsettledWrites > 0) problems.push(`${unsettledWrites} writes neither acknowledged nor failed`);
  return { nemesis, healed: settled !== null, unsettledWrites };
}

export async function runFaultRun(o: FaultRunOptions): Promise<FaultRunReport> {
  const log = o.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), `fluss-fault-${o.seed}-`));
  const problems: string[] = [];
  const cluster = await FaultCluster.start({
    dir,
    tabletServers: 3,
    coordinators: 2,
    logDir: o.logDir ?? null,
    config: { "zookeeper.client.session-timeout": SESSION_TIMEOUT, "log.replica.max-lag-time": "5 s" },
  });
  let conn: FlussConnection | null = null;
  try {
    conn = await connectTo(cluster);
    const c = conn;
    await until(60_000, async () => ((await c.admin.clusterStatus()).servers.length === 3 ? true : null));
    const rf = o.replicationFactor;
    await createTables(conn, rf, o.buckets);
    log(`seed ${o.seed}: replication factor ${rf}, ${o.buckets} buckets per table`);
    const keys = new Rng(o.seed ^ 0x5eed);
    const load = new Load(conn, { rowsPerSecond: o.rowsPerSecond, keyOf: () => keys.int(0, KV_KEYS - 1) });
    const f = await faultPhase(cluster, o, rf, load, problems);
    await conn.close();
    conn = null;
    const { appends, upserts, replicas } = await check(cluster, load, problems);
    for (const e of cluster.unexpectedExits)
      problems.push(`${e.role} exited on its own (code ${e.code}, signal ${e.signal}):\n${e.stderr}`);
    const r = load.record;
    return {
      seed: o.seed,
      replicationFactor: rf,
      writesAcknowledged: r.appends.size + r.upsertsAcked,
      appendsAcknowledged: r.appends.size,
      upsertsAcknowledged: r.upsertsAcked,
      writesFailed: r.failedAppends.size + r.upsertsFailed,
      clientErrors: r.clientErrors,
      faultsInjected: f.nemesis.injected,
      faultsByKind: Object.fromEntries(f.nemesis.counts),
      lost: appends.lost,
      duplicated: appends.duplicated,
      moved: appends.moved,
      outOfOrder: appends.outOfOrder,
      lookupsChecked: upserts.ackedKeys,
      wrongLookups: upserts.wrong,
      divergentReplicas: replicas.divergent,
      replicasCompared: replicas.replicasCompared,
      crashes: cluster.unexpectedExits.length,
      healed: f.healed,
      unsettledWrites: f.unsettledWrites,
      problems: [...problems, ...r.errors.map((e) => `write failed: ${e}`)],
      faultLog: f.nemesis.log,
    };
  } finally {
    await conn?.close().catch(() => undefined);
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report's summary line (what CI prints per run). */
export function summary(r: FaultRunReport): string {
  const kinds = Object.entries(r.faultsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return (
    `fault run seed=${r.seed} (replay: FLUSS_FAULT_SEED=${r.seed}), RF ${r.replicationFactor}: ` +
    `writes acknowledged ${r.writesAcknowledged} (appends ${r.appendsAcknowledged}, upserts ${r.upsertsAcknowledged}; ` +
    `${r.writesFailed} failed, ${r.clientErrors} other client errors), faults injected ${r.faultsInjected} (${kinds}), lost ${r.lost}, ` +
    `duplicated ${r.duplicated}, moved ${r.moved}, out of order ${r.outOfOrder}, ` +
    `lookups of acknowledged upserts on the new leaders ${r.lookupsChecked} keys (wrong ${r.wrongLookups}), ` +
    `divergent replicas ${r.divergentReplicas} (of ${r.replicasCompared} compared), crashes ${r.crashes}`
  );
}
