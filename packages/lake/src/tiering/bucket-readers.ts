// Reading one physical bucket for a tiering round, through the client SDK only: the log (or a
// primary-key table's changelog) from the last tiered offset up to the round's frozen end offset,
// and, for a primary-key bucket never tiered, a snapshot scan of its KV store with the changelog
// offset its view corresponds to.
// Invariants: records at or past `end` are never handed out; the returned `reached` offset is
// the first offset not handed out (= end when the bucket was read to its end).

import type { ScanBatch, Table } from "@fluss-ts/client";
import { ArrowBatchBuilder, type PartitionSpec } from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";

export interface PhysicalBucket {
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly partitionSpec: PartitionSpec | null;
  /** Partition values in partition-key order (empty when unpartitioned). */
  readonly partitionValues: readonly string[];
  readonly bucket: number;
}

const FETCH_BUCKET_BYTES_MAX = 8 * 1024 * 1024;
const FETCH_BYTES_MAX = 32 * 1024 * 1024;
const SNAPSHOT_BATCH_ROWS = 64 * 1024;

/**
 * Hand the log records of [start, end) of one bucket to `onBatch`, in order; stop early (at a
 * batch boundary) when `onBatch` returns false. Returns the first offset not handed out.
 */
export async function readLogRange(
  table: Table,
  pb: PhysicalBucket,
  start: bigint,
  end: bigint,
  onBatch: (b: ScanBatch, rows: RecordBatch, changeTypes: Uint8Array | null) => boolean,
): Promise<bigint> {
  if (start >= end) return start;
  const scanner = table.newLogScanner({
    buckets: [pb.bucket],
    from: { offset: start },
    untilLatest: true,
    ...(pb.partitionSpec ? { partitions: pb.partitionSpec } : {}),
    fetchBucketMaxBytes: FETCH_BUCKET_BYTES_MAX,
    fetchMaxBytes: FETCH_BYTES_MAX,
  });
  let reached = start;
  let stopped = false;
  try {
    for await (const b of scanner.batches()) {
      if (b.baseOffset >= end) break;
      let rows = b.recordBatch;
      let types = b.changeTypes;
      const room = end - b.baseOffset;
      if (BigInt(rows.numRows) > room) {
        rows = rows.slice(0, Number(room));
        types = types ? types.subarray(0, Number(room)) : null;
      }
      const more = onBatch(b, rows, types);
      reached = b.nextOffset < end ? b.nextOffset : end;
      if (reached >= end) break;
      if (!more) {
        stopped = true;
        break;
      }
    }
  } finally {
    scanner.close();
  }
  // The scanner stops at the latest offset it saw at start, which is at or past `end`.
  return stopped ? reached : end;
}

/**
 * The rows of a primary-key bucket's KV snapshot as Fluss Arrow batches, and the changelog offset
 * the snapshot corresponds to.
 */
export async function readKvSnapshot(
  table: Table,
  pb: PhysicalBucket,
  onBatch: (rows: RecordBatch) => Promise<void>,
): Promise<bigint> {
  const scanner = table.newSnapshotScanner({
    buckets: [pb.bucket],
    ...(pb.partitionSpec ? { partition: pb.partitionSpec } : {}),
  });
  const builder = new ArrowBatchBuilder(table.info.descriptor.schema);
  for await (const row of scanner) {
    builder.append(row);
    if (builder.rowCount >= SNAPSHOT_BATCH_ROWS) await onBatch(builder.build());
  }
  if (builder.rowCount > 0) await onBatch(builder.build());
  const offset = scanner.logOffsets.get(pb.bucket);
  if (offset === undefined) throw new Error(`snapshot scan of bucket ${pb.bucket} returned no log offset`);
  return offset;
}
