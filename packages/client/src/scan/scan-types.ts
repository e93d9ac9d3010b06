// The shapes a log scan hands out (batches and records) and takes (its settings, where each bucket
// starts), and its per-bucket bookkeeping (cursors, buffered batches); the logic is in log-scanner.ts.

import type { ChangeTypeName, Column, Predicate } from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";
import type { AnyRow } from "../schema-types.ts";
import type { ScanPositions } from "./positions.ts";

export interface ScanBatch {
  readonly bucket: number;
  /** Partition id and name, for a partitioned table; null otherwise. */
  readonly partitionId: bigint | null;
  readonly partition: string | null;
  /** Offset of the first record in `recordBatch` (records before the start position are cut). */
  readonly baseOffset: bigint;
  /** Offset the bucket continues at after this batch. */
  readonly nextOffset: bigint;
  readonly commitTimestamp: number;
  /** One change type byte per row, or null for append-only batches (all +A). */
  readonly changeTypes: Uint8Array | null;
  /** Only the projected columns. */
  readonly recordBatch: RecordBatch;
  /**
   * With a filter: for each row, its offset minus `baseOffset` (rows are not contiguous);
   * null when row i has offset `baseOffset + i`.
   */
  readonly selection: Uint32Array | null;
}

export interface ScanRecord<R extends object = AnyRow> {
  readonly bucket: number;
  /** Partition name, for a partitioned table; null otherwise. */
  readonly partition: string | null;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly changeType: ChangeTypeName;
  readonly row: R;
}

export interface ScannerSettings {
  /** The table scanned (named in `positions()`). */
  table: { readonly path: string; readonly tableId: bigint };
  /** The positions the scan resumes from, if any (what `positions()` reports until it has started). */
  resumeFrom: ScanPositions | null;
  /** The columns the scanner yields. */
  columns: readonly Column[];
  /** The columns fetched: `columns` plus any the filter reads that the caller did not ask for. */
  fetchColumns: readonly Column[];
  projection: readonly number[] | null;
  filter: Predicate | null;
  /** Resolves where each bucket starts and, for untilLatest, where it ends. */
  positions: () => Promise<BucketStart[]>;
  /** While following a partitioned table: partitions that appeared since (polled). */
  discover: ((known: ReadonlySet<string>) => Promise<BucketStart[]>) | null;
  discoverIntervalMs: number;
  fetchWaitMs: number;
  fetchMinBytes: number;
  fetchMaxBytes: number;
  fetchBucketMaxBytes: number;
  bufferBytesMax: number;
  signal: AbortSignal | undefined;
}

/** Where one physical bucket starts (and, for untilLatest, ends). */
export interface BucketStart {
  readonly partitionId: bigint | null;
  readonly partition: string | null;
  readonly bucket: number;
  readonly offset: bigint;
  readonly end: bigint | null;
}

export interface BucketCursor {
  readonly partitionId: bigint | null;
  readonly partition: string | null;
  readonly key: string;
  bucket: number;
  /** Next offset to fetch. */
  offset: bigint;
  /** Offset after the last record handed to the caller (what `positions()` reports). */
  delivered: bigint;
  /** The bucket's newest batch still in the buffer, if any. */
  lastBuffered: BufferEntry | undefined;
  end: bigint | null;
  inFlight: boolean;
  blockedUntilMs: number;
  backoffMs: number;
}

export interface BufferEntry {
  readonly batch: ScanBatch;
  readonly sizeBytes: number;
  readonly cursor: BucketCursor;
  /** Where the bucket continues once this batch is handed out. */
  resumeAt: bigint;
}
