// Where a log scan starts (and, for `untilLatest`, ends) in each physical bucket: a bucket of the
// table, or of each partition the scan reads. Starts come from a StartPosition (earliest, latest,
// an offset, a timestamp) or from saved ScanPositions (see positions.ts for the rules); ends are
// the high watermarks when the scan starts. Partitions found later by a following scan start at
// their earliest offset.

import type { PartitionSpec, TableInfo } from "@fluss-ts/common";
import type { Admin } from "../admin.ts";
import type { StartPosition } from "../options.ts";
import type { BucketStart } from "./log-scanner.ts";
import {
  checkPositionsTable,
  isScanPositions,
  type OutOfRangePolicy,
  positionKey,
  resumeOffset,
  type ScanPositions,
  savedOffsets,
} from "./positions.ts";

export class ScanStarts {
  private readonly admin: Admin;
  private readonly info: TableInfo;
  private readonly from: StartPosition;
  private readonly saved: Map<string, bigint> | null;
  private readonly buckets: readonly number[];
  private readonly outOfRange: OutOfRangePolicy;

  constructor(
    admin: Admin,
    info: TableInfo,
    from: StartPosition | ScanPositions,
    buckets: readonly number[],
    outOfRange: OutOfRangePolicy,
  ) {
    this.admin = admin;
    this.info = info;
    this.buckets = buckets;
    this.outOfRange = outOfRange;
    if (isScanPositions(from)) {
      checkPositionsTable(from, info);
      this.saved = savedOffsets(from);
      this.from = "earliest"; // for buckets the positions do not name
    } else {
      this.saved = null;
      this.from = from;
    }
  }

  /** Starts of a non-partitioned table's buckets. */
  table(withEnds: boolean): Promise<BucketStart[]> {
    return this.bucketStarts(null, null, withEnds, this.saved);
  }

  /** Starts of the buckets of matching partitions not yet `known` (by name). */
  async partitions(
    matches: (spec: PartitionSpec) => boolean,
    withEnds: boolean,
    known: ReadonlySet<string>,
    discovered: boolean,
  ): Promise<BucketStart[]> {
    const out: BucketStart[] = [];
    for (const p of await this.admin.listPartitions(this.info.path)) {
      if (known.has(p.name) || !matches(p.spec)) continue;
      const saved = discovered ? null : this.saved;
      out.push(...(await this.bucketStarts(p.partitionId, p.name, withEnds, saved, discovered)));
    }
    return out;
  }

  private async bucketStarts(
    partitionId: bigint | null,
    partition: string | null,
    withEnds: boolean,
    saved: Map<string, bigint> | null,
    discovered = false,
  ): Promise<BucketStart[]> {
    const path = this.info.path;
    const p = partitionId === null ? null : { partitionId };
    const resumed = saved ? this.buckets.filter((b) => saved.has(positionKey(partitionId, b))) : [];
    const from: StartPosition = discovered ? "earliest" : this.from;
    const starts = await this.admin.resolveStart(path, from, this.buckets, p);
    const needEnds = withEnds || resumed.length > 0;
    const ends = needEnds ? await this.admin.listOffsets(path, "latest", this.buckets, p) : null;
    const earliest =
      resumed.length > 0
        ? from === "earliest"
          ? starts
          : await this.admin.listOffsets(path, "earliest", resumed, p)
        : null;
    return this.buckets.map((bucket) => {
      const end = ends?.get(bucket) ?? 0n;
      let offset = starts.get(bucket) ?? 0n;
      const savedOffset = saved?.get(positionKey(partitionId, bucket));
      if (savedOffset !== undefined) {
        const where = partition === null ? `bucket ${bucket}` : `partition ${partition} bucket ${bucket}`;
        offset = resumeOffset(where, savedOffset, earliest?.get(bucket) ?? 0n, end, this.outOfRange);
      }
      return { partitionId, partition, bucket, offset, end: withEnds ? end : null };
    });
  }
}
