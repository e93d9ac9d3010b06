// GetClusterStatus (API 9100, fluss-ts only) and Fluss's GetClusterHealth (API 1062), to the
// coordinator: the replication state of the cluster for `fluss cluster status`.
//   GetClusterStatusRequest  { buckets_max?: int32; problems_only?: bool }
//   GetClusterStatusResponse { coordinator_server?: PbServerNode;
//                              tablet_servers: [PbClusterServerStatus { node_id; host?; port?;
//                                alive: bool; leader_count; replica_count }];
//                              buckets: [PbClusterBucketStatus { table_path; table_id;
//                                partition_id?; partition_name?; bucket_id; leader_id?;
//                                leader_epoch; replicas: [int32]; isr: [int32] }];
//                              bucket_count; under_replicated_count; offline_count;
//                              buckets_omitted; coordinator_epoch }
//   GetClusterHealthRequest  {}
//   GetClusterHealthResponse { num_replicas; in_sync_replicas; num_leader_replicas;
//                              active_leader_replicas; status: GREEN 0 | YELLOW 1 | RED 2 | UNKNOWN 3 }
// A bucket is offline when its recorded leader is not alive, under-replicated when fewer of its
// replicas are alive ISR members than it has replicas (the coordinator's rule, applied here to
// each listed bucket with the servers' liveness of the same answer).

import { ApiKeys, isFieldSet, PbClusterBucketStatusSchema, PbClusterServerStatusSchema } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export interface ClusterServerStatus {
  readonly id: number;
  /** `host:port`, or null for a server that is not alive (only replicas name it). */
  readonly address: string | null;
  readonly alive: boolean;
  /** Buckets it leads. */
  readonly leaders: number;
  /** Replicas assigned to it. */
  readonly replicas: number;
}

export type ClusterBucketState = "ok" | "under-replicated" | "offline";

export interface ClusterBucketStatus {
  /** `database.table`. */
  readonly table: string;
  readonly tableId: bigint;
  readonly partition: string | null;
  readonly partitionId: bigint | null;
  readonly bucket: number;
  /** The recorded leader, alive or not; null when none is recorded. */
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly state: ClusterBucketState;
}

export interface ClusterStatus {
  /** `host:port` of the active coordinator that answered. */
  readonly coordinator: string | null;
  readonly coordinatorEpoch: number;
  readonly servers: readonly ClusterServerStatus[];
  /** The buckets listed (at most `bucketsMax`; only problems with `problemsOnly`). */
  readonly buckets: readonly ClusterBucketStatus[];
  /** Counts over every bucket of the cluster, listed or not. */
  readonly bucketCount: number;
  readonly underReplicated: number;
  readonly offline: number;
  readonly omitted: number;
}

export type ClusterHealthStatus = "GREEN" | "YELLOW" | "RED" | "UNKNOWN";

/** Fluss's ClusterHealth. */
export interface ClusterHealth {
  readonly numReplicas: number;
  readonly inSyncReplicas: number;
  readonly numLeaderReplicas: number;
  readonly activeLeaderReplicas: number;
  readonly status: ClusterHealthStatus;
}

export interface ClusterStatusOptions {
  /** List at most this many buckets (default 10,000; the server caps it at 100,000). */
  readonly bucketsMax?: number;
  /** List only offline and under-replicated buckets. */
  readonly problemsOnly?: boolean;
}

function stateOf(
  leader: number | null,
  replicas: readonly number[],
  isr: readonly number[],
  alive: ReadonlySet<number>,
): ClusterBucketState {
  if (leader === null || !alive.has(leader)) return "offline";
  const inSync = isr.filter((id) => alive.has(id) && replicas.includes(id)).length;
  return inSync < replicas.length ? "under-replicated" : "ok";
}

export async function getClusterStatus(
  rpc: RpcCaller,
  at: Address,
  o: ClusterStatusOptions = {},
): Promise<ClusterStatus> {
  const resp = await rpc.request(at, ApiKeys.GET_CLUSTER_STATUS, {
    ...(o.bucketsMax !== undefined ? { bucketsMax: o.bucketsMax } : {}),
    problemsOnly: o.problemsOnly === true,
  });
  const servers = resp.tabletServers.map((s) => ({
    id: s.nodeId,
    address:
      isFieldSet(s, PbClusterServerStatusSchema.field.host) &&
      isFieldSet(s, PbClusterServerStatusSchema.field.port)
        ? `${s.host}:${s.port}`
        : null,
    alive: s.alive,
    leaders: s.leaderCount,
    replicas: s.replicaCount,
  }));
  const alive = new Set(servers.filter((s) => s.alive).map((s) => s.id));
  const buckets = resp.buckets.map((b) => {
    const f = PbClusterBucketStatusSchema.field;
    const leader = isFieldSet(b, f.leaderId) ? b.leaderId : null;
    return {
      table: `${b.tablePath?.databaseName ?? ""}.${b.tablePath?.tableName ?? ""}`,
      tableId: b.tableId,
      partition: isFieldSet(b, f.partitionName) ? b.partitionName : null,
      partitionId: isFieldSet(b, f.partitionId) ? b.partitionId : null,
      bucket: b.bucketId,
      leader,
      leaderEpoch: b.leaderEpoch,
      replicas: [...b.replicas],
      isr: [...b.isr],
      state: stateOf(leader, b.replicas, b.isr, alive),
    };
  });
  const c = resp.coordinatorServer;
  return {
    coordinator: c ? `${c.host}:${c.port}` : null,
    coordinatorEpoch: resp.coordinatorEpoch,
    servers,
    buckets,
    bucketCount: resp.bucketCount,
    underReplicated: resp.underReplicatedCount,
    offline: resp.offlineCount,
    omitted: resp.bucketsOmitted,
  };
}

const HEALTH: readonly ClusterHealthStatus[] = ["GREEN", "YELLOW", "RED", "UNKNOWN"];

export async function getClusterHealth(rpc: RpcCaller, at: Address): Promise<ClusterHealth> {
  const r = await rpc.request(at, ApiKeys.GET_CLUSTER_HEALTH, {});
  return {
    numReplicas: r.numReplicas,
    inSyncReplicas: r.inSyncReplicas,
    numLeaderReplicas: r.numLeaderReplicas,
    activeLeaderReplicas: r.activeLeaderReplicas,
    status: HEALTH[r.status] ?? "UNKNOWN",
  };
}
