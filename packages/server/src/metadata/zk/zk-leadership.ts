// The ZooKeeper operations that write a table's or partition's bucket nodes and their leadership
// (Fluss's .../buckets/<bucket>/leader_isr), given which of those nodes already exist: a missing
// parent is created in the same transaction (ZooKeeper transactions cannot create parents on the
// way), an existing leadership node is overwritten.

import type { BucketAssignment, BucketLeader } from "../metadata-store.ts";
import { EMPTY_DATA, encodeLeaderAndIsr, Paths } from "./zk-layout.ts";
import type { ZkOp } from "./zookeeper-client.ts";

/** What exists under an owner (table or partition assignment node) before the write. */
export type ExistingBuckets =
  | { readonly buckets: "absent" }
  | {
      readonly buckets: "present";
      readonly bucketNodes: ReadonlySet<number>;
      readonly withLeader: ReadonlySet<number>;
    };

export function leadershipOps(
  tableId: bigint,
  partitionId: bigint | null,
  assignment: readonly BucketAssignment[],
  leaders: readonly BucketLeader[],
  existing: ExistingBuckets,
): ZkOp[] {
  const buckets = [...new Set([...assignment.map((a) => a.bucket), ...leaders.map(([b]) => b)])].sort(
    (a, b) => a - b,
  );
  const ops: ZkOp[] = [];
  if (buckets.length === 0) return ops;
  const present = existing.buckets === "present" ? existing : null;
  if (present === null)
    ops.push({ kind: "create", path: Paths.buckets(tableId, partitionId), data: EMPTY_DATA });
  for (const b of buckets) {
    if (!present?.bucketNodes.has(b)) {
      ops.push({ kind: "create", path: Paths.bucket(tableId, partitionId, b), data: EMPTY_DATA });
    }
  }
  for (const [b, lai] of leaders) {
    const path = Paths.leaderIsr(tableId, partitionId, b);
    const data = encodeLeaderAndIsr(lai);
    ops.push(
      present?.withLeader.has(b) ? { kind: "set", path, data, version: -1 } : { kind: "create", path, data },
    );
  }
  return ops;
}
