// The read walks of a log tablet, over its remote segments (when the offset is below every local
// one) and then its local segments: whole batches (`readWhole`) and visited reads (`readVisited`),
// where a visitor decides per batch what to return (projections, filters). The tablet checks the
// fetch offset and the read limit first (log-tablet.ts); these walks only move through segments,
// at most `segmentsMax` of them, and hand the bytes back in memory from `allocate`.

import { segmentsMax } from "./constants.ts";
import { floorSegmentIndex } from "./log-loader.ts";
import type { BatchVisitor, LogSegment, ReadAllocator } from "./log-segment.ts";
import type { RemoteLog } from "./remote-log.ts";

/** What a read walks: the local segments, and the remote log for offsets it serves. */
export interface ReadSource {
  readonly segments: readonly LogSegment[];
  /** The remote log when `offset` is served from remote storage (below every local segment). */
  remoteFor(offset: bigint): RemoteLog | null;
}

export interface VisitLimits {
  readonly examineBytesMax: number;
  readonly prefixBytes: number;
}

export interface VisitedParts {
  readonly parts: Uint8Array[];
  readonly bytes: number;
  readonly examinedEnd: bigint;
}

const emptyRecords = new Uint8Array(0);

/**
 * Whole batches from the one holding `fetchOffset`, ending before `end`, within `maxBytes` (at
 * least one batch when one is available), as one buffer.
 */
export async function readWhole(
  source: ReadSource,
  fetchOffset: bigint,
  maxBytes: number,
  end: bigint,
  allocate: ReadAllocator,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let offset = fetchOffset;
  let budget = maxBytes;
  const remote = source.remoteFor(offset);
  if (remote !== null) {
    const limits = { examineBytesMax: Number.MAX_SAFE_INTEGER, prefixBytes: 0 };
    const r = await remote.visit(offset, maxBytes, end, () => "whole", limits, allocate);
    chunks.push(...r.parts);
    budget -= r.bytes;
    offset = r.examinedEnd;
    if (!r.reachedEnd || budget <= 0) offset = end; // done: nothing more from local segments
  }
  const segments = source.segments;
  for (let i = 0; i < segmentsMax && offset < end; i++) {
    const index = floorSegmentIndex(segments, offset);
    if (index < 0) break;
    const r = await segments[index].read(offset, budget, end, chunks.length === 0, allocate);
    if (r === null) break;
    if (r.bytes.byteLength > 0) chunks.push(r.bytes);
    budget -= r.bytes.byteLength;
    offset = r.nextOffset;
    if (!r.reachedEnd || budget <= 0) break;
  }
  return joinChunks(chunks, allocate);
}

/**
 * Batches from `fetchOffset` handed to `visit`, which returns their output; at most
 * `limits.examineBytesMax` bytes of batches are examined; `examinedEnd` says where the walk stopped.
 */
export async function readVisited(
  source: ReadSource,
  fetchOffset: bigint,
  maxBytes: number,
  end: bigint,
  visit: BatchVisitor,
  limits: VisitLimits,
  allocate: ReadAllocator,
): Promise<VisitedParts> {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  let offset = fetchOffset;
  let examineBudget = limits.examineBytesMax;
  const remote = source.remoteFor(offset);
  if (remote !== null) {
    const r = await remote.visit(offset, maxBytes, end, visit, limits, allocate);
    parts.push(...r.parts);
    bytes = r.bytes;
    examineBudget -= r.examinedBytes;
    offset = r.examinedEnd;
    if (!r.reachedEnd || bytes >= maxBytes) return { parts, bytes, examinedEnd: offset };
  }
  const segments = source.segments;
  for (let i = 0; i < segmentsMax && offset < end && examineBudget > 0; i++) {
    const index = floorSegmentIndex(segments, offset);
    if (index < 0) break;
    const r = segments[index].visitBatches(
      offset,
      maxBytes - bytes,
      end,
      visit,
      { examineBytesMax: examineBudget, prefixBytes: limits.prefixBytes },
      allocate,
    );
    if (r === null) break;
    parts.push(...r.parts);
    bytes += r.bytes;
    examineBudget -= r.examinedBytes;
    offset = r.examinedEnd;
    if (!r.reachedEnd || bytes >= maxBytes) break;
  }
  return { parts, bytes, examinedEnd: offset };
}

/** One buffer holding the chunks of a read that crossed segments (allocated like the reads). */
export function joinChunks(chunks: readonly Uint8Array[], allocate: ReadAllocator): Uint8Array {
  if (chunks.length === 0) return emptyRecords;
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = allocate(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
