// GetClusterHealth (API 1062, public, Fluss's): replica counts over every bucket and a status, as
// Fluss's coordinator computes them (CoordinatorService.computeClusterHealth): replicas assigned,
// ISR members recorded, buckets, buckets whose leader is alive; GREEN (0) when every leader is
// active and every replica in sync, YELLOW (1) when some replica is not, RED (2) when some bucket
// has no active leader.
//   GetClusterHealthRequest  {}
//   GetClusterHealthResponse { num_replicas: int32; in_sync_replicas: int32;
//                              num_leader_replicas: int32; active_leader_replicas: int32;
//                              status: int32 (GREEN 0, YELLOW 1, RED 2, UNKNOWN 3) }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import { clusterStatus, healthStatusOf } from "../cluster-status.ts";
import type { Coordinator } from "../coordinator.ts";

export function getClusterHealthHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_CLUSTER_HEALTH> {
  return async () => {
    const s = await clusterStatus(c, { bucketsMax: 0 });
    return {
      numReplicas: s.replicaCount,
      inSyncReplicas: s.inSyncReplicaCount,
      numLeaderReplicas: s.bucketCount,
      activeLeaderReplicas: s.activeLeaderCount,
      status: healthStatusOf(s),
    };
  };
}
