// New batch sequences for already serialised batches. A batch re-targeted to another bucket (its
// partition was dropped and re-created under a new id) starts over in the new bucket's sequence
// space, but its bytes were built once, with the old sequence: these functions return a copy with
// the sequence replaced and the CRC (which covers it) recomputed. The writer id, records and every
// other byte stay as they were; the input is not changed (a request may still hold it).

import { computeBatchCrc, computeKvBatchCrc, layoutOf, readBatchHeader } from "@fluss-ts/common";

/** Fluss's KV record batch (magic 0): BatchSequence i32 at 20, CRC u32 at 5 (see kv-record-batch.ts). */
const KV_OFF_CRC = 5;
const KV_OFF_BATCH_SEQUENCE = 20;

/** A copy of a log record batch (any magic) with batch sequence `sequence`. */
export function resequenceLogBatch(bytes: Uint8Array, sequence: number): Uint8Array {
  const h = readBatchHeader(bytes);
  const layout = layoutOf(h.magic);
  const out = Uint8Array.from(bytes);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setInt32(layout.batchSequence, sequence, true);
  dv.setUint32(layout.crc, computeBatchCrc(out.subarray(0, h.sizeBytes), h.magic), true);
  return out;
}

/** A copy of a KV record batch with batch sequence `sequence`. */
export function resequenceKvBatch(bytes: Uint8Array, sequence: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setInt32(KV_OFF_BATCH_SEQUENCE, sequence, true);
  dv.setUint32(KV_OFF_CRC, computeKvBatchCrc(out), true);
  return out;
}
