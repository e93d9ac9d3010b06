// What a writer needs from its connection and table, as one small interface: the writer's logic
// (batching, sequencing, retries) stays free of sockets, metadata and record formats, and tests
// can fake it.

import type { Clock, FlussError } from "@fluss-ts/common";
import type { BatchPayload, WriteBatch } from "./write-batch.ts";

/** A leader's answer for one bucket of a request. */
export interface BucketAck {
  bucketId: number;
  errorCode: number;
  errorMessage: string;
  baseOffset: bigint;
}

export interface WriteContext<T> {
  readonly clock: Clock;
  /** The bucket of an item by its bucket key, or undefined when the table has none. */
  bucketOf(item: T): number | undefined;
  /** An empty payload for a new batch. */
  newPayload(): BatchPayload<T>;
  /** A key naming the current leader of a bucket; throws (retriable) when none is known. */
  leaderKey(bucket: number): string;
  /** Send encoded batches (at most one per bucket) to a leader. */
  send(leaderKey: string, acks: number, batches: readonly WriteBatch<T>[]): Promise<BucketAck[]>;
  initWriter(): Promise<bigint>;
  /** A retriable failure happened (e.g. not leader): refresh what may be stale. */
  onRetriableError(err: FlussError): void;
}
