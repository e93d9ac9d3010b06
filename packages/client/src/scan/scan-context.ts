// What a scanner needs from its connection and table: the leader of a bucket and a fetch call.

import type { Clock, FlussError, Predicate, Scheduler } from "@fluss-ts/common";

export interface FetchRequestSpec {
  buckets: ReadonlyArray<{ partitionId: bigint | null; bucket: number; offset: bigint }>;
  projection: readonly number[] | null;
  /** Sent for batch skipping by statistics; rows are still filtered by the client. */
  filter: Predicate | null;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  bucketMaxBytes: number;
}

export interface FetchBucketResponse {
  partitionId: bigint | null;
  bucket: number;
  errorCode: number;
  errorMessage: string;
  highWatermark: bigint;
  records: Uint8Array;
  /** The server skipped filtered batches up to here (the next fetch may start at it). */
  filteredEndOffset: bigint | null;
}

export interface ScanContext {
  /** Backoff deadlines. */
  readonly clock: Clock;
  /** Retry and partition-discovery timers. */
  readonly scheduler: Scheduler;
  /** A key naming the current leader of a bucket; throws (retriable) when none is known. */
  leaderKey(target: { partitionId: bigint | null; bucket: number }): string;
  fetch(leaderKey: string, spec: FetchRequestSpec, signal: AbortSignal): Promise<FetchBucketResponse[]>;
  /** A retriable failure happened (e.g. not leader): refresh what may be stale. */
  onRetriableError(err: FlussError): void;
}
