// Leadership of buckets being created (a table's or a partition's): each bucket's first replica
// leads at epoch 0 with itself as the only in-sync replica (followers do not replicate yet). The
// coordinator stores this together with the table or partition in one atomic write (so neither is
// ever visible without its leaders), and only then tells the hosting tablet servers.
// Invariant: tablet servers hear about buckets only after the store holds them durably; a server
// that fails to act on the news does not undo the creation (it is retried when the server
// registers again, as at every restart), it is logged.

import type { TableInfo } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type { BucketAssignment, BucketLeader } from "../metadata/metadata-store.ts";
import { type PartitionRef, replicaAssignment } from "./placement.ts";
import type { ReplicaAssignment, TabletServerGateway } from "./types.ts";

/** The first leadership of every bucket of `assignment`. */
export function initialLeaders(assignment: readonly BucketAssignment[]): BucketLeader[] {
  return assignment.map((a) => {
    const leader = a.replicas[0]!;
    return [
      a.bucket,
      { leader, leaderEpoch: 0, isr: [leader], coordinatorEpoch: 0, bucketEpoch: 0 },
    ] as const;
  });
}

/** Tell every server hosting one of the new buckets about it (after the store recorded them). */
export async function announceNewBuckets(
  gateways: ReadonlyMap<number, TabletServerGateway>,
  logger: Logger,
  info: TableInfo,
  partition: PartitionRef | null,
  assignment: readonly BucketAssignment[],
  leaders: readonly BucketLeader[],
): Promise<void> {
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
  for (const [serverId, list] of perServer) {
    try {
      await gateways.get(serverId)?.notifyLeaderAndIsr(list);
    } catch (err) {
      logger.error(
        {
          err,
          server: serverId,
          table: `${info.path.database}.${info.path.table}`,
          partition: partition?.name,
        },
        "a tablet server failed to open new replicas; it is told again when it registers",
      );
    }
  }
}
