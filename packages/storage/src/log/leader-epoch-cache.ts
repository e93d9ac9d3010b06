// The leader-epoch cache of a log tablet (Kafka's LeaderEpochFileCache): the tablet's epoch entries
// (epoch-entries.ts) persisted in `leader-epoch.checkpoint` in the tablet directory:
//   "fluss-ts-leader-epochs v1\n<count>\n" then "<epoch> <start offset>\n" per entry.
// Every change is written atomically and durably (temp file, fdatasync, rename, directory fsync)
// before it takes effect in memory, so the file never names fewer epochs than the batches on disk
// carry: an epoch is assigned before the first batch of that epoch is written. Entries naming
// offsets past the log end (an epoch assigned but its batch lost in a crash) are dropped at open.
// A missing file is an empty cache (a new tablet, or one written before replication existed); a
// file that does not parse is corruption (CORRUPT_RECORD_EXCEPTION naming it): the bucket goes
// offline rather than guess which of its batches a leader may later ask about.
// A change that cannot be written (a full disk) throws STORAGE_EXCEPTION and changes nothing,
// except those that only forget entries outside the log (truncateFromStart, the repair at open):
// they take effect in memory anyway, and a stale file is corrected at the next open.

import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { type EpochEndOffset, EpochEntries, type EpochEntry, isWellFormed } from "./epoch-entries.ts";
import { isOutOfDescriptors } from "./file-cache.ts";
import { isDiskFull, join, readSmallFileSync, storageError, writeFileAtomicSync } from "./file-io.ts";

export const leaderEpochFileName = "leader-epoch.checkpoint";
const header = "fluss-ts-leader-epochs v1";
/** 20 digits + space + 10 digits + newline per entry, plus the header lines. */
const fileBytesMax = 64 + 40 * 100_000;

export class LeaderEpochCache {
  readonly path: string;
  private readonly entries: EpochEntries;

  private constructor(path: string, entries: EpochEntries) {
    this.path = path;
    this.entries = entries;
  }

  /** Load the cache of the tablet in `dir`; throws CORRUPT_RECORD_EXCEPTION for a garbled file. */
  static load(dir: string): LeaderEpochCache {
    const path = join(dir, leaderEpochFileName);
    const bytes = readSmallFileSync(path, fileBytesMax);
    const entries = bytes === null ? [] : parse(path, bytes);
    return new LeaderEpochCache(path, new EpochEntries(entries));
  }

  get all(): readonly EpochEntry[] {
    return this.entries.entries;
  }

  get latestEpoch(): number {
    return this.entries.latestEpoch;
  }

  epochForOffset(offset: bigint): number {
    return this.entries.epochForOffset(offset);
  }

  endOffsetFor(epoch: number, logEndOffset: bigint): EpochEndOffset {
    return this.entries.endOffsetFor(epoch, logEndOffset);
  }

  entriesFor(fromOffset: bigint, toOffset: bigint): EpochEntry[] {
    return this.entries.entriesFor(fromOffset, toOffset);
  }

  /** Record that `epoch` starts at `startOffset` (durably, before returning); false when nothing changed. */
  assign(epoch: number, startOffset: bigint): boolean {
    return this.apply(this.entries.planAssign(epoch, startOffset));
  }

  /** Forget epochs starting at or after `endOffset` (the log was cut there). */
  truncateFromEnd(endOffset: bigint): boolean {
    return this.apply(this.entries.planTruncateFromEnd(endOffset));
  }

  /** Forget epochs wholly below `startOffset` (the log start moved up); on a full disk only in memory. */
  truncateFromStart(startOffset: bigint): boolean {
    const next = this.entries.planTruncateFromStart(startOffset);
    if (next === null) return false;
    this.writeIfPossible(next);
    return true;
  }

  /**
   * At open: forget epochs outside [logStartOffset, logEndOffset) (an epoch assigned but its batches
   * lost in a crash, or segments deleted). The file is rewritten when it can be; on a full disk (or
   * with no descriptor left) only memory changes, and the next open repairs the file again.
   */
  repairAtOpen(logStartOffset: bigint, logEndOffset: bigint): void {
    const list = new EpochEntries(this.entries.entries);
    const cutEnd = list.truncateFromEnd(logEndOffset);
    const cutStart = list.truncateFromStart(logStartOffset);
    if (cutEnd || cutStart) this.writeIfPossible(list.entries);
  }

  /** Write and take `entries`; when the disk is full (or no descriptor is left) only in memory. */
  private writeIfPossible(entries: readonly EpochEntry[]): void {
    try {
      this.write(entries);
    } catch (err) {
      if (!(isFlussError(err) && (isDiskFull(err) || isOutOfDescriptors(err)))) throw err;
    }
    this.entries.replace(entries);
  }

  private apply(next: EpochEntry[] | null): boolean {
    if (next === null) return false;
    this.write(next);
    this.entries.replace(next);
    return true;
  }

  private write(entries: readonly EpochEntry[]): void {
    const lines = [header, String(entries.length), ...entries.map((e) => `${e.epoch} ${e.startOffset}`)];
    try {
      writeFileAtomicSync(this.path, new TextEncoder().encode(`${lines.join("\n")}\n`), true);
    } catch (err) {
      throw storageError("write", this.path, err);
    }
  }
}

function corrupt(path: string, problem: string): FlussError {
  return new FlussError(
    Errors.CORRUPT_RECORD_EXCEPTION,
    `${path}: the leader epoch checkpoint ${problem}; nothing was changed`,
  );
}

function parse(path: string, bytes: Uint8Array): EpochEntry[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw corrupt(path, "is not text");
  }
  const lines = text.split("\n");
  if (lines.at(-1) !== "") throw corrupt(path, "does not end with a newline");
  lines.pop();
  if (lines[0] !== header) throw corrupt(path, "has an unknown header");
  const count = /^[0-9]{1,6}$/.test(lines[1] ?? "") ? Number(lines[1]) : -1;
  if (count < 0 || lines.length !== count + 2) throw corrupt(path, "has a wrong entry count");
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const m = /^([0-9]{1,10}) ([0-9]{1,20})$/.exec(line);
    if (m === null) throw corrupt(path, `has a malformed entry "${line.slice(0, 64)}"`);
    entries.push({ epoch: Number(m[1]), startOffset: BigInt(m[2]) });
  }
  if (!isWellFormed(entries)) throw corrupt(path, "has entries that do not strictly increase");
  return entries;
}
