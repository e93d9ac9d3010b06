// The cluster's replication state as the coordinator's records say it (`fluss cluster status`,
// GetClusterStatus and Fluss's GetClusterHealth): every tablet server that is alive or named by an
// assignment, and every bucket of every visible table and partition with its recorded leader,
// leader epoch, replicas and ISR. Read from the metadata store outside the serial queue, like
// GetMetadata: a table dropped while the walk runs is left out.
// A bucket is *offline* when its recorded leader is not a live server (or it has no leadership
// record, or is recorded leaderless), and *under-replicated* when it is online and fewer of its
// replicas are alive members of its ISR than it has replicas (a dead follower counts at once,
// before its leader shrinks the ISR).
// Invariants: counts cover every bucket walked; at most `bucketsMax` buckets are listed (with
// `problemsOnly`, only offline and under-replicated ones), the rest are counted in `omitted`, so
// the answer's size is bounded whatever the cluster's.

import { Errors, isFlussError, type TablePath } from "@fluss-ts/common";
import type { ClusterCounts } from "../metrics/replication-metrics.ts";
import { NO_LEADER } from "../replication/types.ts";
import type { Coordinator } from "./coordinator.ts";

/** Buckets listed by default / at most (the answer must fit one RPC frame comfortably). */
export const STATUS_BUCKETS_DEFAULT = 10_000;
export const STATUS_BUCKETS_MAX = 100_000;

export type BucketState = "ok" | "under-replicated" | "offline";

export interface BucketStatus {
  readonly path: TablePath;
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly bucket: number;
  /** The recorded leader, alive or not (null: no leadership record, or recorded leaderless). */
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly state: BucketState;
}

export interface ServerStatus {
  readonly id: number;
  /** Known while alive (its registration); null otherwise. */
  readonly host: string | null;
  readonly port: number | null;
  readonly alive: boolean;
  /** Buckets it leads while alive. */
  readonly leaders: number;
  /** Replicas assigned to it. */
  readonly replicas: number;
}

export interface ClusterStatus {
  readonly coordinatorEpoch: number;
  readonly servers: readonly ServerStatus[];
  readonly buckets: readonly BucketStatus[];
  readonly bucketCount: number;
  readonly underReplicated: number;
  readonly offline: number;
  readonly omitted: number;
  /** Fluss's GetClusterHealth counts: replicas, ISR members, buckets, buckets with a live leader. */
  readonly replicaCount: number;
  readonly inSyncReplicaCount: number;
  readonly activeLeaderCount: number;
}

export function bucketState(
  leader: number | null,
  replicas: readonly number[],
  isr: readonly number[],
  alive: (id: number) => boolean,
): BucketState {
  if (leader === null || !alive(leader)) return "offline";
  const inSync = isr.filter((id) => alive(id) && replicas.includes(id)).length;
  return inSync < replicas.length ? "under-replicated" : "ok";
}

/** Fluss's health status: GREEN 0, YELLOW 1, RED 2 (PbClusterHealthStatus). */
export function healthStatusOf(s: ClusterStatus): 0 | 1 | 2 {
  if (s.activeLeaderCount < s.bucketCount) return 2;
  if (s.inSyncReplicaCount < s.replicaCount) return 1;
  return 0;
}

/** A table dropped (or a database) while the walk reads it: left out. */
function gone(err: unknown): boolean {
  return (
    isFlussError(err) &&
    (err.is(Errors.TABLE_NOT_EXIST) ||
      err.is(Errors.DATABASE_NOT_EXIST) ||
      err.is(Errors.PARTITION_NOT_EXISTS))
  );
}

/** Every (table, partition) scope of the cluster, in database/table/partition name order. */
async function* scopes(c: Coordinator): AsyncGenerator<{
  path: TablePath;
  tableId: bigint;
  partitionId: bigint | null;
  partitionName: string | null;
}> {
  for (const db of await c.listDatabases()) {
    let tables: string[];
    try {
      tables = await c.listTables(db.name);
    } catch (err) {
      if (gone(err)) continue;
      throw err;
    }
    for (const table of tables) {
      const path = { database: db.name, table };
      try {
        const info = await c.getTableInfo(path);
        if (info.descriptor.partitionKeys.length === 0) {
          yield { path, tableId: info.tableId, partitionId: null, partitionName: null };
          continue;
        }
        for (const p of await c.listPartitions(path)) {
          yield { path, tableId: info.tableId, partitionId: p.partitionId, partitionName: p.partitionName };
        }
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }
  }
}

class Tally {
  readonly servers = new Map<number, { leaders: number; replicas: number }>();
  readonly buckets: BucketStatus[] = [];
  bucketCount = 0;
  underReplicated = 0;
  offline = 0;
  omitted = 0;
  replicaCount = 0;
  inSyncReplicaCount = 0;
  activeLeaderCount = 0;

  server(id: number): { leaders: number; replicas: number } {
    let s = this.servers.get(id);
    if (!s) {
      s = { leaders: 0, replicas: 0 };
      this.servers.set(id, s);
    }
    return s;
  }
}

export interface ClusterStatusOptions {
  readonly bucketsMax?: number;
  readonly problemsOnly?: boolean;
}

/** Walk the coordinator's records (see the top of the file). */
export async function clusterStatus(c: Coordinator, o: ClusterStatusOptions = {}): Promise<ClusterStatus> {
  const bucketsMax = Math.min(Math.max(0, o.bucketsMax ?? STATUS_BUCKETS_DEFAULT), STATUS_BUCKETS_MAX);
  const live = new Map(c.tabletServers().map((n) => [n.id, n] as const));
  const alive = (id: number): boolean => live.has(id);
  const t = new Tally();
  for (const id of live.keys()) t.server(id);
  for await (const scope of scopes(c)) {
    const routes = await c.bucketStates(scope.tableId, scope.partitionId);
    for (const a of routes.assignment) {
      const lai = routes.leaders.get(a.bucket);
      // Leaderless (its whole ISR died: no unclean election) reads as no leader, not as "-1".
      const leader = lai === undefined || lai.leader === NO_LEADER ? null : lai.leader;
      const isr = lai?.isr ?? [];
      const state = bucketState(leader, a.replicas, isr, alive);
      t.bucketCount++;
      t.replicaCount += a.replicas.length;
      t.inSyncReplicaCount += isr.length;
      for (const r of a.replicas) t.server(r).replicas++;
      if (state === "offline") t.offline++;
      else {
        t.activeLeaderCount++;
        t.server(leader!).leaders++;
      }
      if (state === "under-replicated") t.underReplicated++;
      if (o.problemsOnly && state === "ok") continue;
      if (t.buckets.length >= bucketsMax) {
        t.omitted++;
        continue;
      }
      t.buckets.push({
        ...scope,
        bucket: a.bucket,
        leader,
        leaderEpoch: lai?.leaderEpoch ?? 0,
        replicas: a.replicas,
        isr,
        state,
      });
    }
  }
  const servers = [...t.servers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, s]) => {
      const node = live.get(id);
      return { id, host: node?.host ?? null, port: node?.port ?? null, alive: node !== undefined, ...s };
    });
  return {
    coordinatorEpoch: c.coordinatorEpoch,
    servers,
    buckets: t.buckets,
    bucketCount: t.bucketCount,
    underReplicated: t.underReplicated,
    offline: t.offline,
    omitted: t.omitted,
    replicaCount: t.replicaCount,
    inSyncReplicaCount: t.inSyncReplicaCount,
    activeLeaderCount: t.activeLeaderCount,
  };
}

/** The counts /metrics shows on the active coordinator (no bucket listed). */
export async function clusterCounts(c: Coordinator): Promise<ClusterCounts> {
  const s = await clusterStatus(c, { bucketsMax: 0 });
  const alive = s.servers.filter((x) => x.alive).length;
  return {
    buckets: s.bucketCount,
    underReplicated: s.underReplicated,
    offline: s.offline,
    serversAlive: alive,
    serversDead: s.servers.length - alive,
  };
}
