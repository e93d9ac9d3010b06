// The leader-epoch cache of a log tablet (Kafka's LeaderEpochFileCache): the tablet's epoch entries
// (epoch-entries.ts) persisted in `leader-epoch.checkpoint` in the tablet directory:
//   "fluss-ts-leader-epochs v1\nclaimed <epoch>\n<count>\n" then "<epoch> <start offset>\n" per entry.
// `claimed` is the highest epoch this replica ever took leadership of (-1: none). A replica never
// claims an epoch again after a restart: a leader that crashed may have lost unflushed batches that
// followers already hold, and writing other batches at the same offsets in the same epoch would be a
// divergence no epoch comparison can see. (Kafka gets the same from its broker epoch.)
// Every change is written atomically and durably (temp file, fdatasync, rename, directory fsync)
// before it takes effect in memory, so the file never names fewer epochs than the batches on disk
// carry: an epoch is assigned before the first batch of that epoch is written. Entries naming
// offsets past the log end (an epoch assigned but its batch lost in a crash) are dropped at open;
// the claimed epoch is never dropped.
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
const fileBytesMax = 96 + 40 * 100_000;

export class LeaderEpochCache {
  readonly path: string;
  private readonly entries: EpochEntries;
  private claimed: number;

  private constructor(path: string, entries: EpochEntries, claimed: number) {
    this.path = path;
    this.entries = entries;
    this.claimed = claimed;
  }

  /** Load the cache of the tablet in `dir`; throws CORRUPT_RECORD_EXCEPTION for a garbled file. */
  static load(dir: string): LeaderEpochCache {
    const path = join(dir, leaderEpochFileName);
    const bytes = readSmallFileSync(path, fileBytesMax);
    const parsed = bytes === null ? { claimed: -1, entries: [] } : parse(path, bytes);
    return new LeaderEpochCache(path, new EpochEntries(parsed.entries), parsed.claimed);
  }

  get all(): readonly EpochEntry[] {
    return this.entries.entries;
  }

  get latestEpoch(): number {
    return this.entries.latestEpoch;
  }

  /** The highest epoch this replica took leadership of (-1: none). */
  get claimedEpoch(): number {
    return this.claimed;
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
    return this.apply(this.entries.planAssign(epoch, startOffset), this.claimed);
  }

  /**
   * Take leadership of `epoch` from `startOffset` on: it becomes the claimed epoch and the latest
   * entry, in one durable write. The caller has checked it is newer than every claimed and held epoch.
   */
  claim(epoch: number, startOffset: bigint): void {
    const next = this.entries.planAssign(epoch, startOffset) ?? [...this.entries.entries];
    this.apply(next, Math.max(this.claimed, epoch));
  }

  /** Forget epochs starting at or after `endOffset` (the log was cut there). */
  truncateFromEnd(endOffset: bigint): boolean {
    return this.apply(this.entries.planTruncateFromEnd(endOffset), this.claimed);
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
      this.write(entries, this.claimed);
    } catch (err) {
      if (!(isFlussError(err) && (isDiskFull(err) || isOutOfDescriptors(err)))) throw err;
    }
    this.entries.replace(entries);
  }

  private apply(next: readonly EpochEntry[] | null, claimed: number): boolean {
    if (next === null && claimed === this.claimed) return false;
    const entries = next ?? this.entries.entries;
    this.write(entries, claimed);
    this.entries.replace(entries);
    this.claimed = claimed;
    return true;
  }

  private write(entries: readonly EpochEntry[], claimed: number): void {
    const lines = [
      header,
      `claimed ${claimed}`,
      String(entries.length),
      ...entries.map((e) => `${e.epoch} ${e.startOffset}`),
    ];
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

function parse(path: string, bytes: Uint8Array): { claimed: number; entries: EpochEntry[] } {
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
  const claimedMatch = /^claimed (-1|[0-9]{1,10})$/.exec(lines[1] ?? "");
  if (claimedMatch === null) throw corrupt(path, "has no claimed epoch");
  const count = /^[0-9]{1,6}$/.test(lines[2] ?? "") ? Number(lines[2]) : -1;
  if (count < 0 || lines.length !== count + 3) throw corrupt(path, "has a wrong entry count");
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(3)) {
    const m = /^([0-9]{1,10}) ([0-9]{1,20})$/.exec(line);
    if (m === null) throw corrupt(path, `has a malformed entry "${line.slice(0, 64)}"`);
    entries.push({ epoch: Number(m[1]), startOffset: BigInt(m[2]) });
  }
  if (!isWellFormed(entries)) throw corrupt(path, "has entries that do not strictly increase");
  return { claimed: Number(claimedMatch[1]), entries };
}
