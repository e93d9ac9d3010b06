// What a writer needs from its connection and table, as one small interface: the writer's logic
// (batching, sequencing, retries) stays free of sockets and metadata, and tests can fake it.

import type { Clock, FlussError } from "@fluss-ts/common";
import type { ApiKeys, RespOf } from "@fluss-ts/rpc";
import type { RecordBatch } from "apache-arrow";
import type { WriteBatch } from "./write-batch.ts";

export interface WriteContext {
  readonly clock: Clock;
  /** The bucket of a row by its bucket key, or undefined when the table has none. */
  bucketOf(row: Record<string, unknown>): number | undefined;
  /** Serialise a closed batch's rows into one log batch. */
  encode(records: RecordBatch, writerId: bigint, sequence: number): Uint8Array;
  /** A key naming the current leader of a bucket; throws (retriable) when none is known. */
  leaderKey(bucket: number): string;
  produce(
    leaderKey: string,
    acks: number,
    batches: readonly WriteBatch[],
  ): Promise<RespOf<typeof ApiKeys.PRODUCE_LOG>>;
  initWriter(): Promise<bigint>;
  /** A retriable failure happened (e.g. not leader): refresh what may be stale. */
  onRetriableError(err: FlussError): void;
}
