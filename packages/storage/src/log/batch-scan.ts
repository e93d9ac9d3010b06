// Walks the batches of a segment file without loading it: headers are parsed out of a window
// refilled with positional reads (first fill small, since a walk from an index entry usually
// covers ~indexIntervalBytes; later fills `scanWindowBytes`); a whole batch is materialised only
// on request (CRC checks during recovery), in a buffer bounded by BATCH_SIZE_MAX.
// `headerAt` returns null where the bytes are not a whole, well-formed batch inside [0, endPos):
// that is how recovery finds a torn tail.
// Memory: one window shared by all scanners of the process (scans are synchronous and never
// nested; the newest scanner owns the window and an older one touching it is a bug, asserted),
// plus one large-batch buffer per recovery scan. The file is read through the file cache
// (file-cache.ts): each fill pins its descriptor only for that read.

import {
  assert,
  BATCH_SIZE_MAX,
  type BatchHeader,
  isFlussError,
  LOG_OVERHEAD,
  readBatchHeader,
} from "@fluss-ts/common";
import { batchBytesMin, batchHeaderBytesMax, scanFirstFillBytes, scanWindowBytes } from "./constants.ts";
import type { CachedFile } from "./file-cache.ts";
import { storageError } from "./file-io.ts";

const sharedWindow = Buffer.allocUnsafe(scanWindowBytes);
let windowOwner = 0;

export interface WalkEnd {
  /** Where the walk stopped: the visited batch that ended it, or the first position not visited. */
  readonly position: number;
  /** The walk stopped because `visit` returned false. */
  readonly stopped: boolean;
  /** The walk met bytes that are not a whole batch before `endPos`. */
  readonly torn: boolean;
}

export class SegmentScanner {
  private readonly source: CachedFile;
  private readonly file: string;
  readonly endPos: number;
  private readonly token: number;
  private windowStart = 0;
  private windowBytes = 0;
  private fills = 0;
  private large: Buffer | null = null;

  constructor(source: CachedFile, endPos: number) {
    assert(endPos >= 0, "scan end is a file position");
    this.source = source;
    this.file = source.path;
    this.endPos = endPos;
    windowOwner++;
    this.token = windowOwner;
  }

  /** Make [position, position + need) readable from the window (need <= window size). */
  private ensure(position: number, need: number): void {
    assert(this.token === windowOwner, "segment scans are not nested");
    assert(need <= sharedWindow.byteLength, "window holds the requested bytes");
    const end = this.windowStart + this.windowBytes;
    if (position >= this.windowStart && position + need <= end) return;
    const fill = this.fills === 0 ? Math.max(scanFirstFillBytes, need) : sharedWindow.byteLength;
    const want = Math.min(fill, this.endPos - position);
    this.windowBytes = this.source.read(sharedWindow.subarray(0, want), position);
    this.windowStart = position;
    this.fills++;
  }

  /** Header of the whole batch starting at `position`, or null (end of data, torn or malformed). */
  headerAt(position: number): BatchHeader | null {
    if (position + LOG_OVERHEAD > this.endPos) return null;
    const need = Math.min(batchHeaderBytesMax, this.endPos - position);
    this.ensure(position, need);
    const at = position - this.windowStart;
    const view = sharedWindow.subarray(0, Math.min(this.windowBytes, at + need));
    let header: BatchHeader;
    try {
      header = readBatchHeader(view, at);
    } catch (err) {
      if (isFlussError(err)) return null;
      throw err;
    }
    if (position + header.sizeBytes > this.endPos) return null;
    return header;
  }

  /**
   * Visit the batches from `position` on, in order, until `visit` returns false, the data ends,
   * or a torn batch is met. Bounded by endPos / batchBytesMin steps.
   */
  walk(position: number, visit: (header: BatchHeader, position: number) => boolean): WalkEnd {
    const stepsMax = Math.ceil(this.endPos / batchBytesMin) + 1;
    for (let i = 0; i < stepsMax && position < this.endPos; i++) {
      const header = this.headerAt(position);
      if (header === null) return { position, stopped: false, torn: true };
      if (!visit(header, position)) return { position, stopped: true, torn: false };
      position += header.sizeBytes;
    }
    assert(position >= this.endPos, "a walk ends at the end of the data");
    return { position, stopped: false, torn: position !== this.endPos };
  }

  /**
   * The first `length` bytes of the batch at `position` (header and statistics: what a filter
   * needs to decide on the batch), a view valid until the next call; null when they do not fit
   * the window (a filter then keeps the batch).
   */
  prefixAt(position: number, header: BatchHeader, length: number): Uint8Array | null {
    const size = Math.min(length, header.sizeBytes);
    if (size > sharedWindow.byteLength) return null;
    this.ensure(position, size);
    const at = position - this.windowStart;
    if (this.windowBytes < at + size) throw shrank(this.file);
    return sharedWindow.subarray(at, at + size);
  }

  /** All bytes of the batch at `position` (a view, valid until the next call). */
  bytesAt(position: number, header: BatchHeader): Uint8Array {
    const size = header.sizeBytes;
    assert(size <= BATCH_SIZE_MAX && position + size <= this.endPos, "batch lies inside the scanned range");
    if (size <= sharedWindow.byteLength) {
      this.fills = Math.max(this.fills, 1); // full-size fills from now on
      this.ensure(position, size);
      const at = position - this.windowStart;
      if (this.windowBytes < at + size) throw shrank(this.file);
      return sharedWindow.subarray(at, at + size);
    }
    if (this.large === null || this.large.byteLength < size) this.large = Buffer.allocUnsafe(size);
    const view = this.large.subarray(0, size);
    if (this.source.read(view, position) !== size) throw shrank(this.file);
    return view;
  }
}

function shrank(file: string): Error {
  return storageError("scan", file, new Error("the file shrank during a scan"));
}
