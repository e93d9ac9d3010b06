// Reads batches of a log segment that lives only in remote storage, with bounded memory: the
// segment's offset index (fetched whole, small: one entry per index interval, kept in a bounded
// process-wide LRU) gives the byte position of the batch holding the start offset; from there the
// segment is read in ranged gets of at most `chunkBytes` (a batch larger than a chunk is read on
// its own), never the whole segment. Every batch that is handed on is checked first — whole
// length, contiguous offsets, CRC-32C — as local reads check theirs, so corrupt bytes never leave
// (CORRUPT_RECORD_EXCEPTION naming the remote object, byte and offset). A visitor (projection,
// filter) decides per batch what to return, exactly as for local segments (log-segment.ts).
// Memory: `remoteReadStats()` counts the chunk bytes held at once (and the peak): a read holds one
// chunk plus its output (bounded by the fetch size), whatever the segment size.

import {
  assert,
  type BatchHeader,
  computeBatchCrc,
  Errors,
  FlussError,
  isFlussError,
  nextOffsetOf,
  peekBatchSize,
  readBatchHeader,
} from "@fluss-ts/common";
import type { RemoteStorage } from "../remote/remote-storage.ts";
import { batchBytesMin, offsetIndexEntryBytes } from "./constants.ts";
import type { BatchVisitor, ReadAllocator, VisitedRead } from "./log-segment.ts";
import type { RemoteLogSegment } from "./remote-log-manifest.ts";

/** Largest ranged get of segment bytes (a batch larger than this is read alone). */
export const REMOTE_READ_CHUNK_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Smallest ranged get (a few batches), so small fetches do not turn into many tiny requests. */
const REMOTE_READ_CHUNK_BYTES_MIN = 64 * 1024;
/** Offset indexes kept in memory at once, all tablets together. */
export const REMOTE_INDEX_CACHE_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Ranged gets one read makes at most (a bound on the loop; budgets end it far sooner). */
const CHUNKS_PER_READ_MAX = 1_000_000;

const counters = { bytesBuffered: 0, bytesBufferedPeak: 0, gets: 0, bytesFetched: 0 };

export interface RemoteReadStats {
  /** Segment bytes fetched and held by remote reads right now. */
  readonly bytesBuffered: number;
  /** The most ever held at once (resettable for tests). */
  readonly bytesBufferedPeak: number;
  readonly gets: number;
  readonly bytesFetched: number;
}

export function remoteReadStats(): RemoteReadStats {
  return { ...counters };
}

export function resetRemoteReadPeak(): void {
  counters.bytesBufferedPeak = counters.bytesBuffered;
}

/** A bounded LRU of remote offset indexes (bytes), keyed by storage and object key. */
class IndexCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  bytesMax = REMOTE_INDEX_CACHE_BYTES_DEFAULT;

  get(key: string): Uint8Array | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: Uint8Array): void {
    this.delete(key);
    if (value.byteLength > this.bytesMax) return;
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.bytesMax) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  delete(key: string): void {
    const v = this.entries.get(key);
    if (v === undefined) return;
    this.entries.delete(key);
    this.bytes -= v.byteLength;
  }
}

export const remoteIndexCache = new IndexCache();

export interface RemoteSegmentKeys {
  readonly log: string;
  readonly offsetIndex: string;
  readonly timeIndex: string;
}

function corruptAt(where: string, position: number, offset: bigint, problem: string): FlussError {
  return new FlussError(
    Errors.CORRUPT_RECORD_EXCEPTION,
    `${where}: record batch at byte ${position} (offset ${offset}) ${problem}`,
  );
}

/** Binary search: byte position of the last index entry at or below `offset` (0 when none). */
function floorPosition(index: Uint8Array, baseOffset: bigint, offset: bigint): number {
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const entries = Math.floor(index.byteLength / offsetIndexEntryBytes);
  let lo = 0;
  let hi = entries - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = mid * offsetIndexEntryBytes;
    const entryOffset = baseOffset + BigInt(view.getUint32(at, true));
    if (entryOffset <= offset) {
      found = view.getUint32(at + 4, true);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export interface RemoteVisitLimits {
  readonly examineBytesMax: number;
  readonly prefixBytes: number;
  readonly chunkBytes: number;
}

/** One remote segment's reader. Stateless between calls except for the shared index cache. */
export class RemoteSegmentReader {
  private readonly storage: RemoteStorage;
  readonly segment: RemoteLogSegment;
  readonly keys: RemoteSegmentKeys;
  private readonly where: string;

  constructor(storage: RemoteStorage, segment: RemoteLogSegment, keys: RemoteSegmentKeys) {
    this.storage = storage;
    this.segment = segment;
    this.keys = keys;
    this.where = `${storage.description}/${keys.log}`;
  }

  private cacheKey(key: string): string {
    return `${this.storage.description}\u0000${key}`;
  }

  /** The segment's offset index, from the cache or fetched whole (it is small). */
  private async offsetIndex(): Promise<Uint8Array> {
    const k = this.cacheKey(this.keys.offsetIndex);
    const cached = remoteIndexCache.get(k);
    if (cached) return cached;
    const bytes = (await this.storage.get(this.keys.offsetIndex)) ?? new Uint8Array(0); // no index: scan from 0
    remoteIndexCache.set(k, bytes);
    return bytes;
  }

  forgetIndexes(): void {
    remoteIndexCache.delete(this.cacheKey(this.keys.offsetIndex));
  }

  /** Ranged get of segment bytes, counted as buffered until `release`. */
  private async fetch(position: number, length: number): Promise<Uint8Array> {
    const bytes = await this.storage.get(this.keys.log, { offset: position, length });
    if (bytes === null) {
      throw new FlussError(Errors.LOG_STORAGE_EXCEPTION, `remote segment ${this.where} is missing`);
    }
    counters.gets++;
    counters.bytesFetched += bytes.byteLength;
    counters.bytesBuffered += bytes.byteLength;
    if (counters.bytesBuffered > counters.bytesBufferedPeak)
      counters.bytesBufferedPeak = counters.bytesBuffered;
    return bytes;
  }

  private release(chunk: Uint8Array): void {
    counters.bytesBuffered -= chunk.byteLength;
    assert(counters.bytesBuffered >= 0, "remote read buffers are released once");
  }

  private header(chunk: Uint8Array, at: number, position: number, expected: bigint): BatchHeader {
    try {
      return readBatchHeader(chunk, at);
    } catch (err) {
      if (!isFlussError(err)) throw err;
      throw corruptAt(this.where, position, expected, `has a malformed header: ${err.message}`);
    }
  }

  /**
   * Batches from the one holding `startOffset` to `visit` (see LogSegment.visitBatches): stops
   * before `maxOffset`, once the output reaches `maxBytes` (after at least one batch), or after
   * `examineBytesMax` bytes of batches.
   */
  async visit(
    startOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    visit: BatchVisitor,
    limits: RemoteVisitLimits,
    allocate: ReadAllocator,
  ): Promise<VisitedRead> {
    const seg = this.segment;
    let position = floorPosition(await this.offsetIndex(), seg.baseOffset, startOffset);
    const parts: Uint8Array[] = [];
    let out = 0;
    let examined = 0;
    let examinedEnd = startOffset;
    let expected: bigint | null = null;
    let stopped = false;
    let nextLength = 0;
    for (let i = 0; i < CHUNKS_PER_READ_MAX && position < seg.sizeBytes && !stopped; i++) {
      const want = Math.max(REMOTE_READ_CHUNK_BYTES_MIN, maxBytes - out + batchBytesMin);
      const length = Math.min(
        seg.sizeBytes - position,
        Math.max(nextLength, Math.min(limits.chunkBytes, want)),
      );
      nextLength = 0;
      const chunk = await this.fetch(position, length);
      let at = 0;
      try {
        if (chunk.byteLength < length) {
          throw corruptAt(this.where, position + chunk.byteLength, expected ?? startOffset, "is cut short");
        }
        for (let b = 0; b <= chunk.byteLength / batchBytesMin && at < chunk.byteLength; b++) {
          const size = peekBatchSize(chunk, at);
          if (size < 0 || at + size > chunk.byteLength) break;
          const pos = position + at;
          if (size < batchBytesMin)
            throw corruptAt(this.where, pos, expected ?? startOffset, `is ${size} bytes`);
          const header = this.header(chunk, at, pos, expected ?? startOffset);
          const next = nextOffsetOf(header);
          if (expected !== null && header.baseOffset !== expected) {
            throw corruptAt(this.where, pos, expected, `starts at offset ${header.baseOffset}`);
          }
          expected = next;
          if (next <= startOffset) {
            at += size; // before the start: walked past, not returned
            continue;
          }
          if (next > maxOffset || (out > 0 && out >= maxBytes)) {
            stopped = true;
            break;
          }
          const bytes = chunk.subarray(at, at + size);
          const crc = computeBatchCrc(bytes, header.magic);
          if (crc !== header.crc) {
            throw corruptAt(
              this.where,
              pos,
              header.baseOffset,
              `fails its CRC check (stored ${header.crc}, computed ${crc})`,
            );
          }
          const prefixBytes = Math.min(Math.max(limits.prefixBytes, header.recordsOffset), size);
          const decision = visit({
            header,
            prefix: bytes.subarray(0, prefixBytes),
            read: (from, len) => {
              assert(from >= 0 && len >= 0 && from + len <= size, "a visitor reads inside its batch");
              return bytes.subarray(from, from + len);
            },
          });
          if (decision !== "skip") {
            const copy = copyOut(decision === "whole" ? [bytes] : decision, allocate);
            parts.push(copy);
            out += copy.byteLength;
          }
          at += size;
          examined += size;
          examinedEnd = next;
          if (examined >= limits.examineBytesMax) {
            stopped = true;
            break;
          }
        }
        if (at === 0 && !stopped) {
          // One batch larger than the chunk: read it alone next.
          const size = peekBatchSize(chunk, 0);
          if (size < batchBytesMin || position + size > seg.sizeBytes) {
            throw corruptAt(this.where, position, expected ?? startOffset, "is not a whole record batch");
          }
          nextLength = size;
        }
      } finally {
        this.release(chunk);
      }
      position += at;
    }
    return {
      parts,
      bytes: out,
      examinedEnd,
      examinedBytes: examined,
      reachedEnd: !stopped && position >= seg.sizeBytes,
    };
  }
}

/** The visitor's output for one batch, copied into memory that outlives the chunk. */
function copyOut(parts: readonly Uint8Array[], allocate: ReadAllocator): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = allocate(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
