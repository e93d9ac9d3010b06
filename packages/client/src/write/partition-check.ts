// Where a writer's partition went: after a partition's bucket refused a batch (unknown bucket,
// no leader, ...), the writer asks for the partition's current id. Its route is fetched again by
// id: if the partition still exists the id stands (and its leaders are fresh now). If it was
// dropped, its name is looked up: a partition re-created under the same name has a new id, and
// the writer moves the rows it holds for the old id there; none (asked twice, GONE_RECHECK_MS
// apart, so a drop and re-create in quick succession is seen as one) means the partition is gone
// and its rows fail with PARTITION_NOT_EXISTS. The resolver and the metadata cache forget the old
// id either way, so later rows resolve the name afresh (and create the partition when allowed).
// This never creates a partition for rows built for a dropped one.

import { Errors, isFlussError, type Scheduler, type TableInfo } from "@fluss-ts/common";
import type { MetadataCache } from "../metadata.ts";
import type { PartitionResolver } from "../partition-resolver.ts";
import type { WriteContext } from "./write-context.ts";

/** Wait before the second lookup of a dropped partition's name. */
export const GONE_RECHECK_MS = 1000;

function isPartitionNotExists(err: unknown): boolean {
  return isFlussError(err) && err.is(Errors.PARTITION_NOT_EXISTS);
}

/** The `partitionIdNow` of a partitioned table's writer context; nothing for other tables. */
export function partitionCheck(
  metadata: MetadataCache,
  info: TableInfo,
  resolver: PartitionResolver | null,
  scheduler: Scheduler,
): Pick<WriteContext<unknown>, "partitionIdNow"> {
  if (resolver === null) return {};
  const byName = async (name: string): Promise<bigint | null> => {
    try {
      return (await metadata.partition(info, name, true)).partitionId;
    } catch (err) {
      if (isPartitionNotExists(err)) return null;
      throw err;
    }
  };
  return {
    partitionIdNow: async (partitionId) => {
      const name = metadata.partitionNameOf(info.tableId, partitionId);
      try {
        await metadata.refreshPartitions(info, [partitionId], true);
        return partitionId;
      } catch (err) {
        if (!isPartitionNotExists(err)) throw err;
      }
      metadata.forgetPartition(info.tableId, partitionId);
      if (name === undefined) return null;
      resolver.forget(name);
      const now = await byName(name);
      if (now !== null) return now;
      await new Promise<void>((resolve) => scheduler.setTimeout(resolve, GONE_RECHECK_MS));
      return byName(name);
    },
  };
}
