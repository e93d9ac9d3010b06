// Leadership of buckets being created (a table's or a partition's): each bucket's first replica
// leads at epoch 0 and every replica is in sync (all are live when assigned, and all logs are
// empty: Fluss's initial ISR). The coordinator stores this together with the table or partition in
// one atomic write (so neither is ever visible without its leaders), and only then tells the
// hosting tablet servers. Later changes: elections.ts.
// Invariant: tablet servers hear about buckets only after the store holds them durably; what a
// server misses while away it is told again when it registers (as at every restart).

import type { TableInfo } from "@fluss-ts/common";
import type { BucketAssignment, BucketLeader } from "../metadata/metadata-store.ts";
import { type PartitionRef, replicaAssignment } from "./placement.ts";
import type { ReplicaAssignment, StopReplica } from "./types.ts";

/** Fluss's first epochs of a bucket (LeaderAndIsr.INITIAL_LEADER_EPOCH / INITIAL_BUCKET_EPOCH). */
export const INITIAL_LEADER_EPOCH = 0;
export const INITIAL_BUCKET_EPOCH = 0;

/** The first leadership of every bucket of `assignment`, recorded by coordinator `coordinatorEpoch`. */
export function initialLeaders(
  assignment: readonly BucketAssignment[],
  coordinatorEpoch = 0,
): BucketLeader[] {
  return assignment.map((a) => {
    const leader = a.replicas[0]!;
    return [
      a.bucket,
      {
        leader,
        leaderEpoch: INITIAL_LEADER_EPOCH,
        isr: [...a.replicas],
        coordinatorEpoch,
        bucketEpoch: INITIAL_BUCKET_EPOCH,
      },
    ] as const;
  });
}

/** What each hosting server is told about the buckets of `assignment`, by server id. */
export function assignmentsByServer(
  info: TableInfo,
  partition: PartitionRef | null,
  assignment: readonly BucketAssignment[],
  leaders: readonly BucketLeader[],
): Map<number, ReplicaAssignment[]> {
  const byBucket = new Map(leaders);
  const perServer = new Map<number, ReplicaAssignment[]>();
  for (const a of assignment) {
    const lai = byBucket.get(a.bucket);
    if (lai === undefined) continue;
    for (const serverId of a.replicas) {
      const list = perServer.get(serverId) ?? [];
      list.push(replicaAssignment(info, partition, a, lai));
      perServer.set(serverId, list);
    }
  }
  return perServer;
}

/** Stops (with data deletion) of every replica of the given buckets, by hosting server id. */
export function deletionsByServer(
  tableId: bigint,
  partitionId: bigint | null,
  assignment: readonly BucketAssignment[],
  leaderEpochs: ReadonlyMap<number, number>,
): Map<number, StopReplica[]> {
  const perServer = new Map<number, StopReplica[]>();
  for (const a of assignment) {
    for (const s of a.replicas) {
      const list = perServer.get(s) ?? [];
      list.push({
        tableId,
        partitionId,
        bucket: a.bucket,
        leaderEpoch: leaderEpochs.get(a.bucket) ?? INITIAL_LEADER_EPOCH,
        delete: true,
      });
      perServer.set(s, list);
    }
  }
  return perServer;
}
