// What a writer needs from its connection and table, as one small interface: the writer's logic
// (batching, sequencing, retries) stays free of sockets, metadata and record formats, and tests
// can fake it.

import type { Clock, FlussError, Scheduler } from "@fluss-ts/common";
import type { BatchPayload, WriteBatch } from "./write-batch.ts";

/** A physical bucket: a bucket of the table, or of one of its partitions. */
export interface BucketTarget {
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

/** Where an item goes: its partition, and its bucket when the table has a bucket key. */
export interface Route {
  readonly partitionId: bigint | null;
  readonly bucket: number | undefined;
}

/** A leader's answer for one bucket of a request. */
export interface BucketAck {
  partitionId: bigint | null;
  bucketId: number;
  errorCode: number;
  errorMessage: string;
  baseOffset: bigint;
}

export interface WriteContext<T> {
  readonly clock: Clock;
  /** Linger and retry timers. */
  readonly scheduler: Scheduler;
  /**
   * Where an item goes. Synchronous for a non-partitioned table; a partitioned table may have to
   * look up (or create) the item's partition first.
   */
  route(item: T): Route | Promise<Route>;
  /** An empty payload for a new batch. */
  newPayload(): BatchPayload<T>;
  /** A key naming the current leader of a bucket; throws (retriable) when none is known. */
  leaderKey(target: BucketTarget): string;
  /**
   * Send encoded batches (at most one per bucket) to a leader with Fluss's `acks` (-1, 1 or 0).
   * Must take the batches' bytes before it returns: with acks 0 the writer settles (and forgets)
   * the batches right after the call, without waiting for the answer.
   */
  send(leaderKey: string, acks: number, batches: readonly WriteBatch<T>[]): Promise<BucketAck[]>;
  initWriter(): Promise<bigint>;
  /** A retriable failure happened (e.g. not leader): refresh what may be stale. */
  onRetriableError(err: FlussError): void;
  /**
   * Partitioned tables: the current id of a partition a bucket of which refused a batch — the
   * same id while it exists (its route refreshed), the id of the partition re-created under its
   * name after it was dropped, or null when it is gone (see partition-check.ts).
   */
  partitionIdNow?(partitionId: bigint): Promise<bigint | null>;
}
