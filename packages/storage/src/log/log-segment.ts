// One segment of a bucket's log: `<20-digit base offset>.log` (batches back to back) with its
// sparse `.index` (offset -> file position) and `.timeindex` (max commit timestamp -> offset).
// Appends are synchronous positional writes through one fd at the end of the file; reads are
// positional reads of exactly the bytes asked for, so memory is bounded by the read size whatever
// the segment size. Whole-batch reads below `asyncReadBytesMin` are synchronous (a fetch of the
// log tail: in the page cache, far cheaper than a thread hand-off); larger ones (scans, catching-up
// consumers: usually 1 MiB per bucket) run on the libuv thread pool, so the event loop serving
// appends does not stop for them (0.3 ms per MiB measured on the loop under a mixed load). Their
// buffers come from the caller's allocator — the server's pooled read buffers: on fresh buffers the
// worker's page faults dominated (8 ms for 2 MiB). A read that a truncation overtook returns
// nothing (the bytes it read may have been rewritten). Index lookups binary search the index
// files (see index-file.ts).
// Integrity: every batch a read returns — whole, or cut by a visitor (projection) — is checked
// (offset, CRC-32C) unless it lies in a range already known intact in this run (verified-ranges.ts:
// appended from checked bytes, or read whole and checked before); otherwise it is read whole and
// checked before any of its bytes leave. A mismatch is CORRUPT_RECORD_EXCEPTION naming the file,
// byte position and offset (corrupt bytes are never served). Recovery (`scanForRecovery`) checks
// every batch but changes no log byte: whether bad bytes are a torn tail to cut (`cutTail`) or
// corruption to refuse is the loader's decision (log-loader.ts).
// Descriptors: the segment owns none. Its three files are reached through the server's file cache
// (file-cache.ts), which opens them on use and closes the least recently used ones beyond its
// bound; opening an existing segment only stats its files. So a tablet with many segments, and a
// server with many tablets, holds a bounded number of descriptors.
// Invariants: the file holds whole batches with contiguous offsets from `baseOffset` to
// `nextOffset`; `sizeBytes` is the file size; index entries name batch starts (validated or
// rebuilt before first use). The files are closed for good only when no async read or flush holds
// the segment (`acquire`/`release`); each use pins its descriptor, so a deleted segment never
// hands its descriptor number to another file mid-read.

import fs from "node:fs";
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
import { SegmentScanner } from "./batch-scan.ts";
import {
  batchBytesMin,
  logFileSuffix,
  offsetIndexFileSuffix,
  relativeOffsetMax,
  timeIndexFileSuffix,
} from "./constants.ts";
import { type CachedFile, type FileCache, openReadWrite, sharedFileCache } from "./file-cache.ts";
import {
  isDiskFull,
  join,
  offsetFileName,
  openReadWriteNew,
  pathSizeSync,
  unlinkIfExistsSync,
} from "./file-io.ts";
import { OffsetIndex } from "./offset-index.ts";
import { TimeIndex } from "./time-index.ts";
import { VerifiedRanges } from "./verified-ranges.ts";

export interface SegmentOptions {
  readonly indexIntervalBytes: number;
  readonly indexBytesMax: number;
  /** Where the segment's descriptors come from (default: the process's shared cache). */
  readonly files?: FileCache;
}

/** One batch of an append, positioned within the appended bytes. */
export interface SegmentBatch {
  readonly position: number;
  readonly sizeBytes: number;
  readonly baseOffset: bigint;
  readonly nextOffset: bigint;
  readonly commitTimestamp: bigint;
}

export interface BatchLocation {
  readonly position: number;
  readonly header: BatchHeader;
}

export interface SegmentRead {
  /** Whole batches. */
  readonly bytes: Uint8Array;
  /** Offset after the last batch returned (the start offset when none). */
  readonly nextOffset: bigint;
  /** True when the read consumed this segment to its end, so a reader may go on to the next one. */
  readonly reachedEnd: boolean;
}

const empty = new Uint8Array(0);
/** Whole-batch reads of at least this many bytes run on the thread pool. */
export const asyncReadBytesMin = 256 * 1024;

function corrupt(file: string, message: string): FlussError {
  return new FlussError(Errors.LOG_STORAGE_EXCEPTION, `segment ${file}: ${message}`);
}

/** A stored batch that fails its checks: names the file, the byte position and the offset. */
export function corruptBatch(file: string, position: number, offset: bigint, problem: string): FlussError {
  return new FlussError(
    Errors.CORRUPT_RECORD_EXCEPTION,
    `${file}: record batch at byte ${position} (offset ${offset}) ${problem}`,
  );
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Why the batch with header `header` is not what was written, or null when it passes: its base
 * offset must be `expectedOffset` (when given) and, when its `bytes` are given, its CRC match.
 */
function batchProblem(
  bytes: Uint8Array | null,
  header: BatchHeader,
  expectedOffset: bigint | null,
): string | null {
  if (expectedOffset !== null && header.baseOffset !== expectedOffset) {
    return `starts at offset ${header.baseOffset} where offset ${expectedOffset} was expected`;
  }
  if (bytes === null) return null;
  const crc = computeBatchCrc(bytes, header.magic);
  if (crc !== header.crc) return `fails its CRC check (stored ${hex(header.crc)}, computed ${hex(crc)})`;
  return null;
}

/**
 * What recovery found in a segment: the valid batches at its front, and when bad bytes follow
 * them, what is wrong and whether valid data lies beyond (then they are not a torn tail).
 */
export interface RecoveryScan {
  /** Bytes of whole, contiguous, CRC-valid batches from the start of the file. */
  readonly validBytes: number;
  /** Offset after the last valid batch (where the first bad batch should start). */
  readonly nextOffset: bigint;
  /** What is wrong with the bytes at `validBytes`; null when the whole file checked out. */
  readonly problem: string | null;
  /** A CRC-valid batch with a later offset lies after the bad bytes (found by the bad batch's length or the old index). */
  readonly validDataAfter: boolean;
}

/** Where a rebuild stopped and why. */
interface RebuildEnd {
  readonly position: number;
  readonly problem: string | null;
  /** The header at `position` when it parsed (its batch failed a check); null when torn or at the end. */
  readonly bad: BatchHeader | null;
}

export class LogSegment {
  readonly baseOffset: bigint;
  readonly logPath: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private readonly options: SegmentOptions;
  private readonly file: CachedFile;
  private size: number;
  private next: bigint;
  private maxTs = -1n;
  private offsetOfMaxTs: bigint;
  /** `next` is known: walked, recovered, appended to, or assumed from the successor segment. */
  private nextKnown: boolean;
  /** The tail was walked: `next`, the max timestamp and `bytesSinceIndexEntry` are exact. */
  private tailKnown: boolean;
  private indexesChecked: boolean;
  private readonly indexesMissing: boolean;
  private bytesSinceIndexEntry = 0;
  private refs = 0;
  private state: "open" | "closing" | "closed" = "open";
  /** Byte ranges whose batches are known intact in this run (checked reads skip them). */
  private readonly verified = new VerifiedRanges();
  /** Truncations so far (an asynchronous read that one overtook returns nothing). */
  private truncations = 0;
  /** The index files were fdatasync'ed after this segment stopped being active. */
  indexesDurable = false;

  private constructor(dir: string, baseOffset: bigint, options: SegmentOptions, fresh: boolean) {
    this.baseOffset = baseOffset;
    this.options = options;
    this.logPath = join(dir, offsetFileName(baseOffset, logFileSuffix));
    const indexPath = join(dir, offsetFileName(baseOffset, offsetIndexFileSuffix));
    const timePath = join(dir, offsetFileName(baseOffset, timeIndexFileSuffix));
    // A missing index file would be recreated empty and pass validation: rebuild it instead.
    this.indexesMissing = !fresh && !(fs.existsSync(indexPath) && fs.existsSync(timePath));
    const files = options.files ?? sharedFileCache();
    this.file = files.file(this.logPath, fresh ? openReadWriteNew : openReadWrite, openReadWrite);
    if (fresh) this.file.ensureOpen(); // creates it (it must not exist yet)
    this.size = fresh ? 0 : pathSizeSync(this.logPath);
    this.offsetIndex = OffsetIndex.open(files, indexPath, baseOffset, options.indexBytesMax, fresh);
    this.timeIndex = TimeIndex.open(files, timePath, baseOffset, options.indexBytesMax, fresh);
    this.next = baseOffset;
    this.offsetOfMaxTs = baseOffset;
    this.nextKnown = fresh;
    this.tailKnown = fresh;
    this.indexesChecked = fresh;
  }

  /** A new, empty segment (its files must not exist). */
  static create(dir: string, baseOffset: bigint, options: SegmentOptions): LogSegment {
    return new LogSegment(dir, baseOffset, options, true);
  }

  /** An existing segment. Its end is unknown until `assumeNextOffset`, `loadTail` or `recover`. */
  static open(dir: string, baseOffset: bigint, options: SegmentOptions): LogSegment {
    return new LogSegment(dir, baseOffset, options, false);
  }

  get sizeBytes(): number {
    return this.size;
  }

  get nextOffset(): bigint {
    return this.next;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  private assertOpen(): void {
    assert(this.state === "open", "segment is open");
  }

  /** Trust that this closed segment ends where its successor begins (checked when its tail is read). */
  assumeNextOffset(nextOffset: bigint): void {
    assert(nextOffset >= this.baseOffset, "a segment ends at or after its base offset");
    this.next = nextOffset;
    this.nextKnown = true;
  }

  shouldRoll(appendBytes: number, lastOffset: bigint, segmentBytesMax: number): boolean {
    if (this.size === 0) return false;
    return (
      this.size + appendBytes > segmentBytesMax ||
      this.offsetIndex.entries >= this.offsetIndex.entriesMax ||
      this.timeIndex.entries + 1 >= this.timeIndex.entriesMax ||
      lastOffset - this.baseOffset > BigInt(relativeOffsetMax)
    );
  }

  /** Account one batch written at `position` in the indexes and the max timestamp. */
  private indexBatch(baseOffset: bigint, position: number, sizeBytes: number, commitTimestamp: bigint): void {
    if (commitTimestamp > this.maxTs) {
      this.maxTs = commitTimestamp;
      this.offsetOfMaxTs = baseOffset;
    }
    const roomy = !this.offsetIndex.isFull && !this.timeIndex.isFull;
    if (this.bytesSinceIndexEntry >= this.options.indexIntervalBytes && roomy) {
      try {
        this.offsetIndex.append(baseOffset, position);
        this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
        this.bytesSinceIndexEntry = 0;
      } catch (err) {
        // Indexes are sparse: an entry a full disk refuses is skipped (the next batch tries again).
        if (!isDiskFull(err)) throw err;
      }
    }
    this.bytesSinceIndexEntry += sizeBytes;
  }

  /** Append `bytes` (the `batches`, offsets already stamped) at the end of the file. */
  append(bytes: Uint8Array, batches: readonly SegmentBatch[]): void {
    this.assertOpen();
    assert(this.tailKnown && this.indexesChecked, "append to a loaded segment");
    assert(
      batches.length > 0 && batches[0].baseOffset === this.next,
      "appended offsets continue the segment",
    );
    const last = batches[batches.length - 1];
    assert(
      last.nextOffset - 1n - this.baseOffset <= BigInt(relativeOffsetMax),
      "relative offsets fit the index",
    );
    const start = this.size;
    try {
      this.file.write(bytes, start);
    } catch (err) {
      this.file.truncate(start); // undo a partial write; throws if even that fails
      throw err;
    }
    this.size = start + bytes.byteLength;
    this.verified.add(start, this.size); // the caller checked every batch's CRC before the write
    this.next = last.nextOffset; // the batches are in, whatever happens to their index entries
    for (const b of batches)
      this.indexBatch(b.baseOffset, start + b.position, b.sizeBytes, b.commitTimestamp);
  }

  private scanner(endPos = this.size): SegmentScanner {
    return new SegmentScanner(this.file, endPos);
  }

  /** The first batch whose last offset is >= `offset` (the batch holding it, or the next one). */
  translateOffset(offset: bigint): BatchLocation | null {
    this.assertOpen();
    this.ensureIndexes();
    let found: BatchLocation | null = null;
    this.walkOrThrow(this.offsetIndex.lookup(offset), (header, position) => {
      if (nextOffsetOf(header) <= offset) return true;
      found = { position, header };
      return false;
    });
    return found;
  }

  /** Walk batches from `position`; bytes that are not a whole batch are corruption here. */
  private walkOrThrow(position: number, visit: (header: BatchHeader, position: number) => boolean): void {
    const end = this.scanner().walk(position, visit);
    if (end.torn) throw corrupt(this.logPath, `no whole batch at byte ${end.position}`);
  }

  /**
   * Whole batches from the one holding `startOffset`, ending before `maxOffset` (exclusive) and
   * within `maxBytes` — except that with `minOneBatch` the first batch is returned even when larger.
   * Null when `startOffset` is past this segment's data.
   */
  async read(
    startOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    minOneBatch: boolean,
    allocate: ReadAllocator = defaultAllocator,
  ): Promise<SegmentRead | null> {
    const start = this.translateOffset(startOffset);
    if (start === null) return null;
    const nothing: SegmentRead = { bytes: empty, nextOffset: startOffset, reachedEnd: false };
    if (nextOffsetOf(start.header) > maxOffset) return nothing;
    const sizeAtStart = this.size;
    let limit = sizeAtStart;
    if (maxOffset < this.next) limit = this.translateOffset(maxOffset)?.position ?? limit;
    let length = Math.min(maxBytes, limit - start.position);
    if (length < start.header.sizeBytes) {
      if (!minOneBatch) return nothing;
      length = start.header.sizeBytes;
    }
    const buf = allocate(length);
    assert(this.acquire(), "an open segment can be held");
    const truncations = this.truncations;
    let n: number;
    try {
      n =
        length >= asyncReadBytesMin
          ? await this.file.readAsync(buf, start.position)
          : this.file.read(buf, start.position);
    } finally {
      this.release();
    }
    if (this.truncations !== truncations) return nothing; // cut, maybe rewritten, meanwhile
    const whole = this.wholeBatches(buf.subarray(0, n), start.position, start.header.baseOffset);
    if (whole.bytes === 0) return nothing;
    return {
      bytes: buf.subarray(0, whole.bytes),
      nextOffset: whole.nextOffset,
      reachedEnd: start.position + whole.bytes === sizeAtStart,
    };
  }

  /**
   * Walk batches from the one holding `startOffset` and let `visit` decide, from each batch's
   * header and first bytes, what to return for it: its output parts (cut from the batch's bytes
   * through `read`), the whole batch, or nothing. A batch the visitor keeps in any form is read
   * whole and checked (CRC, offset) first, and its parts are copied into `allocate`d memory, so
   * corrupt bytes are never returned; a skipped batch is not read beyond its prefix. Stops before
   * `maxOffset`, once the output reaches `maxBytes` (after at least one batch) or
   * `examineBytesMax` bytes of batches were examined. `examinedEnd` is the offset after the last
   * batch visited.
   */
  visitBatches(
    startOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    visit: BatchVisitor,
    limits: { examineBytesMax: number; prefixBytes: number },
    allocate: ReadAllocator = defaultAllocator,
  ): VisitedRead | null {
    const start = this.translateOffset(startOffset);
    if (start === null) return null;
    const parts: Uint8Array[] = [];
    let outBytes = 0;
    let examined = 0;
    let examinedEnd = startOffset;
    let expected = start.header.baseOffset;
    const sizeAtStart = this.size;
    const walked = this.scanner(sizeAtStart);
    assert(!visiting, "visited reads are not nested");
    assert(this.acquire(), "an open segment can be held");
    visiting = true;
    let end: ReturnType<SegmentScanner["walk"]>;
    try {
      end = walked.walk(start.position, (header, position) => {
        if (nextOffsetOf(header) > maxOffset) return false;
        if (outBytes > 0 && outBytes >= maxBytes) return false;
        if (header.baseOffset !== expected) {
          throw corruptBatch(this.logPath, position, expected, `starts at offset ${header.baseOffset}`);
        }
        const batch = new CheckedBatch(this.file, position, header, this.verified, allocate);
        // At least the header and statistics; more when the visitor asks (e.g. Arrow metadata).
        const prefixBytes = Math.min(Math.max(limits.prefixBytes, header.recordsOffset), header.sizeBytes);
        const prefix =
          walked.prefixAt(position, header, prefixBytes) ?? batch.bytes().subarray(0, prefixBytes);
        const decision = visit({ header, prefix, read: (from, length) => batch.range(from, length) });
        if (decision !== "skip") {
          for (const out of decision === "whole" ? [batch.copy()] : batch.output(decision)) {
            parts.push(out);
            outBytes += out.byteLength;
          }
        }
        examined += header.sizeBytes;
        expected = nextOffsetOf(header);
        examinedEnd = expected;
        return examined < limits.examineBytesMax;
      });
    } finally {
      visiting = false;
      this.release();
    }
    if (end.torn) {
      throw corruptBatch(this.logPath, end.position, expected, "is not a whole record batch");
    }
    return {
      parts,
      bytes: outBytes,
      examinedEnd,
      examinedBytes: examined,
      reachedEnd: !end.stopped && end.position === sizeAtStart,
    };
  }

  /**
   * Length of the whole batches at the front of `buf` (read from file position `filePosition`)
   * and the offset after them. Each is checked: contiguous offsets from `firstOffset`, and its CRC
   * unless it lies in a verified range.
   */
  private wholeBatches(
    buf: Uint8Array,
    filePosition: number,
    firstOffset: bigint,
  ): { bytes: number; nextOffset: bigint } {
    let position = 0;
    let expected = firstOffset;
    for (let i = 0; i <= buf.byteLength / batchBytesMin; i++) {
      const size = peekBatchSize(buf, position);
      if (size < 0 || position + size > buf.byteLength) break;
      if (size < batchBytesMin) throw corrupt(this.logPath, `batch of ${size} bytes`);
      const header = this.headerOf(buf, position, filePosition + position, expected);
      const at = filePosition + position;
      const known = this.verified.covers(at, at + size);
      const problem = batchProblem(known ? null : buf.subarray(position, position + size), header, expected);
      if (problem !== null) throw corruptBatch(this.logPath, at, expected, problem);
      if (!known) this.verified.add(at, at + size);
      expected = nextOffsetOf(header);
      position += size;
    }
    return { bytes: position, nextOffset: expected };
  }

  /** The header of the batch at `buf[at..]`; a malformed one is corruption at `filePosition`. */
  private headerOf(buf: Uint8Array, at: number, filePosition: number, expected: bigint): BatchHeader {
    try {
      return readBatchHeader(buf, at);
    } catch (err) {
      if (!isFlussError(err)) throw err;
      throw corruptBatch(this.logPath, filePosition, expected, `has a malformed header: ${err.message}`);
    }
  }

  /** Largest commit timestamp in the segment (-1 when empty). */
  maxTimestamp(): bigint {
    if (!this.loadTail()) throw corrupt(this.logPath, "does not end on a whole batch");
    return this.maxTs;
  }

  /** Base offset of the first batch with commit timestamp >= `timestamp`, or null when none. */
  findOffsetByTimestamp(timestamp: bigint): bigint | null {
    if (this.maxTimestamp() < timestamp) return null;
    const position = this.offsetIndex.lookup(this.timeIndex.lookup(timestamp));
    let found: bigint | null = null;
    this.walkOrThrow(position, (header) => {
      if (header.commitTimestamp < timestamp) return true;
      found = header.baseOffset;
      return false;
    });
    return found;
  }

  /** Visit the headers of the batches with base offset in [fromOffset, toOffset). */
  forEachBatch(fromOffset: bigint, toOffset: bigint, visit: (header: BatchHeader) => void): void {
    const start = this.translateOffset(fromOffset);
    if (start === null) return;
    this.walkOrThrow(start.position, (header) => {
      if (header.baseOffset >= toOffset) return false;
      if (header.baseOffset >= fromOffset) visit(header);
      return true;
    });
  }

  /**
   * Learn the segment's end, max timestamp and bytes since the last index entry by walking the
   * batches after the last offset index entry. False when the file does not end on a whole batch
   * (a torn tail: the caller must `recover`).
   */
  loadTail(): boolean {
    this.assertOpen();
    if (this.tailKnown) return true;
    this.ensureIndexes();
    const assumed = this.nextKnown ? this.next : null;
    const walked = this.walkTail();
    if (walked === null) return false;
    const time = this.timeIndex.lastEntry;
    if (time !== null && time.offset >= walked) {
      // The time index runs past the log (stale): rebuild both indexes from the log.
      if (this.rebuild(false).position !== this.size) return false;
    }
    if (assumed !== null && assumed !== this.next) {
      throw corrupt(this.logPath, `ends at offset ${this.next} but its successor starts at ${assumed}`);
    }
    return true;
  }

  /** Walk from the last offset index entry to the end of the file; null when the tail is torn. */
  private walkTail(): bigint | null {
    const entry = this.offsetIndex.lastEntry;
    const time = this.timeIndex.lastEntry;
    let next = entry?.offset ?? this.baseOffset;
    this.maxTs = time?.timestamp ?? -1n;
    this.offsetOfMaxTs = time?.offset ?? this.baseOffset;
    const end = this.scanner().walk(entry?.position ?? 0, (header) => {
      if (header.baseOffset !== next) return false;
      if (header.commitTimestamp > this.maxTs) {
        this.maxTs = header.commitTimestamp;
        this.offsetOfMaxTs = header.baseOffset;
      }
      next = nextOffsetOf(header);
      return true;
    });
    if (end.torn || end.stopped) return null;
    this.bytesSinceIndexEntry = this.size - (entry?.position ?? 0);
    this.next = next;
    this.nextKnown = true;
    this.tailKnown = true;
    return next;
  }

  /** Validate the index files against the log once; rebuild them from the log when they fail. */
  ensureIndexes(): void {
    if (this.indexesChecked) return;
    this.indexesChecked = true;
    if (this.indexesValid()) return;
    const end = this.rebuild(false).position;
    if (end !== this.size) throw corrupt(this.logPath, `no whole batch at byte ${end}`);
  }

  private indexesValid(): boolean {
    if (this.indexesMissing || !this.offsetIndex.validate(this.size)) return false;
    const last = this.offsetIndex.lastEntry;
    if (last !== null) {
      const header = this.scanner().headerAt(last.position);
      if (header === null || header.baseOffset !== last.offset) return false;
    }
    return this.timeIndex.validate(this.nextKnown ? this.next : null);
  }

  /**
   * Re-index the segment from its batches (verifying CRCs when `verifyCrc`); returns where the
   * valid batches end and, when that is before the end of the file, why. Sets the end offset, max
   * timestamp and index state. Changes no byte of the log file.
   */
  private rebuild(verifyCrc: boolean): RebuildEnd {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTs = -1n;
    this.offsetOfMaxTs = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    const scan = this.scanner();
    let next = this.baseOffset;
    let problem: string | null = null;
    let bad: BatchHeader | null = null;
    const end = scan.walk(0, (header, position) => {
      if (nextOffsetOf(header) - 1n - this.baseOffset > BigInt(relativeOffsetMax)) {
        problem = `ends at offset ${nextOffsetOf(header) - 1n}, beyond what a segment can index`;
      } else {
        problem = batchProblem(verifyCrc ? scan.bytesAt(position, header) : null, header, next);
      }
      if (problem !== null) {
        bad = header;
        return false;
      }
      this.indexBatch(header.baseOffset, position, header.sizeBytes, header.commitTimestamp);
      next = nextOffsetOf(header);
      return true;
    });
    if (end.torn)
      problem = `is not a whole record batch (${this.size - end.position} bytes to the end of the file)`;
    this.next = next;
    this.nextKnown = true;
    this.tailKnown = true;
    this.indexesChecked = true;
    this.indexesDurable = false;
    return { position: end.position, problem, bad };
  }

  /**
   * Crash recovery, first step: verify every batch (length, contiguous offsets, CRC) and rebuild
   * both indexes over the valid ones. No log byte changes: the caller decides whether bad bytes
   * are a torn tail (`cutTail`) or corruption.
   */
  scanForRecovery(): RecoveryScan {
    this.assertOpen();
    const hint = this.offsetIndex.lastEntry; // the old index may name a batch past the bad bytes
    const end = this.rebuild(true);
    this.verified.add(0, end.position);
    if (end.problem === null) {
      return { validBytes: end.position, nextOffset: this.next, problem: null, validDataAfter: false };
    }
    let validDataAfter = false;
    if (end.bad !== null)
      validDataAfter = this.validBatchAt(end.position + end.bad.sizeBytes, this.next + 1n);
    if (!validDataAfter && hint !== null && hint.position > end.position) {
      validDataAfter = this.validBatchAt(hint.position, hint.offset, true);
    }
    return { validBytes: end.position, nextOffset: this.next, problem: end.problem, validDataAfter };
  }

  /**
   * True when a whole batch with a good CRC starts at `position` with base offset `offset` (or,
   * unless `exact`, any offset from `offset` on).
   */
  private validBatchAt(position: number, offset: bigint, exact = false): boolean {
    if (position >= this.size) return false;
    const scan = this.scanner();
    const header = scan.headerAt(position);
    if (header === null) return false;
    if (exact ? header.baseOffset !== offset : header.baseOffset < offset) return false;
    return batchProblem(scan.bytesAt(position, header), header, null) === null;
  }

  /** True when the file starts with a whole batch at the segment's base offset with a good CRC. */
  startsWithValidBatch(): boolean {
    return this.validBatchAt(0, this.baseOffset, true);
  }

  /** Cut the file after its first `validBytes` (a torn tail found by `scanForRecovery`); returns the bytes cut. */
  cutTail(validBytes: number): number {
    this.assertOpen();
    assert(this.tailKnown && validBytes <= this.size, "a cut follows a recovery scan");
    const cut = this.size - validBytes;
    if (cut > 0) {
      this.truncations++;
      this.file.truncate(validBytes);
      this.size = validBytes;
      this.verified.truncate(validBytes);
    }
    return cut;
  }

  /** Remove every batch from the one holding `offset` on; returns the bytes removed. */
  truncateTo(offset: bigint): number {
    const at = this.translateOffset(offset);
    if (at === null) return 0;
    this.offsetIndex.truncateTo(at.header.baseOffset);
    this.timeIndex.truncateTo(at.header.baseOffset);
    this.truncations++;
    this.file.truncate(at.position);
    this.verified.truncate(at.position);
    const cut = this.size - at.position;
    this.size = at.position;
    this.next = at.header.baseOffset;
    this.tailKnown = false;
    this.indexesDurable = false;
    if (!this.loadTail()) throw corrupt(this.logPath, "torn after truncation");
    return cut;
  }

  /** The segment stops being active: record its max timestamp in the time index. */
  onBecomeInactive(): void {
    this.assertOpen();
    if (this.maxTs >= 0n) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs, true);
  }

  /** Hold the fds open across an async operation; false when the segment is closing. */
  acquire(): boolean {
    if (this.state !== "open") return false;
    this.refs++;
    return true;
  }

  release(): void {
    assert(this.refs > 0, "release matches acquire");
    this.refs--;
    if (this.refs === 0 && this.state === "closing") this.closeFiles();
  }

  flushLog(): Promise<void> {
    return this.file.datasync();
  }

  /** fdatasync the log and both indexes now (recovery and close paths). */
  flushSync(): void {
    this.assertOpen();
    this.file.datasyncSync();
    this.offsetIndex.flushSync();
    this.timeIndex.flushSync();
    this.indexesDurable = true;
  }

  async flushIndexes(): Promise<void> {
    await Promise.all([this.offsetIndex.flush(), this.timeIndex.flush()]);
  }

  /** Close the files once the last holder releases them. */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closing";
    if (this.refs === 0) this.closeFiles();
  }

  /** Delete the files now (open fds stay valid until closed) and close. */
  delete(): void {
    unlinkIfExistsSync(this.logPath);
    this.file.markUnlinked();
    this.offsetIndex.deleteFile();
    this.timeIndex.deleteFile();
    this.close();
  }

  private closeFiles(): void {
    assert(this.state === "closing" && this.refs === 0, "close an unheld segment");
    this.state = "closed";
    this.file.close();
    this.offsetIndex.close();
    this.timeIndex.close();
  }
}

/**
 * What a visited read hands the visitor for one batch. `prefix` is not yet checked (a filter may
 * decide from it and skip the batch unread); `read` reads and checks the whole batch first. Both
 * are views valid only during the visit: the parts a visitor returns are copied out after it.
 */
export interface BatchAccess {
  readonly header: BatchHeader;
  /** The batch's first bytes (header, statistics, and more up to the prefix size asked for). */
  readonly prefix: Uint8Array;
  /** Bytes [from, from + length) of the batch, after the whole batch passed its checks. */
  read(from: number, length: number): Uint8Array;
}

/** For one batch: the parts to return for it, the whole batch, or nothing. */
export type BatchVisitor = (batch: BatchAccess) => readonly Uint8Array[] | "whole" | "skip";

/** Decides from a batch's first bytes (header and statistics) whether a filtered read keeps it. */
export type BatchSelector = (prefix: Uint8Array, header: BatchHeader) => boolean;

export interface VisitedRead {
  readonly parts: readonly Uint8Array[];
  readonly bytes: number;
  /** The offset after the last batch visited (returned or not). */
  readonly examinedEnd: bigint;
  readonly examinedBytes: number;
  /** The walk reached the end of this segment's data. */
  readonly reachedEnd: boolean;
}

/**
 * Where reads put their bytes. A server passes a pooled allocator so read buffers are reused
 * (fresh memory costs a page fault per 4 KiB on first touch, which dominates large reads).
 */
export type ReadAllocator = (size: number) => Uint8Array;

const defaultAllocator: ReadAllocator = (size) => Buffer.allocUnsafe(size);

/** Largest scratch buffer kept between visited reads; bigger batches get a buffer of their own. */
const SCRATCH_BYTES_RETAINED = 16 * 1024 * 1024;
/** Whole batches a visitor cuts parts from (visits are synchronous and never nested). */
let scratch: Buffer = Buffer.allocUnsafe(0);
let visiting = false;

function scratchOf(size: number): Uint8Array {
  if (size > SCRATCH_BYTES_RETAINED) return Buffer.allocUnsafe(size);
  if (scratch.byteLength < size) {
    let c = 64 * 1024;
    while (c < size) c *= 2;
    scratch = Buffer.allocUnsafe(c);
  }
  return scratch.subarray(0, size);
}

/**
 * One batch of a visited read. Unless it lies in a verified range, it is read whole at most once
 * and checked before any byte leaves (then its range is recorded as verified); a verified batch
 * is read only where the visitor asks, straight into `allocate`d memory.
 */
class CheckedBatch {
  private readonly source: CachedFile;
  private readonly file: string;
  private readonly position: number;
  private readonly header: BatchHeader;
  private readonly verified: VerifiedRanges;
  private readonly allocate: ReadAllocator;
  private readonly known: boolean;
  private loaded: Uint8Array | null = null;

  constructor(
    source: CachedFile,
    position: number,
    header: BatchHeader,
    verified: VerifiedRanges,
    allocate: ReadAllocator,
  ) {
    this.source = source;
    this.file = source.path;
    this.position = position;
    this.header = header;
    this.verified = verified;
    this.allocate = allocate;
    this.known = verified.covers(position, position + header.sizeBytes);
  }

  private readInto(buf: Uint8Array, from: number): Uint8Array {
    if (this.source.read(buf, this.position + from) !== buf.byteLength) {
      throw corrupt(this.file, `short read of ${buf.byteLength} bytes at ${this.position + from}`);
    }
    return buf;
  }

  /** Read the whole batch into `buf` (its size) and, unless known intact, check it. */
  private load(buf: Uint8Array): Uint8Array {
    this.readInto(buf, 0);
    if (!this.known) {
      const problem = batchProblem(buf, this.header, null);
      if (problem !== null) throw corruptBatch(this.file, this.position, this.header.baseOffset, problem);
      this.verified.add(this.position, this.position + this.header.sizeBytes);
    }
    this.loaded = buf;
    return buf;
  }

  /** The whole checked batch, in scratch memory: valid only until the visit returns. */
  bytes(): Uint8Array {
    return this.loaded ?? this.load(scratchOf(this.header.sizeBytes));
  }

  /** Bytes [from, from + length) of the checked batch (scratch or `allocate`d memory). */
  range(from: number, length: number): Uint8Array {
    assert(
      from >= 0 && length >= 0 && from + length <= this.header.sizeBytes,
      "a visitor reads inside its batch",
    );
    if (this.known && this.loaded === null) return this.readInto(this.allocate(length), from);
    return this.bytes().subarray(from, from + length);
  }

  /** The whole checked batch in `allocate`d memory. */
  copy(): Uint8Array {
    if (this.loaded === null) return this.load(this.allocate(this.header.sizeBytes));
    const out = this.allocate(this.loaded.byteLength);
    out.set(this.loaded);
    return out;
  }

  /** A visitor's parts for this batch, in memory that outlives the visit. */
  output(parts: readonly Uint8Array[]): Uint8Array[] {
    if (!this.known) this.bytes(); // nothing leaves unchecked, even parts made without reading
    if (this.loaded === null) return [...parts]; // read straight into allocated memory
    let total = 0;
    for (const p of parts) total += p.byteLength;
    const out = this.allocate(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return [out];
  }
}
