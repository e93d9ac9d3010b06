// Checking and planning a follower append (Kafka's appendAsFollower; Fluss LogTablet
// .appendAsFollower): the batches come from the leader already stamped, so they keep the leader's
// offsets, commit timestamps and epochs; nothing is re-stamped and no idempotence check runs (the
// leader already did it; the follower only records writer state). Checks, before any byte is
// written: every batch is whole with a valid CRC-32C (CORRUPT_RECORD_EXCEPTION), the first starts at
// the follower's log end and each next one where the previous ended, and the epoch labels (the
// leader's epoch entries for the fetched range) are well formed and never older than the log's
// latest epoch (CORRUPT_MESSAGE: the follower must truncate before appending). The batches are cut
// into groups that each fit one segment, so a large fetch rolls segments as leader appends do.

import { Errors, FlussError, splitBatches } from "@fluss-ts/common";
import { type EpochEntry, isWellFormed, UNDEFINED_EPOCH } from "./epoch-entries.ts";
import type { SegmentBatch } from "./log-segment.ts";

/** One batch of a follower append, with what the tablet records about it. */
export interface FollowerBatch extends SegmentBatch {
  readonly writerId: bigint;
  readonly batchSequence: number;
  /** The epoch that wrote it (UNDEFINED_EPOCH when the leader's log has none for it). */
  readonly epoch: number;
}

/** Consecutive batches that go to one segment: `bytes` and `batches` positioned within it. */
export interface FollowerGroup {
  readonly bytes: Uint8Array;
  readonly batches: readonly FollowerBatch[];
}

export interface FollowerPlan {
  readonly groups: readonly FollowerGroup[];
  readonly firstOffset: bigint;
  /** Offset after the last batch. */
  readonly endOffset: bigint;
  readonly maxCommitTimestamp: bigint;
}

function refused(message: string): FlussError {
  return new FlussError(Errors.CORRUPT_MESSAGE, `follower append refused: ${message}`);
}

/** The epoch labelling `offset` in `epochs` (sorted): the last entry starting at or before it. */
function epochAt(epochs: readonly EpochEntry[], offset: bigint): number {
  let epoch = UNDEFINED_EPOCH;
  for (const e of epochs) {
    if (e.startOffset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}

/**
 * Check the leader's `batches` against a log ending at `logEndOffset` whose latest epoch is
 * `latestEpoch`, and plan them into segment-sized groups of at most `segmentBytesMax` bytes.
 */
export function planFollowerAppend(
  batches: Uint8Array,
  epochs: readonly EpochEntry[],
  log: { readonly logEndOffset: bigint; readonly latestEpoch: number; readonly segmentBytesMax: number },
): FollowerPlan {
  if (!isWellFormed(epochs)) throw refused("the leader epoch entries do not strictly increase");
  const slices = splitBatches(batches, { verifyCrc: true, allowPartialTail: false });
  const groups: FollowerGroup[] = [];
  let current: FollowerBatch[] = [];
  let groupStart = 0;
  let groupBytes = 0;
  let next = log.logEndOffset;
  let maxTs = -1n;
  for (const s of slices) {
    const h = s.header;
    if (h.baseOffset !== next) {
      throw refused(`a batch starts at offset ${h.baseOffset} where ${next} was expected`);
    }
    if (h.sizeBytes > log.segmentBytesMax) {
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `a batch of ${h.sizeBytes} bytes exceeds the segment size ${log.segmentBytesMax}`,
      );
    }
    const epoch = epochAt(epochs, h.baseOffset);
    if (epoch !== UNDEFINED_EPOCH && epoch < log.latestEpoch) {
      throw refused(`a batch of epoch ${epoch} follows epoch ${log.latestEpoch}: truncate first`);
    }
    const position = s.bytes.byteOffset - batches.byteOffset;
    if (groupBytes + h.sizeBytes > log.segmentBytesMax && current.length > 0) {
      groups.push({ bytes: batches.subarray(groupStart, position), batches: current });
      current = [];
      groupStart = position;
      groupBytes = 0;
    }
    const nextOffset = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
    current.push({
      position: position - groupStart,
      sizeBytes: h.sizeBytes,
      baseOffset: h.baseOffset,
      nextOffset,
      commitTimestamp: h.commitTimestamp,
      writerId: h.writerId,
      batchSequence: h.batchSequence,
      epoch,
    });
    groupBytes += h.sizeBytes;
    if (h.commitTimestamp > maxTs) maxTs = h.commitTimestamp;
    next = nextOffset;
  }
  if (current.length > 0) groups.push({ bytes: batches.subarray(groupStart), batches: current });
  return { groups, firstOffset: log.logEndOffset, endOffset: next, maxCommitTimestamp: maxTs };
}
