// Rebuilding idempotent-writer state after open or truncation (Fluss LogTablet.rebuildWriterState):
// load the newest readable writer snapshot at or below the target offset (deleting snapshots above
// it, which describe a log that no longer exists, and unreadable ones), then replay the batch
// headers of the log from the snapshot's offset up to the target. Snapshots are taken at every
// roll and at close, so the replay normally covers at most the active segment.

import { NO_WRITER_ID } from "@fluss-ts/common";
import { floorSegmentIndex } from "./log-loader.ts";
import type { LogSegment } from "./log-segment.ts";
import { deleteWriterSnapshot, listWriterSnapshots, readWriterSnapshot } from "./tablet-files.ts";
import type { WriterStateManager } from "./writer-state.ts";

export interface WriterRecovery {
  readonly dir: string;
  readonly segments: readonly LogSegment[];
  readonly writers: WriterStateManager;
  /** Rebuild the state as of this offset (exclusive). */
  readonly upTo: bigint;
  readonly nowMs: number;
  readonly expirationMs: number;
}

function loadSnapshot(dir: string, writers: WriterStateManager, offset: bigint): boolean {
  try {
    const bytes = readWriterSnapshot(dir, offset);
    if (bytes !== null && writers.loadSnapshot(bytes) === offset) return true;
  } catch {
    // Unreadable: fall back to an older snapshot (and a longer log replay).
  }
  writers.clear();
  deleteWriterSnapshot(dir, offset);
  return false;
}

export function rebuildWriterState(r: WriterRecovery): void {
  const { dir, segments, writers, upTo } = r;
  const snapshots = listWriterSnapshots(dir);
  let from = segments[0].baseOffset;
  writers.clear();
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const offset = snapshots[i];
    if (offset > upTo) {
      deleteWriterSnapshot(dir, offset);
    } else if (loadSnapshot(dir, writers, offset)) {
      if (offset > from) from = offset;
      break;
    }
  }
  const first = Math.max(floorSegmentIndex(segments, from), 0);
  for (let i = first; i < segments.length && segments[i].baseOffset < upTo; i++) {
    segments[i].forEachBatch(from, upTo, (h) => {
      if (h.writerId === NO_WRITER_ID) return;
      writers.record(h.writerId, {
        batchSequence: h.batchSequence,
        firstOffset: h.baseOffset,
        lastOffset: h.baseOffset + BigInt(h.lastOffsetDelta),
        timestampMs: Number(h.commitTimestamp),
      });
    });
  }
  writers.removeExpired(r.nowMs, r.expirationMs);
}
