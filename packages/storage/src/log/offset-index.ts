// The sparse offset index of one segment (`<base>.index`): entries of (relative offset u32 LE,
// file position u32 LE), one for roughly every `indexIntervalBytes` of log, each naming the first
// byte of a batch and that batch's base offset. `lookup(offset)` gives the position of the last
// indexed batch starting at or before `offset`; the segment then walks a few headers from there.
// Invariants: relative offsets and positions strictly increase; every position names a batch start
// inside the log file (checked by `validate` at load, rebuilt from the log when it fails).

import { assert } from "@fluss-ts/common";
import { offsetIndexEntryBytes, relativeOffsetMax } from "./constants.ts";
import type { FileCache } from "./file-cache.ts";
import { IndexFile } from "./index-file.ts";

export interface OffsetPosition {
  readonly offset: bigint;
  readonly position: number;
}

export class OffsetIndex {
  readonly baseOffset: bigint;
  private readonly file: IndexFile;
  /** The last entry, read on first use (opening an index reads nothing); undefined until then. */
  private lastRead: OffsetPosition | null | undefined = undefined;
  private readonly entryBuf = Buffer.alloc(offsetIndexEntryBytes);

  private constructor(file: IndexFile, baseOffset: bigint) {
    this.file = file;
    this.baseOffset = baseOffset;
  }

  static open(
    files: FileCache,
    path: string,
    baseOffset: bigint,
    indexBytesMax: number,
    fresh: boolean,
  ): OffsetIndex {
    const entriesMax = Math.floor(indexBytesMax / offsetIndexEntryBytes);
    return new OffsetIndex(IndexFile.open(files, path, offsetIndexEntryBytes, entriesMax, fresh), baseOffset);
  }

  get path(): string {
    return this.file.path;
  }

  get entries(): number {
    return this.file.entries;
  }

  get entriesMax(): number {
    return this.file.entriesMax;
  }

  get isFull(): boolean {
    return this.file.isFull;
  }

  get lastEntry(): OffsetPosition | null {
    return this.last;
  }

  private decode(e: Buffer): OffsetPosition {
    return { offset: this.baseOffset + BigInt(e.readUInt32LE(0)), position: e.readUInt32LE(4) };
  }

  private get last(): OffsetPosition | null {
    if (this.lastRead === undefined) this.lastRead = this.readLast();
    return this.lastRead;
  }

  private set last(entry: OffsetPosition | null) {
    this.lastRead = entry;
  }

  private readLast(): OffsetPosition | null {
    if (this.file.entries === 0) return null;
    return this.decode(this.file.entry(this.file.entries - 1));
  }

  append(offset: bigint, position: number): void {
    const rel = offset - this.baseOffset;
    assert(rel >= 0n && rel <= BigInt(relativeOffsetMax), "index offset lies inside the segment");
    assert(position >= 0 && position <= 0xffff_ffff, "index position fits u32");
    if (this.last !== null) {
      assert(offset > this.last.offset && position > this.last.position, "offset index entries increase");
    }
    this.entryBuf.writeUInt32LE(Number(rel), 0);
    this.entryBuf.writeUInt32LE(position, 4);
    this.file.append(this.entryBuf);
    this.last = { offset, position };
  }

  /** Position of the last indexed batch whose base offset is <= `offset` (0 when none). */
  lookup(offset: bigint): number {
    if (this.last === null || offset < this.baseOffset) return 0;
    if (offset >= this.last.offset) return this.last.position;
    const rel = offset - this.baseOffset;
    const i = this.file.floor((e) => (BigInt(e.readUInt32LE(0)) <= rel ? 0 : 1));
    return i < 0 ? 0 : this.decode(this.file.entry(i)).position;
  }

  /** Drop every entry for an offset >= `offset`. */
  truncateTo(offset: bigint): void {
    const rel = offset - this.baseOffset;
    const keep = rel <= 0n ? 0 : this.file.floor((e) => (BigInt(e.readUInt32LE(0)) < rel ? 0 : 1)) + 1;
    this.file.truncateEntries(keep);
    this.last = this.readLast();
  }

  reset(): void {
    this.file.truncateEntries(0);
    this.last = null;
  }

  /**
   * True when the file is whole entries, strictly increasing, and every position lies inside a log
   * of `logBytes`. (Whether the last position names a batch start is checked by the segment.)
   */
  validate(logBytes: number): boolean {
    if (this.file.tornBytes !== 0) return false;
    let prevRel = -1;
    let prevPos = -1;
    let ok = true;
    this.file.scan((e) => {
      const rel = e.readUInt32LE(0);
      const pos = e.readUInt32LE(4);
      ok = rel > prevRel && pos > prevPos && pos < logBytes && rel <= relativeOffsetMax;
      prevRel = rel;
      prevPos = pos;
      return ok;
    });
    return ok;
  }

  flushSync(): void {
    this.file.flushSync();
  }

  flush(): Promise<void> {
    return this.file.flush();
  }

  close(): void {
    this.file.close();
  }

  deleteFile(): void {
    this.file.deleteFile();
  }
}
