// One tiering round of a bucket's log (Fluss LogTieringTask.runOnce, storage side), run by the
// tablet's `tierToRemote` one round at a time:
//  1. once per run, adopt a newer remote manifest and delete orphaned remote files;
//  2. copy the oldest closed local segments not yet remote (whole segments below the high
//     watermark, at most `uploadSegmentsMax`), each under a fresh id;
//  3. drop remote segments older than the table's TTL;
//  4. commit the new manifest (remote, then the local copy) — the only step that changes what
//     readers see; a failure before it changes nothing but leaves orphans for step 1 of a later run;
//  5. delete remote files the manifest no longer names, and local segments already remote beyond
//     the newest `localSegmentsRetained` (the active segment counts, as in Fluss).
// A failed upload is retried at the next round: the local segment is deleted only after a commit
// that names its remote copy.

import type { LogSegment } from "./log-segment.ts";
import { nextManifest, type RemoteLog } from "./remote-log.ts";
import type { RemoteLogSegment } from "./remote-log-manifest.ts";

export interface TierOptions {
  /** `table.log.tiered.local-segments`: local segments kept once copied (>= 1). */
  readonly localSegmentsRetained: number;
  /** `remote.log.task-max-upload-segments`: segments copied per round at most. */
  readonly uploadSegmentsMax: number;
  /** `table.log.ttl`: remote segments whose newest batch is older are deleted (<= 0: never). */
  readonly ttlMs: number;
}

export interface TierResult {
  readonly copiedSegments: number;
  readonly copiedBytes: number;
  readonly expiredRemoteSegments: number;
  readonly deletedLocalSegments: number;
  readonly orphansDeleted: number;
  /** The remote log after the round ([start, end) offsets; null when empty). */
  readonly remoteStartOffset: bigint | null;
  readonly remoteEndOffset: bigint | null;
}

/** What a round needs of the tablet. */
export interface TieringView {
  /** The tablet's segments, oldest first (the last is active). */
  readonly segments: readonly LogSegment[];
  readonly highWatermark: bigint;
  readonly nowMs: bigint;
  /** Delete the oldest `count` local segments (they are remote); returns how many were deleted. */
  deleteOldestLocal(count: number): number;
}

/** Closed segments to copy: below the high watermark, after the remote end, oldest first. */
function candidates(
  view: TieringView,
  remote: RemoteLog,
  max: number,
): Array<{ segment: LogSegment; end: bigint }> {
  const out: Array<{ segment: LogSegment; end: bigint }> = [];
  const remoteEnd = remote.endOffset;
  const segs = view.segments;
  for (let i = 0; i + 1 < segs.length && out.length < max; i++) {
    const segment = segs[i]!;
    const end = segs[i + 1]!.baseOffset;
    if (end > view.highWatermark) break;
    if (end <= segment.baseOffset) continue; // an empty segment holds nothing to copy
    if (remoteEnd !== null && segment.baseOffset < remoteEnd) continue; // already remote
    out.push({ segment, end });
  }
  return out;
}

export async function tierOnce(
  view: () => TieringView,
  remote: RemoteLog,
  o: TierOptions,
): Promise<TierResult> {
  const sync = await remote.syncWithRemote();
  const copied: RemoteLogSegment[] = [];
  for (const c of candidates(view(), remote, o.uploadSegmentsMax)) {
    // Stop at a segment that is gone (local retention ran meanwhile): the next round starts over.
    if (!c.segment.isOpen) break;
    copied.push(await remote.upload(c.segment, c.end));
  }
  const expired = remote.expired(view().nowMs, o.ttlMs);
  let unreferenced: RemoteLogSegment[] = [];
  if (copied.length > 0 || expired.length > 0) {
    const next = nextManifest({ version: remote.version, segments: remote.segments }, expired, copied);
    await remote.commit(next.manifest);
    unreferenced = next.unreferenced;
  }
  await remote.deleteFiles(unreferenced);
  const deletedLocal = deleteTieredLocal(view(), remote, o.localSegmentsRetained);
  let copiedBytes = 0;
  for (const s of copied) copiedBytes += s.sizeBytes;
  return {
    copiedSegments: copied.length,
    copiedBytes,
    expiredRemoteSegments: expired.length,
    deletedLocalSegments: deletedLocal,
    orphansDeleted: sync.orphansDeleted,
    remoteStartOffset: remote.startOffset,
    remoteEndOffset: remote.endOffset,
  };
}

/** Delete local segments whose data is remote, keeping the newest `retained` (Fluss's rule). */
function deleteTieredLocal(view: TieringView, remote: RemoteLog, retained: number): number {
  const remoteStart = remote.startOffset;
  const remoteEnd = remote.endOffset;
  if (remoteStart === null || remoteEnd === null) return 0;
  const segs = view.segments;
  let count = 0;
  for (let i = 0; i < segs.length - Math.max(retained, 1); i++) {
    // Only a segment wholly inside the remote log goes.
    if (segs[i]!.baseOffset < remoteStart || segs[i + 1]!.baseOffset > remoteEnd) break;
    count++;
  }
  return count === 0 ? 0 : view.deleteOldestLocal(count);
}
