// GetClusterStatus (API 9100, public, fluss-ts only): servers with liveness and every bucket's
// leader, leader epoch, replicas and ISR (cluster-status.ts says what offline and under-replicated
// mean and how the listing is bounded).
//   GetClusterStatusRequest  { buckets_max?: int32 (default 10,000, at most 100,000);
//                              problems_only?: bool (list only offline and under-replicated buckets) }
//   GetClusterStatusResponse { coordinator_server?: PbServerNode;
//                              tablet_servers: [PbClusterServerStatus { node_id: int32; host?: string;
//                                port?: int32 (absent while not alive); alive: bool;
//                                leader_count: int32; replica_count: int32 }];
//                              buckets: [PbClusterBucketStatus { table_path: PbTablePath;
//                                table_id: int64; partition_id?: int64; partition_name?: string;
//                                bucket_id: int32; leader_id?: int32 (recorded, alive or not);
//                                leader_epoch: int32; replicas: [int32]; isr: [int32] }];
//                              bucket_count: int32; under_replicated_count: int32;
//                              offline_count: int32; buckets_omitted: int32; coordinator_epoch: int32 }

import {
  type ApiKeys,
  create,
  GetClusterStatusRequestSchema,
  isFieldSet,
  type PbClusterBucketStatus,
  PbClusterBucketStatusSchema,
  type PbClusterServerStatus,
  PbClusterServerStatusSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import { type BucketStatus, clusterStatus, type ServerStatus } from "../cluster-status.ts";
import type { Coordinator } from "../coordinator.ts";
import { nodePb } from "./wire.ts";

function serverPb(s: ServerStatus): PbClusterServerStatus {
  const pb = create(PbClusterServerStatusSchema, {
    nodeId: s.id,
    alive: s.alive,
    leaderCount: s.leaders,
    replicaCount: s.replicas,
  });
  if (s.host !== null) pb.host = s.host;
  if (s.port !== null) pb.port = s.port;
  return pb;
}

function bucketPb(b: BucketStatus): PbClusterBucketStatus {
  const pb = create(PbClusterBucketStatusSchema, {
    tablePath: { databaseName: b.path.database, tableName: b.path.table },
    tableId: b.tableId,
    bucketId: b.bucket,
    leaderEpoch: b.leaderEpoch,
    replicas: [...b.replicas],
    isr: [...b.isr],
  });
  if (b.partitionId !== null) pb.partitionId = b.partitionId;
  if (b.partitionName !== null) pb.partitionName = b.partitionName;
  if (b.leader !== null) pb.leaderId = b.leader;
  return pb;
}

export function getClusterStatusHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_CLUSTER_STATUS> {
  return async (req) => {
    const f = GetClusterStatusRequestSchema.field;
    const s = await clusterStatus(c, {
      ...(isFieldSet(req, f.bucketsMax) ? { bucketsMax: req.bucketsMax } : {}),
      problemsOnly: req.problemsOnly,
    });
    return {
      coordinatorServer: nodePb(c.node),
      tabletServers: s.servers.map(serverPb),
      buckets: s.buckets.map(bucketPb),
      bucketCount: s.bucketCount,
      underReplicatedCount: s.underReplicated,
      offlineCount: s.offline,
      bucketsOmitted: s.omitted,
      coordinatorEpoch: s.coordinatorEpoch,
    };
  };
}
