// Loading a tablet directory (Fluss LogLoader): find the segments, then either trust them (clean
// shutdown marker present: only the last segment's tail is walked) or recover: every segment from
// the one holding the recovery point — and always at least the active one — is re-read batch by
// batch (length, contiguous offsets, CRC-32C); at the first bad batch the file is cut there, later
// segments are deleted, and the indexes are rebuilt. The recovered segments are then fdatasync'ed,
// so the whole loaded log counts as flushed.
// Also: leftover temp files and index files without a log file are deleted; segments before the
// recovered range keep their indexes, which are validated (and rebuilt if torn) on first use.

import fs from "node:fs";
import type { LogConfig } from "./config.ts";
import {
  logFileSuffix,
  offsetIndexFileSuffix,
  segmentsMax,
  tempFileSuffix,
  timeIndexFileSuffix,
} from "./constants.ts";
import {
  fsyncDirSync,
  join,
  listDirSync,
  parseOffsetFileName,
  storageError,
  unlinkIfExistsSync,
} from "./file-io.ts";
import { LogSegment } from "./log-segment.ts";
import { hasCleanShutdownMarker, readCheckpoint } from "./tablet-files.ts";

export interface LoadedLog {
  readonly segments: LogSegment[];
  readonly cleanShutdown: boolean;
  /** Every byte below this offset is durable. */
  readonly recoveryPoint: bigint;
  readonly highWatermark: bigint;
  /** Bytes cut from torn or corrupt tails (0 after a clean shutdown). */
  readonly truncatedBytes: number;
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

/** Recover segments from index `first` on; returns the bytes cut. Deletes segments after a cut. */
function recoverFrom(segments: LogSegment[], first: number): number {
  let cut = 0;
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i];
    cut += segment.recover();
    segment.flushSync();
    const successor = segments[i + 1];
    if (successor !== undefined && (cut > 0 || segment.nextOffset !== successor.baseOffset)) {
      for (const later of segments.splice(i + 1)) later.delete();
      break;
    }
  }
  return cut;
}

export function loadLog(dir: string, config: LogConfig): LoadedLog {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw storageError("create", dir, err);
  }
  const cleanShutdown = hasCleanShutdownMarker(dir);
  const checkpoint = readCheckpoint(dir);
  const options = { indexIntervalBytes: config.indexIntervalBytes, indexBytesMax: config.indexBytesMax };
  const segments = segmentBaseOffsets(dir).map((base) => LogSegment.open(dir, base, options));
  for (let i = 0; i + 1 < segments.length; i++) segments[i].assumeNextOffset(segments[i + 1].baseOffset);
  if (segments.length === 0) {
    segments.push(LogSegment.create(dir, 0n, options));
    fsyncDirSync(dir);
  }
  const last = segments.length - 1;
  let truncatedBytes = 0;
  if (cleanShutdown && segments[last].loadTail()) {
    // Trusted: the tail walked cleanly and everything was flushed before the marker was written.
  } else {
    const recoveryPoint = cleanShutdown ? segments[last].baseOffset : (checkpoint?.recoveryPoint ?? 0n);
    const first = Math.min(Math.max(floorSegmentIndex(segments, recoveryPoint), 0), last);
    truncatedBytes = recoverFrom(segments, first);
    fsyncDirSync(dir);
  }
  const end = segments[segments.length - 1].nextOffset;
  const start = segments[0].baseOffset;
  const hw = checkpoint?.highWatermark ?? start;
  return {
    segments,
    cleanShutdown,
    recoveryPoint: end,
    highWatermark: clampOffset(hw, start, end),
    truncatedBytes,
  };
}
