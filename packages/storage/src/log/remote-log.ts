// The remote part of one bucket's log (Fluss RemoteLogTablet + LogTieringTask, storage side):
// closed segments copied to remote storage, the manifest that commits them, reads of remote-only
// offsets, and expiry of remote segments. The LogTablet owns one when remote tiering is on and
// drives it (log-tablet.ts: tierToRemote, read, readVisited, offsetForTimestamp).
// Layout under the bucket's key prefix:
//   <prefix>manifest.json                     the committed manifest (remote-log-manifest.ts)
//   <prefix><segment id>/<base offset>.log     a segment's batches, byte for byte as on disk
//   <prefix><segment id>/<base offset>.index / .timeindex   its offset and time indexes
// Commit protocol: upload a segment's files under a fresh id, then put the new manifest (atomic),
// then write the local copy, then (caller) delete local segments and remote files no manifest
// names. A crash at any step leaves the previous manifest in force, with every offset it names
// readable; files of uncommitted uploads are orphans, deleted by `syncWithRemote` at the first
// round of the next run. The local copy may lag the remote manifest by one commit (a crash
// between the two writes): `syncWithRemote` adopts the newer remote one.
// Concurrency: the tablet runs every mutating call here one at a time (its remote task chain);
// reads run alongside — a read that meets a segment deleted meanwhile (expired) answers
// LOG_OFFSET_OUT_OF_RANGE_EXCEPTION, as a local read of an expired offset does.

import { randomBytes } from "node:crypto";
import { assert, Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { keySegmentOf, type RemoteStorage } from "../remote/remote-storage.ts";
import {
  logFileSuffix,
  offsetIndexFileSuffix,
  timeIndexEntryBytes,
  timeIndexFileSuffix,
} from "./constants.ts";
import { join, offsetFileName, readSmallFileSync, writeFileAtomicSync } from "./file-io.ts";
import type { BatchVisitor, LogSegment, ReadAllocator } from "./log-segment.ts";
import {
  assertManifest,
  decodeRemoteManifest,
  EMPTY_MANIFEST,
  encodeRemoteManifest,
  REMOTE_MANIFEST_BYTES_MAX,
  REMOTE_SEGMENTS_MAX,
  type RemoteLogManifest,
  type RemoteLogSegment,
} from "./remote-log-manifest.ts";
import {
  REMOTE_READ_CHUNK_BYTES_DEFAULT,
  type RemoteSegmentKeys,
  RemoteSegmentReader,
} from "./remote-segment-reader.ts";

/** Where a tablet's remote log lives; given to LogTablet.open when tiering is on. */
export interface RemoteLogOptions {
  readonly storage: RemoteStorage;
  /** This bucket's key prefix, ending with `/` (see `remoteLogPrefix`). */
  readonly prefix: string;
  /** Largest ranged get a remote read makes. */
  readonly readChunkBytes?: number;
}

/** Key prefix of a bucket's remote log: `log/<table id>/<partition or ->/<bucket>/`. */
export function remoteLogPrefix(tableId: bigint, partition: string | null, bucket: number): string {
  return `log/${tableId}/${partition === null ? "-" : keySegmentOf(partition)}/${bucket}/`;
}

/** Key prefix of every bucket of a table (or of one partition), for drops. */
export function remoteLogTablePrefix(tableId: bigint, partition?: string | null): string {
  if (partition === undefined) return `log/${tableId}/`;
  return `log/${tableId}/${partition === null ? "-" : keySegmentOf(partition)}/`;
}

export const REMOTE_MANIFEST_LOCAL_FILE = "remote-log-manifest.json";
const MANIFEST_KEY = "manifest.json";

/** What a visited read of remote offsets returns (like LogSegment.visitBatches across segments). */
export interface RemoteVisit {
  readonly parts: Uint8Array[];
  readonly bytes: number;
  readonly examinedEnd: bigint;
  readonly examinedBytes: number;
  /** The walk reached the end of the remote log (the caller may go on locally). */
  readonly reachedEnd: boolean;
}

export class RemoteLog {
  readonly storage: RemoteStorage;
  readonly prefix: string;
  private readonly dir: string;
  private readonly chunkBytes: number;
  private manifest: RemoteLogManifest;
  private synced = false;

  private constructor(dir: string, options: RemoteLogOptions, manifest: RemoteLogManifest) {
    this.dir = dir;
    this.storage = options.storage;
    this.prefix = options.prefix;
    this.chunkBytes = options.readChunkBytes ?? REMOTE_READ_CHUNK_BYTES_DEFAULT;
    this.manifest = manifest;
  }

  /** The remote log of the tablet in `dir`, as its local manifest copy says (no remote call). */
  static open(dir: string, options: RemoteLogOptions): RemoteLog {
    const file = join(dir, REMOTE_MANIFEST_LOCAL_FILE);
    const bytes = readSmallFileSync(file, REMOTE_MANIFEST_BYTES_MAX);
    return new RemoteLog(dir, options, bytes === null ? EMPTY_MANIFEST : decodeRemoteManifest(bytes, file));
  }

  get segments(): readonly RemoteLogSegment[] {
    return this.manifest.segments;
  }

  get version(): number {
    return this.manifest.version;
  }

  /** First remote offset, or null when nothing is remote. */
  get startOffset(): bigint | null {
    return this.manifest.segments[0]?.baseOffset ?? null;
  }

  /** Offset after the last remote batch, or null when nothing is remote. */
  get endOffset(): bigint | null {
    const s = this.manifest.segments;
    return s.length === 0 ? null : s[s.length - 1]!.endOffset;
  }

  get sizeBytes(): number {
    let n = 0;
    for (const s of this.manifest.segments) n += s.sizeBytes;
    return n;
  }

  keysOf(s: RemoteLogSegment): RemoteSegmentKeys {
    const dir = `${this.prefix}${s.id}/`;
    return {
      log: dir + offsetFileName(s.baseOffset, logFileSuffix),
      offsetIndex: dir + offsetFileName(s.baseOffset, offsetIndexFileSuffix),
      timeIndex: dir + offsetFileName(s.baseOffset, timeIndexFileSuffix),
    };
  }

  /** Index of the segment holding `offset`, or -1. */
  private indexOf(offset: bigint): number {
    const segs = this.manifest.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = segs[mid]!;
      if (offset < s.baseOffset) hi = mid - 1;
      else if (offset >= s.endOffset) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /**
   * Batches from the one holding `offset` through `visit`, across remote segments, within the
   * same budgets as a local visited read (LogTablet.readVisited).
   */
  async visit(
    offset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    visit: BatchVisitor,
    limits: { examineBytesMax: number; prefixBytes: number },
    allocate: ReadAllocator,
  ): Promise<RemoteVisit> {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let examined = 0;
    let at = offset;
    for (let i = 0; i < REMOTE_SEGMENTS_MAX; i++) {
      const index = this.indexOf(at);
      if (index < 0) return { parts, bytes, examinedEnd: at, examinedBytes: examined, reachedEnd: true };
      const seg = this.manifest.segments[index]!;
      const reader = new RemoteSegmentReader(this.storage, seg, this.keysOf(seg));
      let r: Awaited<ReturnType<RemoteSegmentReader["visit"]>>;
      try {
        r = await reader.visit(
          at,
          maxBytes - bytes,
          maxOffset,
          visit,
          {
            examineBytesMax: limits.examineBytesMax - examined,
            prefixBytes: limits.prefixBytes,
            chunkBytes: this.chunkBytes,
          },
          allocate,
        );
      } catch (err) {
        throw this.goneOr(seg, err);
      }
      parts.push(...r.parts);
      bytes += r.bytes;
      examined += r.examinedBytes;
      at = r.reachedEnd ? seg.endOffset : r.examinedEnd;
      const budgetLeft = bytes < maxBytes && examined < limits.examineBytesMax && at < maxOffset;
      if (!r.reachedEnd || !budgetLeft)
        return {
          parts,
          bytes,
          examinedEnd: at,
          examinedBytes: examined,
          reachedEnd: r.reachedEnd && this.indexOf(at) < 0,
        };
    }
    assert(false, "remote reads are bounded by the segments of a manifest");
  }

  /** A read failure on `seg`: out of range when the segment expired meanwhile, else as thrown. */
  private goneOr(seg: RemoteLogSegment, err: unknown): unknown {
    if (!isFlussError(err) || this.manifest.segments.some((s) => s.id === seg.id)) return err;
    return new FlussError(
      Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION,
      `remote segment at offset ${seg.baseOffset} was deleted by retention; the log now starts at ${this.startOffset}`,
    );
  }

  /**
   * First offset of a batch with commit timestamp >= `timestampMs` in the remote log, or null when
   * every remote batch is older. Starts from the segment's time index, reads headers from there.
   */
  async offsetForTimestamp(timestampMs: bigint): Promise<bigint | null> {
    const seg = this.manifest.segments.find((s) => s.maxTimestamp >= timestampMs);
    if (!seg) return null;
    const keys = this.keysOf(seg);
    let from = seg.baseOffset;
    const index = await this.storage.get(keys.timeIndex);
    if (index !== null) {
      const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
      for (let at = 0; at + timeIndexEntryBytes <= index.byteLength; at += timeIndexEntryBytes) {
        if (view.getBigInt64(at, true) >= timestampMs) break;
        from = seg.baseOffset + BigInt(view.getUint32(at + 8, true));
      }
    }
    let found: bigint | null = null;
    const reader = new RemoteSegmentReader(this.storage, seg, keys);
    for (let i = 0; i < REMOTE_SEGMENTS_MAX && found === null && from < seg.endOffset; i++) {
      const r = await reader
        .visit(
          from,
          Number.MAX_SAFE_INTEGER,
          seg.endOffset,
          (b) => {
            if (found === null && b.header.commitTimestamp >= timestampMs) found = b.header.baseOffset;
            return "skip";
          },
          { examineBytesMax: this.chunkBytes, prefixBytes: 0, chunkBytes: this.chunkBytes },
          (size) => Buffer.allocUnsafe(size),
        )
        .catch((err: unknown) => {
          throw this.goneOr(seg, err);
        });
      if (r.examinedEnd <= from) break;
      from = r.examinedEnd;
    }
    return found ?? seg.endOffset;
  }

  // ---- mutations (one at a time: the tablet's remote task chain) ----------------------------

  /** Make the remote manifest `next` the committed one (remote first, then the local copy). */
  async commit(next: RemoteLogManifest): Promise<void> {
    assertManifest(next);
    assert(next.version === this.manifest.version + 1, "remote manifest versions grow by one");
    const bytes = encodeRemoteManifest(next);
    await this.storage.put(this.prefix + MANIFEST_KEY, bytes);
    this.writeLocalCopy(bytes);
    this.manifest = next;
  }

  private writeLocalCopy(bytes: Uint8Array): void {
    writeFileAtomicSync(join(this.dir, REMOTE_MANIFEST_LOCAL_FILE), bytes, true);
  }

  /**
   * Once per run: adopt the remote manifest when it is newer than the local copy (a crash between
   * the two writes), then delete remote files no manifest names (uploads that never committed,
   * deletions a crash interrupted).
   */
  async syncWithRemote(): Promise<{ adopted: boolean; orphansDeleted: number }> {
    if (this.synced) return { adopted: false, orphansDeleted: 0 };
    let adopted = false;
    const bytes = await this.storage.get(this.prefix + MANIFEST_KEY);
    if (bytes !== null) {
      const remote = decodeRemoteManifest(bytes, `${this.storage.description}/${this.prefix}${MANIFEST_KEY}`);
      if (remote.version > this.manifest.version) {
        this.writeLocalCopy(bytes);
        this.manifest = remote;
        adopted = true;
      }
    }
    const live = new Set(this.manifest.segments.map((s) => s.id));
    const orphans: string[] = [];
    for (const o of await this.storage.list(this.prefix)) {
      const id = o.key.slice(this.prefix.length).split("/")[0]!;
      if (o.key !== this.prefix + MANIFEST_KEY && !live.has(id)) orphans.push(o.key);
    }
    await this.storage.delete(orphans);
    this.synced = true;
    return { adopted, orphansDeleted: orphans.length };
  }

  /** Upload one closed local segment (its log and index files) under a fresh id. */
  async upload(segment: LogSegment, endOffset: bigint): Promise<RemoteLogSegment> {
    segment.ensureIndexes();
    const maxTimestamp = segment.maxTimestamp();
    const s: RemoteLogSegment = {
      id: randomBytes(16).toString("hex"),
      baseOffset: segment.baseOffset,
      endOffset,
      sizeBytes: segment.sizeBytes,
      maxTimestamp,
    };
    assert(s.sizeBytes > 0 && endOffset > s.baseOffset, "only segments holding batches are tiered");
    const keys = this.keysOf(s);
    await this.storage.putFile(keys.offsetIndex, segment.offsetIndex.path);
    await this.storage.putFile(keys.timeIndex, segment.timeIndex.path);
    const size = await this.storage.putFile(keys.log, segment.logPath);
    if (size !== s.sizeBytes) {
      throw new FlussError(
        Errors.STORAGE_EXCEPTION,
        `segment ${segment.logPath} changed while it was copied (${size} bytes, expected ${s.sizeBytes})`,
      );
    }
    return s;
  }

  /** Delete the files of segments no committed manifest names any more. */
  async deleteFiles(segments: readonly RemoteLogSegment[]): Promise<void> {
    for (const s of segments) {
      new RemoteSegmentReader(this.storage, s, this.keysOf(s)).forgetIndexes();
      await this.storage.deletePrefix(`${this.prefix}${s.id}/`);
    }
  }

  /** The oldest segments whose newest batch is older than `ttlMs` (a prefix of the manifest). */
  expired(nowMs: bigint, ttlMs: number): RemoteLogSegment[] {
    const out: RemoteLogSegment[] = [];
    if (ttlMs <= 0) return out;
    for (const s of this.manifest.segments) {
      if (nowMs - s.maxTimestamp <= BigInt(ttlMs)) break;
      out.push(s);
    }
    return out;
  }
}

/** A manifest one version on: `drop` removed from the front, `add` appended (a gap resets it). */
export function nextManifest(
  current: RemoteLogManifest,
  drop: readonly RemoteLogSegment[],
  add: readonly RemoteLogSegment[],
): { manifest: RemoteLogManifest; unreferenced: RemoteLogSegment[] } {
  const dropped = new Set(drop.map((s) => s.id));
  let kept = current.segments.filter((s) => !dropped.has(s.id));
  const unreferenced = current.segments.filter((s) => dropped.has(s.id));
  const end = kept.length === 0 ? null : kept[kept.length - 1]!.endOffset;
  if (add.length > 0 && end !== null && add[0]!.baseOffset !== end) {
    // Local segments the remote never saw are gone: the remote log restarts at the new segments
    // (what it held before is unreachable behind the gap).
    unreferenced.push(...kept);
    kept = [];
  }
  return { manifest: { version: current.version + 1, segments: [...kept, ...add] }, unreferenced };
}
