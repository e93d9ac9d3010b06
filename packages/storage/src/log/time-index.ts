// The sparse time index of one segment (`<base>.timeindex`): entries of (max commit timestamp so
// far i64 LE, relative offset u32 LE of the first batch that reached it). An entry is written next
// to an offset index entry, and on roll, only when the timestamp grew past the last entry.
// `lookup(ts)` returns the offset of the last entry with timestamp <= ts: every batch before that
// offset has a smaller timestamp, so a search for the first batch with timestamp >= ts starts there.
// Invariants: timestamps strictly increase, offsets never decrease, offsets < segment next offset.

import { assert } from "@fluss-ts/common";
import { relativeOffsetMax, timeIndexEntryBytes } from "./constants.ts";
import type { FileCache } from "./file-cache.ts";
import { IndexFile } from "./index-file.ts";

export interface TimestampOffset {
  readonly timestamp: bigint;
  readonly offset: bigint;
}

export class TimeIndex {
  readonly baseOffset: bigint;
  private readonly file: IndexFile;
  /** The last entry, read on first use (opening an index reads nothing); undefined until then. */
  private lastRead: TimestampOffset | null | undefined = undefined;
  private readonly entryBuf = Buffer.alloc(timeIndexEntryBytes);

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
  ): TimeIndex {
    const entriesMax = Math.floor(indexBytesMax / timeIndexEntryBytes);
    return new TimeIndex(IndexFile.open(files, path, timeIndexEntryBytes, entriesMax, fresh), baseOffset);
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

  get lastEntry(): TimestampOffset | null {
    return this.last;
  }

  private decode(e: Buffer): TimestampOffset {
    return { timestamp: e.readBigInt64LE(0), offset: this.baseOffset + BigInt(e.readUInt32LE(8)) };
  }

  private get last(): TimestampOffset | null {
    if (this.lastRead === undefined) this.lastRead = this.readLast();
    return this.lastRead;
  }

  private set last(entry: TimestampOffset | null) {
    this.lastRead = entry;
  }

  private readLast(): TimestampOffset | null {
    if (this.file.entries === 0) return null;
    return this.decode(this.file.entry(this.file.entries - 1));
  }

  /**
   * Append (timestamp, offset) when `timestamp` is past the last entry. `atRoll`: the final entry
   * of a segment, silently skipped when the index is full (lookups then scan a little further).
   */
  maybeAppend(timestamp: bigint, offset: bigint, atRoll = false): void {
    if (this.last !== null && timestamp <= this.last.timestamp) return;
    if (this.file.isFull && atRoll) return;
    const rel = offset - this.baseOffset;
    assert(rel >= 0n && rel <= BigInt(relativeOffsetMax), "index offset lies inside the segment");
    assert(this.last === null || offset >= this.last.offset, "time index offsets never decrease");
    this.entryBuf.writeBigInt64LE(timestamp, 0);
    this.entryBuf.writeUInt32LE(Number(rel), 8);
    this.file.append(this.entryBuf);
    this.last = { timestamp, offset };
  }

  get isFull(): boolean {
    return this.file.isFull;
  }

  /** Offset of the last entry with timestamp <= `timestamp`; the base offset when none. */
  lookup(timestamp: bigint): bigint {
    const i = this.file.floor((e) => (e.readBigInt64LE(0) <= timestamp ? 0 : 1));
    return i < 0 ? this.baseOffset : this.decode(this.file.entry(i)).offset;
  }

  /** Drop every entry for an offset >= `offset`. */
  truncateTo(offset: bigint): void {
    const rel = offset - this.baseOffset;
    const keep = rel <= 0n ? 0 : this.file.floor((e) => (BigInt(e.readUInt32LE(8)) < rel ? 0 : 1)) + 1;
    this.file.truncateEntries(keep);
    this.last = this.readLast();
  }

  reset(): void {
    this.file.truncateEntries(0);
    this.last = null;
  }

  /** True when the file is whole entries, sorted as the invariants say, offsets below `nextOffset` (when known). */
  validate(nextOffset: bigint | null): boolean {
    if (this.file.tornBytes !== 0) return false;
    const relEnd = nextOffset === null ? BigInt(relativeOffsetMax) + 1n : nextOffset - this.baseOffset;
    let prevTs: bigint | null = null;
    let prevRel = 0n;
    let ok = true;
    this.file.scan((e) => {
      const ts = e.readBigInt64LE(0);
      const rel = BigInt(e.readUInt32LE(8));
      ok = (prevTs === null || (ts > prevTs && rel >= prevRel)) && rel < relEnd;
      prevTs = ts;
      prevRel = rel;
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
