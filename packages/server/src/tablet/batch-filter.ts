// Server-side filter pushdown: drop whole log batches whose statistics prove that no row can match
// the reader's predicate, without decoding them. Batches without statistics (older magic, or
// statistics turned off) are always kept; the client filters the rows of what it receives, so the
// result is exact either way.

import {
  type BatchSlice,
  mayMatch,
  nextOffsetOf,
  type Predicate,
  readBatchStatistics,
  type Schema,
  splitBatches,
} from "@fluss-ts/common";

export interface FilteredRecords {
  /** The kept batches, concatenated (views of the input when nothing was dropped). */
  records: Uint8Array;
  /** The offset after the last batch examined; the reader may continue from there. */
  examinedEnd: bigint | null;
  /** Batches dropped. */
  skipped: number;
}

function concat(slices: readonly BatchSlice[]): Uint8Array {
  let size = 0;
  for (const s of slices) size += s.bytes.byteLength;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const s of slices) {
    out.set(s.bytes, pos);
    pos += s.bytes.byteLength;
  }
  return out;
}

export function skipByStatistics(records: Uint8Array, schema: Schema, predicate: Predicate): FilteredRecords {
  const slices = splitBatches(records, { verifyCrc: false, allowPartialTail: true });
  const kept: BatchSlice[] = [];
  let examinedEnd: bigint | null = null;
  for (const s of slices) {
    examinedEnd = nextOffsetOf(s.header);
    let keep = true;
    try {
      const stats = readBatchStatistics(s.bytes, schema);
      keep = stats === null || mayMatch(predicate, stats, s.header.recordCount);
    } catch {
      keep = true; // unreadable statistics never hide data
    }
    if (keep) kept.push(s);
  }
  const skipped = slices.length - kept.length;
  return { records: skipped === 0 ? records : concat(kept), examinedEnd, skipped };
}
