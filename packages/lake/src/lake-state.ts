// What `fluss table describe` shows of a lake-enabled table: the current lake snapshot, the
// offsets it covers, the tiering lag per bucket (log end offset minus tiered offset, and age of
// the snapshot) and the last round's rows/s (records read over the round's duration, both kept in
// the snapshot summary).

import type { Admin, Table } from "@fluss-ts/client";
import type { Clock } from "@fluss-ts/common";
import { LakeTable } from "./iceberg/lake-table.ts";
import { bucketKey } from "./iceberg/offsets-file.ts";
import { physicalBuckets } from "./tiering/tiering-round.ts";

export interface LakeDescription {
  readonly warehouseTable: string;
  readonly snapshotId: number | null;
  readonly snapshotTimeMs: number | null;
  readonly snapshotAgeMs: number | null;
  readonly totalRecords: number;
  readonly lastRoundRecords: number;
  readonly lastRoundRowsPerSecond: number | null;
  /** Records of the log not yet in the lake, over all buckets. */
  readonly lagRecords: bigint;
  readonly buckets: Array<{
    partition: string | null;
    bucket: number;
    tieredOffset: bigint | null;
    logEndOffset: bigint;
  }>;
}

export async function describeLake(
  admin: Admin,
  table: Table,
  warehouse: string,
  clock: Clock,
): Promise<LakeDescription | null> {
  const lake = await LakeTable.open(warehouse, table.info, clock, false);
  if (!lake) return null;
  const state = await lake.state();
  const buckets: LakeDescription["buckets"] = [];
  let lag = 0n;
  const pbs = await physicalBuckets(admin, table);
  const byPartition = new Map<string, typeof pbs>();
  for (const pb of pbs)
    byPartition.set(String(pb.partitionId), [...(byPartition.get(String(pb.partitionId)) ?? []), pb]);
  for (const group of byPartition.values()) {
    const pid = group[0]!.partitionId;
    const ends = await admin.listOffsets(
      table.info.path,
      "latest",
      group.map((g) => g.bucket),
      pid === null ? null : { partitionId: pid },
    );
    for (const pb of group) {
      const end = ends.get(pb.bucket) ?? 0n;
      const tiered = state?.offsets.buckets.get(bucketKey(pb.partitionId, pb.bucket))?.offset ?? null;
      lag += end - (tiered ?? 0n) > 0n ? end - (tiered ?? 0n) : 0n;
      buckets.push({
        partition: pb.partitionName,
        bucket: pb.bucket,
        tieredOffset: tiered,
        logEndOffset: end,
      });
    }
  }
  const s = state?.snapshot ?? null;
  const records = Number(s?.summary["fluss.tiering.records-read"] ?? 0);
  const ms = Number(s?.summary["fluss.tiering.duration-ms"] ?? 0);
  return {
    warehouseTable: lake.location,
    snapshotId: s ? s["snapshot-id"] : null,
    snapshotTimeMs: s ? s["timestamp-ms"] : null,
    snapshotAgeMs: s ? clock.nowMs() - s["timestamp-ms"] : null,
    totalRecords: Number(s?.summary["total-records"] ?? 0),
    lastRoundRecords: records,
    lastRoundRowsPerSecond: ms > 0 ? (records * 1000) / ms : null,
    lagRecords: lag,
    buckets,
  };
}
