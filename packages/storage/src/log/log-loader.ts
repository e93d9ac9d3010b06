// Loading a tablet directory (Fluss LogLoader): find the segments, then either trust them (clean
// shutdown marker present and the last segment's tail walks cleanly) or recover: every segment
// from the one holding the recovery point — and always at least the active one — is re-read batch
// by batch (length, contiguous offsets, CRC-32C). The recovered segments are then fdatasync'ed, so
// the whole loaded log counts as flushed.
// Torn tail or corruption: recovery may cut only a torn tail — bad bytes holding offsets at or past
// the recovery point (never fdatasync'ed before the crash) with no valid batch after them; it cuts
// them, deletes the (invalid) segments after them, and reports each cut (file, position, bytes).
// Bad bytes below the recovery point, anywhere in a cleanly shut down log, or followed by valid
// batches are corruption: loading fails with CORRUPT_RECORD_EXCEPTION naming the file, byte position
// and offset, and nothing is truncated or deleted (flushed data is never destroyed to get a log open).
// Also: leftover temp files and index files without a log file are deleted; segments before the
// recovered range keep their indexes, which are validated (and rebuilt if torn) on first use; their
// batches are checked by every read (log-segment.ts).
// Descriptors: opening a segment only stats its files; the segments recovery reads (usually just the
// active one) go through the file cache, so loading a tablet with many segments holds no more
// descriptors than the cache allows.

import fs from "node:fs";
import { isFlussError } from "@fluss-ts/common";
import type { LogConfig } from "./config.ts";
import {
  logFileSuffix,
  offsetIndexFileSuffix,
  segmentsMax,
  tempFileSuffix,
  timeIndexFileSuffix,
} from "./constants.ts";
import type { FileCache } from "./file-cache.ts";
import {
  fsyncDirSync,
  join,
  listDirSync,
  parseOffsetFileName,
  storageError,
  unlinkIfExistsSync,
} from "./file-io.ts";
import { corruptBatch, LogSegment, type RecoveryScan } from "./log-segment.ts";
import { hasCleanShutdownMarker, readCheckpoint } from "./tablet-files.ts";

/** Bytes recovery cut from a torn tail: from `position` to the end of `file` (0: the whole file, deleted). */
export interface TailCut {
  readonly file: string;
  readonly position: number;
  readonly bytes: number;
  readonly reason: string;
}

export interface LoadedLog {
  readonly segments: LogSegment[];
  readonly cleanShutdown: boolean;
  /** Every byte below this offset is durable. */
  readonly recoveryPoint: bigint;
  readonly highWatermark: bigint;
  /** Bytes cut from torn tails (0 after a clean shutdown). */
  readonly truncatedBytes: number;
  /** Each torn tail cut (and each segment after one deleted), for the caller to log. */
  readonly cuts: readonly TailCut[];
}

/** `value` limited to [min, max]. */
export function clampOffset(value: bigint, min: bigint, max: bigint): bigint {
  if (value < min) return min;
  if (value > max) return max;
  return value;
}

/** Index of the last segment with base offset <= `offset` (-1 when none). */
export function floorSegmentIndex(segments: readonly LogSegment[], offset: bigint): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function segmentBaseOffsets(dir: string): bigint[] {
  const names = listDirSync(dir);
  const logs = new Set<bigint>();
  for (const name of names) {
    const base = parseOffsetFileName(name, logFileSuffix);
    if (base !== null) logs.add(base);
    if (logs.size > segmentsMax) throw storageError("load", dir, new Error("too many segments"));
  }
  for (const name of names) {
    if (name.endsWith(tempFileSuffix)) unlinkIfExistsSync(join(dir, name));
    const base =
      parseOffsetFileName(name, offsetIndexFileSuffix) ?? parseOffsetFileName(name, timeIndexFileSuffix);
    if (base !== null && !logs.has(base)) unlinkIfExistsSync(join(dir, name));
  }
  return [...logs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Recover segments from index `first` on. `flushedBelow` is the recovery point (null when the log
 * was shut down cleanly: everything is flushed). Cuts torn tails and returns the cuts; throws
 * CORRUPT_RECORD_EXCEPTION, having changed no log byte, when bad bytes are not a torn tail.
 */
function recoverFrom(segments: LogSegment[], first: number, flushedBelow: bigint | null): TailCut[] {
  const cuts: TailCut[] = [];
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i];
    const scan = segment.scanForRecovery();
    const successor = segments[i + 1];
    const gap =
      scan.problem === null && successor !== undefined && segment.nextOffset !== successor.baseOffset;
    if (scan.problem === null && !gap) {
      segment.flushSync();
      continue;
    }
    // Bad bytes at the end of this segment, or a hole before the next one: a tail only if nothing
    // below the recovery point is affected and no valid data follows.
    const laterValid = segments.slice(i + 1).some((s) => s.startsWithValidBatch());
    const why = notATail(scan, flushedBelow, laterValid);
    if (why !== null) {
      if (scan.problem !== null)
        throw corruptBatch(segment.logPath, scan.validBytes, scan.nextOffset, `${scan.problem}; ${why}`);
      throw corruptBatch(
        successor!.logPath,
        0,
        segment.nextOffset,
        `is missing: ${segment.logPath} ends at offset ${segment.nextOffset} but the next segment starts at ${successor!.baseOffset}; ${why}`,
      );
    }
    if (scan.problem !== null) {
      const bytes = segment.cutTail(scan.validBytes);
      cuts.push({
        file: segment.logPath,
        position: scan.validBytes,
        bytes,
        reason: `torn tail: record batch ${scan.problem}`,
      });
    }
    segment.flushSync();
    for (const later of segments.splice(i + 1)) {
      cuts.push({
        file: later.logPath,
        position: 0,
        bytes: later.sizeBytes,
        reason: "segment after a torn tail",
      });
      later.delete();
    }
    break;
  }
  return cuts;
}

/** Why bad bytes found by `scan` cannot be a torn tail, or null when they can. */
function notATail(scan: RecoveryScan, flushedBelow: bigint | null, laterValid: boolean): string | null {
  const what = "nothing was truncated or deleted";
  if (flushedBelow === null) return `the log was shut down cleanly, so every byte of it was flushed; ${what}`;
  if (scan.nextOffset < flushedBelow) {
    return `it holds offsets below the recovery point ${flushedBelow}, flushed before the crash; ${what}`;
  }
  if (scan.validDataAfter || laterValid)
    return `valid record batches follow it, so it is not a torn tail; ${what}`;
  return null;
}

export function loadLog(dir: string, config: LogConfig, files: FileCache): LoadedLog {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw storageError("create", dir, err);
  }
  const cleanShutdown = hasCleanShutdownMarker(dir);
  const checkpoint = readCheckpoint(dir);
  const options = {
    indexIntervalBytes: config.indexIntervalBytes,
    indexBytesMax: config.indexBytesMax,
    files,
  };
  const segments: LogSegment[] = [];
  try {
    for (const base of segmentBaseOffsets(dir)) segments.push(LogSegment.open(dir, base, options));
    if (segments.length === 0) {
      segments.push(LogSegment.create(dir, 0n, options));
      fsyncDirSync(dir);
    }
    return recover(dir, segments, cleanShutdown, checkpoint?.recoveryPoint ?? 0n, checkpoint?.highWatermark);
  } catch (err) {
    for (const s of segments) s.close();
    throw err;
  }
}

function recover(
  dir: string,
  segments: LogSegment[],
  cleanShutdown: boolean,
  recoveryPoint: bigint,
  highWatermark: bigint | undefined,
): LoadedLog {
  for (let i = 0; i + 1 < segments.length; i++) segments[i].assumeNextOffset(segments[i + 1].baseOffset);
  const last = segments.length - 1;
  let cuts: TailCut[] = [];
  if (cleanShutdown && tailWalks(segments[last])) {
    // Trusted: the tail walked cleanly and everything was flushed before the marker was written.
  } else {
    // After a clean shutdown only the last segment is re-read, and nothing in it may be cut.
    const from = cleanShutdown ? segments[last].baseOffset : recoveryPoint;
    const first = Math.min(Math.max(floorSegmentIndex(segments, from), 0), last);
    cuts = recoverFrom(segments, first, cleanShutdown ? null : recoveryPoint);
    fsyncDirSync(dir);
  }
  const end = segments[segments.length - 1].nextOffset;
  const start = segments[0].baseOffset;
  return {
    segments,
    cleanShutdown,
    recoveryPoint: end,
    highWatermark: clampOffset(highWatermark ?? start, start, end),
    truncatedBytes: cuts.reduce((n, c) => n + c.bytes, 0),
    cuts,
  };
}

/** True when the segment's tail walks to the end of its file (a failed index check counts as no). */
function tailWalks(segment: LogSegment): boolean {
  try {
    return segment.loadTail();
  } catch (err) {
    if (isFlussError(err)) return false;
    throw err;
  }
}
