// One batch of items for one bucket, from the first item written to the acknowledgement. While
// open, items go straight into the payload (Arrow column buffers or KV records, checked as they
// arrive); at close the sequence is fixed; the payload is serialised once before the first send,
// then kept as bytes until acknowledged so a retry resends the very same bytes (same writer id and
// sequence: the server drops a duplicate). Only `retarget` changes a closed batch: when its
// partition was dropped and re-created under a new id, it moves to the new partition's bucket
// with a sequence of that bucket (its bytes re-stamped with it; nothing else in them names the
// partition: the request carries the partition id beside the bytes).

import { assert, type FlussError } from "@fluss-ts/common";
import type { BucketTarget } from "./write-context.ts";

/** What a batch holds: rows for an Arrow log batch, or key/value records for a KV batch. */
export interface BatchPayload<T> {
  /** Add an item; throws SCHEMA_MISMATCH (leaving the payload as it was). Returns bytes added. */
  add(item: T): number;
  /**
   * Cheap upper bound of what add(item) would return, not counting a validity bitmap that starts
   * covering the earlier items (so add(item) <= bytesBound(item) whenever the payload is empty).
   * The writer uses it to start a new batch before an item that may not fit the open one.
   */
  bytesBound(item: T): number;
  readonly count: number;
  readonly sizeBytes: number;
  /** Serialise (once) with the writer id and sequence. */
  encode(writerId: bigint, sequence: number): Uint8Array;
  /** A copy of bytes from `encode` with another sequence (see resequence.ts). */
  readonly resequence: (bytes: Uint8Array, sequence: number) => Uint8Array;
}

export type BatchState = "open" | "ready" | "in-flight" | "done" | "failed";

export class WriteBatch<T> {
  target: BucketTarget;
  readonly createdMs: number;
  private payload: BatchPayload<T> | undefined;
  /** The payload's resequence, kept once the payload is dropped. */
  private readonly resequence: BatchPayload<T>["resequence"];
  sizeBytes = 0;
  state: BatchState = "open";
  /** Batch sequence for idempotence, assigned at close; -1 when not idempotent. */
  sequence = -1;
  bytes: Uint8Array | undefined;
  attempts = 0;
  /** Items in the batch, fixed when it closes (the payload is dropped once encoded). */
  items = 0;
  /** Offset of the batch's first record, once acknowledged. */
  baseOffset = -1n;
  private settled = false;
  private resolveFn!: () => void;
  private rejectFn!: (err: FlussError) => void;
  readonly done: Promise<void>;

  constructor(payload: BatchPayload<T>, target: BucketTarget, createdMs: number) {
    this.payload = payload;
    this.resequence = payload.resequence;
    this.target = target;
    this.createdMs = createdMs;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A failed batch is reported through the writer (flush/write); never as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  get bucket(): number {
    return this.target.bucket;
  }

  get partitionId(): bigint | null {
    return this.target.partitionId;
  }

  add(item: T): number {
    assert(this.state === "open" && this.payload !== undefined, "items are only added to an open batch");
    const grown = this.payload.add(item);
    this.sizeBytes += grown;
    return grown;
  }

  /** See BatchPayload.bytesBound. */
  bytesBound(item: T): number {
    assert(this.state === "open" && this.payload !== undefined, "only an open batch measures items");
    return this.payload.bytesBound(item);
  }

  get count(): number {
    return this.payload?.count ?? 0;
  }

  close(sequence: number): void {
    assert(this.state === "open", "a batch closes once");
    this.items = this.count;
    this.sequence = sequence;
    this.state = "ready";
  }

  /** Serialise the payload once; it is dropped afterwards. */
  encode(writerId: bigint): void {
    assert(this.state === "ready" && this.payload !== undefined, "a batch is encoded once, after closing");
    this.bytes = this.payload.encode(writerId, this.sequence);
    this.payload = undefined;
  }

  /**
   * Move a closed, unsettled batch (not in flight) to another bucket with `sequence` there (-1:
   * not idempotent); encoded bytes are re-stamped with it.
   */
  retarget(target: BucketTarget, sequence: number): void {
    assert(this.state === "ready", "only a closed batch waiting to be sent moves");
    this.target = target;
    if (this.bytes && sequence !== this.sequence) this.bytes = this.resequence(this.bytes, sequence);
    this.sequence = sequence;
  }

  succeed(baseOffset: bigint): void {
    if (this.settled) return;
    this.settled = true;
    this.baseOffset = baseOffset;
    this.state = "done";
    this.bytes = undefined;
    this.payload = undefined;
    this.resolveFn();
  }

  fail(err: FlussError): void {
    if (this.settled) return;
    this.settled = true;
    this.state = "failed";
    this.bytes = undefined;
    this.payload = undefined;
    this.rejectFn(err);
  }
}
