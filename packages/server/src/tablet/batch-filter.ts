// Server-side filter pushdown: skip whole log batches whose statistics prove that no row can match
// the reader's predicate, without reading their bodies (the log walks headers and statistics).
// Batches without statistics (older magic, or statistics turned off) are always kept; the client
// filters the rows of what it receives, so the result is exact either way.

import {
  type BatchHeader,
  mayMatch,
  type Predicate,
  readBatchStatistics,
  type Schema,
} from "@fluss-ts/common";

/**
 * A selector for filtered reads: keep a batch unless its statistics prove that no row can match.
 * `prefix` holds the batch's header and statistics. Batches whose statistics cannot be read are
 * kept too: statistics never hide data.
 */
export function batchSelector(
  schema: Schema,
  predicate: Predicate,
): (prefix: Uint8Array, header: BatchHeader) => boolean {
  return (prefix, header) => {
    if (header.statisticsLength === 0) return true;
    try {
      const stats = readBatchStatistics(prefix, schema);
      return stats === null || mayMatch(predicate, stats, header.recordCount);
    } catch {
      return true;
    }
  };
}
