// Where replicas live: bucket assignment over live tablet servers and what a hosting server is
// told about each replica. Shared by tables and partitions (a partition is a set of
// buckets of its table, keyed by partition id). Called only from inside the coordinator's serial
// queue, so assignment, the durable record and the notifications of one change never interleave
// with another change.
// Invariants: every bucket gets `replicationFactor` distinct live servers (checkReplicationFactor:
// never more than are alive); the first replica is the preferred (and initial) leader; leadership
// is persisted before any tablet server is told about it.

import { Errors, FlussError, type TableInfo } from "@fluss-ts/common";
import type { BucketAssignment, LeaderAndIsr } from "../metadata/metadata-store.ts";
import { checkReplicationFactor } from "./table-validation.ts";
import type { ReplicaAssignment } from "./types.ts";

/** The partition a set of buckets belongs to; null for a non-partitioned table. */
export interface PartitionRef {
  readonly id: bigint;
  readonly name: string;
}

/** Spread replicas round robin over live tablet servers, starting at an offset from `seed`. */
export function assignBuckets(
  servers: readonly number[],
  bucketCount: number,
  replicationFactor: number,
  seed: number,
): BucketAssignment[] {
  if (servers.length === 0)
    throw new FlussError(Errors.LEADER_NOT_AVAILABLE_EXCEPTION, "no tablet server is alive");
  checkReplicationFactor(replicationFactor, servers.length);
  const start = Math.abs(seed) % servers.length;
  const out: BucketAssignment[] = [];
  for (let b = 0; b < bucketCount; b++) {
    const replicas: number[] = [];
    for (let r = 0; r < replicationFactor; r++) replicas.push(servers[(start + b + r) % servers.length]!);
    out.push({ bucket: b, replicas });
  }
  return out;
}

export function replicaAssignment(
  info: TableInfo,
  partition: PartitionRef | null,
  a: BucketAssignment,
  lai: LeaderAndIsr,
): ReplicaAssignment {
  return {
    table: info,
    partitionId: partition?.id ?? null,
    partitionName: partition?.name ?? null,
    bucket: a.bucket,
    leader: lai.leader,
    leaderEpoch: lai.leaderEpoch,
    bucketEpoch: lai.bucketEpoch,
    replicas: a.replicas,
    isr: lai.isr,
  };
}
