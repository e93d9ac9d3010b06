// The writes of one asynchronous KV commit, sealed (kv-checksum.ts) into ONE buffer: per write its
// key (the caller's bytes, not copied) and the bounds of its sealed value (value ‖ CRC-32C(key ‖
// value)) in `bytes`, or a delete. No object per write: a flush of 20k rows makes three arrays.
// lmdb-js takes a value as a buffer with `start`/`end` fields (it records the address of
// bytes.buffer + start and the length end - start when the put is queued, and reads neither
// again), so putBatch hands lmdb the same buffer for every value, its bounds moved before each
// put, instead of a view per value.
// Invariants: `bytes` starts at offset 0 of its own ArrayBuffer (lmdb-js adds `start` to the
// address of the ArrayBuffer); bounds[2i] is -1 for a delete, else bounds[2i] < bounds[2i + 1]
// <= bytes.length and the sealed values lie back to back in write order; nothing writes `bytes`
// after sealBatch returns (lmdb's write thread reads it, and a retried commit reads it again).

import { assert } from "@fluss-ts/common";
import { CHECKSUM_BYTES, sealInto } from "./kv-checksum.ts";

/** A buffer whose `start`/`end` tell lmdb-js which bytes to store. */
export interface RangedBytes extends Uint8Array {
  start: number;
  end: number;
}

export interface SealedBatch {
  readonly keys: readonly Uint8Array[];
  /** Per write i: bounds[2i], bounds[2i + 1] of its sealed value in `bytes`; bounds[2i] = -1 deletes. */
  readonly bounds: Int32Array;
  readonly bytes: RangedBytes;
}

/** A write to seal: null deletes the key. */
export interface PlainWrite {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/** `writes` sealed into one new buffer, in their order. */
export function sealBatch(writes: readonly PlainWrite[]): SealedBatch {
  const n = writes.length;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const value = writes[i]!.value;
    if (value !== null) size += value.byteLength + CHECKSUM_BYTES;
  }
  const bytes = Object.assign(new Uint8Array(size), { start: 0, end: 0 });
  assert(bytes.byteOffset === 0, "a sealed batch owns its buffer from offset 0");
  const keys = new Array<Uint8Array>(n);
  const bounds = new Int32Array(2 * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const w = writes[i]!;
    keys[i] = w.key;
    if (w.value === null) bounds[2 * i] = -1;
    else {
      bounds[2 * i] = at;
      at = sealInto(bytes, at, w.key, w.value);
      bounds[2 * i + 1] = at;
    }
  }
  assert(at === size, "sealed values fill the batch buffer");
  return { keys, bounds, bytes };
}

/** Number of writes in `batch`. */
export function batchSize(batch: SealedBatch): number {
  return batch.keys.length;
}

/** The sealed value of write `i` (a view; for tests and synchronous writes), or null for a delete. */
export function sealedValue(batch: SealedBatch, i: number): Uint8Array | null {
  const start = batch.bounds[2 * i]!;
  return start < 0 ? null : batch.bytes.subarray(start, batch.bounds[2 * i + 1]!);
}

/**
 * Hand each write of `batch` to `put` (the key and the batch buffer with its bounds set to the
 * value's) or `remove`, in order. `put` must take what it needs from the buffer before returning.
 */
export function putBatch(
  batch: SealedBatch,
  put: (key: Uint8Array, value: RangedBytes) => void,
  remove: (key: Uint8Array) => void,
): void {
  const { keys, bounds, bytes } = batch;
  for (let i = 0; i < keys.length; i++) {
    const start = bounds[2 * i]!;
    if (start < 0) remove(keys[i]!);
    else {
      bytes.start = start;
      bytes.end = bounds[2 * i + 1]!;
      put(keys[i]!, bytes);
    }
  }
}
