// A file of fixed-size entries sorted by a key, read with positional reads only: lookups binary
// search the file (a few small preads, page-cache hot), so a tablet's memory does not grow with the
// number or size of its segments. Used by the offset index and the time index. The file is reached
// through the server's file cache (file-cache.ts): it holds no descriptor of its own, and opening
// an index only stats it (a fresh one is created at once).
// Invariants: entries() * entryBytes <= file size; bytes past the last whole entry (a torn write)
// are reported by `tornBytes` and make the owning index invalid until it is rebuilt.

import { assert } from "@fluss-ts/common";
import { indexReadChunkBytes } from "./constants.ts";
import { type CachedFile, type FileCache, openReadWrite, pathSizeOrZeroSync } from "./file-cache.ts";
import { openReadWriteCreate, openReadWriteFresh, storageError, unlinkIfExistsSync } from "./file-io.ts";

export class IndexFile {
  readonly path: string;
  readonly entryBytes: number;
  readonly entriesMax: number;
  private readonly file: CachedFile;
  private count: number;
  private torn: number;
  private readonly scratch: Buffer;

  private constructor(
    path: string,
    file: CachedFile,
    entryBytes: number,
    entriesMax: number,
    sizeBytes: number,
  ) {
    this.path = path;
    this.file = file;
    this.entryBytes = entryBytes;
    this.entriesMax = entriesMax;
    this.count = Math.floor(sizeBytes / entryBytes);
    this.torn = sizeBytes % entryBytes;
    this.scratch = Buffer.alloc(entryBytes);
  }

  /**
   * The index at `path` (created when missing at its first use); `fresh` creates it empty now.
   * Reopens never create or truncate it again.
   */
  static open(
    files: FileCache,
    path: string,
    entryBytes: number,
    entriesMax: number,
    fresh: boolean,
  ): IndexFile {
    assert(entryBytes > 0 && entriesMax > 0, "index entry size and capacity are positive");
    const file = files.file(path, fresh ? openReadWriteFresh : openReadWriteCreate, openReadWrite);
    if (fresh) file.ensureOpen();
    const size = fresh ? 0 : pathSizeOrZeroSync(path);
    return new IndexFile(path, file, entryBytes, entriesMax, size);
  }

  get entries(): number {
    return this.count;
  }

  get tornBytes(): number {
    return this.torn;
  }

  get isFull(): boolean {
    return this.count >= this.entriesMax;
  }

  /** Entry `i`, as a view valid until the next call on this index. */
  entry(i: number): Buffer {
    assert(i >= 0 && i < this.count, "index entry within the entries");
    const n = this.file.read(this.scratch, i * this.entryBytes);
    if (n !== this.entryBytes) throw storageError("read", this.path, new Error(`short entry ${i}`));
    return this.scratch;
  }

  append(entry: Uint8Array): void {
    assert(entry.byteLength === this.entryBytes, "index entry has the entry size");
    assert(!this.isFull, "append to a full index");
    assert(this.torn === 0, "append to a torn index");
    try {
      this.file.write(entry, this.count * this.entryBytes);
    } catch (err) {
      // Cut a partial entry off (best effort) so the file stays whole entries.
      try {
        this.file.truncate(this.count * this.entryBytes);
      } catch {
        // a torn tail makes the index invalid at the next load, which rebuilds it
      }
      throw err;
    }
    this.count++;
  }

  truncateEntries(entries: number): void {
    assert(entries >= 0 && entries <= this.count, "index truncation within its entries");
    this.file.truncate(entries * this.entryBytes);
    this.count = entries;
    this.torn = 0;
  }

  /**
   * Largest i with `compare(entry(i)) <= 0`, or -1. Entries must be sorted so that `compare` is
   * non-decreasing over i. Binary search: at most ~log2(entriesMax) reads.
   */
  floor(compare: (entry: Buffer) => number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.entry(mid)) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Visit every entry in order, reading the file in chunks; stops when `visit` returns false. */
  scan(visit: (entry: Buffer, i: number) => boolean): void {
    const perChunk = Math.max(1, Math.floor(indexReadChunkBytes / this.entryBytes));
    const chunk = Buffer.alloc(perChunk * this.entryBytes);
    for (let first = 0; first < this.count; first += perChunk) {
      const want = Math.min(perChunk, this.count - first);
      const n = this.file.read(chunk.subarray(0, want * this.entryBytes), first * this.entryBytes);
      if (n !== want * this.entryBytes) throw storageError("read", this.path, new Error("index shrank"));
      for (let k = 0; k < want; k++) {
        const e = chunk.subarray(k * this.entryBytes, (k + 1) * this.entryBytes);
        if (!visit(e, first + k)) return;
      }
    }
  }

  flushSync(): void {
    this.file.datasyncSync();
  }

  flush(): Promise<void> {
    return this.file.datasync();
  }

  close(): void {
    this.file.close();
  }

  deleteFile(): void {
    unlinkIfExistsSync(this.path);
    this.file.markUnlinked();
  }
}
