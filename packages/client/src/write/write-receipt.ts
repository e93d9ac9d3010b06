// What a write returns once its row is buffered: a receipt naming the bucket the row went to, whose
// `acknowledged` promise resolves when the cluster acknowledged the row's batch (with the row's log
// offset for an append, the bucket's changelog end for an upsert or delete) and rejects with the
// batch's error. Awaiting the write itself only waits for room in the write buffer (backpressure),
// so a loop of `await writer.append(row)` stays as fast as before; ask for `acknowledged` only
// where a caller needs to know (it is created on first use, never for rows nobody asks about).
// Invariant: a receipt refers to the batch its row was added to and the row's index in that batch;
// log batches hold consecutive offsets, so row i of a batch has offset baseOffset + i.

import type { WriteBatch } from "./write-batch.ts";

/** Acknowledgement of an appended row. */
export interface AppendAck {
  readonly bucket: number;
  /** The partition's id, for a partitioned table; null otherwise. */
  readonly partitionId: bigint | null;
  /**
   * The row's log offset; -1n when the server's answer does not say: acks 0, a retry the leader
   * found already stored, or a batch known written only because a later one of its bucket was
   * acknowledged (its own answer was lost in a leader change).
   */
  readonly offset: bigint;
}

/** Acknowledgement of an upserted or deleted row. */
export interface UpsertAck {
  readonly bucket: number;
  readonly partitionId: bigint | null;
  /**
   * End of the bucket's changelog once the write was applied: a changelog reader at this offset
   * has seen the change (one write can add 0, 1 or 2 changelog records). -1n when unknown (as for
   * an append's offset).
   */
  readonly logEndOffset: bigint;
}

// biome-ignore lint/suspicious/noExplicitAny: a batch of any item type
type AnyBatch = WriteBatch<any>;

/** Builds the acknowledgement of row `index` of an acknowledged batch. */
export type AckOf<A> = (batch: AnyBatch, index: number) => A;

export const appendAck: AckOf<AppendAck> = (b, index) => ({
  bucket: b.bucket,
  partitionId: b.partitionId,
  offset: b.baseOffset < 0n ? -1n : b.baseOffset + BigInt(index),
});

export const upsertAck: AckOf<UpsertAck> = (b) => ({
  bucket: b.bucket,
  partitionId: b.partitionId,
  logEndOffset: b.baseOffset,
});

export class WriteReceipt<A> {
  readonly #batch: AnyBatch;
  readonly #index: number;
  readonly #ackOf: AckOf<A>;
  #acknowledged: Promise<A> | undefined;

  constructor(batch: AnyBatch, index: number, ackOf: AckOf<A>) {
    this.#batch = batch;
    this.#index = index;
    this.#ackOf = ackOf;
  }

  /** The bucket the row was written to. */
  get bucket(): number {
    return this.#batch.bucket;
  }

  /**
   * The id of the row's partition, for a partitioned table; null otherwise. It changes if the
   * partition is dropped and re-created under the same name before the row is written (the row
   * then goes to the new partition); the acknowledgement names the partition that took it.
   */
  get partitionId(): bigint | null {
    return this.#batch.partitionId;
  }

  /** Resolves once the row's batch is acknowledged (see the writer's `acks`); rejects with its error. */
  get acknowledged(): Promise<A> {
    this.#acknowledged ??= this.#batch.done.then(() => this.#ackOf(this.#batch, this.#index));
    return this.#acknowledged;
  }
}
