// The leader epochs of one bucket's log as (epoch, start offset) entries (Kafka's LeaderEpochFileCache
// rules, KIP-101/KIP-279; Fluss has none yet, see apache/fluss#673): entry (e, s) says the batches
// from offset s on, up to the next entry's start, were written by the leader of epoch e. Pure and in
// memory: leader-epoch-cache.ts persists it for a log tablet; the replication simulator uses it as is.
// Invariants: epochs and start offsets both strictly increase along the entries; at most
// `leaderEpochEntriesMax` entries (one per leader change that wrote data within the retained log).
// Rules:
//  - assign(e, s) is a no-op when e is the latest epoch and s is not lower than its start; otherwise
//    every entry with epoch >= e or start >= s is removed first, then (e, s) is added;
//  - endOffsetFor(e) answers OffsetForLeaderEpoch: the largest epoch <= e this log knows and the
//    offset where it ends (the next entry's start, or the log end for the latest epoch); e older
//    than every entry gives (e, first start); e newer than every entry, or none known, gives
//    (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
//  - truncateFromEnd(o) drops entries starting at or after o (the log was cut at o);
//  - truncateFromStart(o) drops entries wholly below o and moves the one holding o to start at o.

import { assert } from "@fluss-ts/common";

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: bigint;
}

/** Answer of an end-offset-for-epoch query (OffsetForLeaderEpoch). */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: bigint;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;
/** A bound on entries: one per leader change that wrote data within the retained log. */
export const leaderEpochEntriesMax = 100_000;

const epochMax = 2 ** 31 - 1;

export class EpochEntries {
  private list: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    assertWellFormed(entries);
    this.list = [...entries];
  }

  get entries(): readonly EpochEntry[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** The latest epoch, or UNDEFINED_EPOCH when none is known. */
  get latestEpoch(): number {
    return this.list.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /** The epoch that wrote `offset` (the entry starting at or before it), or UNDEFINED_EPOCH. */
  epochForOffset(offset: bigint): number {
    const i = this.floorIndexByOffset(offset);
    return i < 0 ? UNDEFINED_EPOCH : this.list[i].epoch;
  }

  /** Entries after `assign(epoch, startOffset)`, or null when it changes nothing. */
  planAssign(epoch: number, startOffset: bigint): EpochEntry[] | null {
    assert(
      Number.isInteger(epoch) && epoch >= 0 && epoch <= epochMax,
      "a leader epoch is a non-negative int32",
    );
    assert(startOffset >= 0n, "an epoch starts at a valid offset");
    const last = this.list.at(-1);
    if (last !== undefined && last.epoch === epoch && startOffset >= last.startOffset) return null;
    const kept = this.list.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    kept.push({ epoch, startOffset });
    assert(kept.length <= leaderEpochEntriesMax, "leader epoch entries are bounded");
    return kept;
  }

  assign(epoch: number, startOffset: bigint): boolean {
    const next = this.planAssign(epoch, startOffset);
    if (next === null) return false;
    this.list = next;
    return true;
  }

  /** Entries after `truncateFromEnd(endOffset)`, or null when it changes nothing. */
  planTruncateFromEnd(endOffset: bigint): EpochEntry[] | null {
    const last = this.list.at(-1);
    if (last === undefined || last.startOffset < endOffset) return null;
    return this.list.filter((e) => e.startOffset < endOffset);
  }

  truncateFromEnd(endOffset: bigint): boolean {
    const next = this.planTruncateFromEnd(endOffset);
    if (next === null) return false;
    this.list = next;
    return true;
  }

  /** Entries after `truncateFromStart(startOffset)`, or null when it changes nothing. */
  planTruncateFromStart(startOffset: bigint): EpochEntry[] | null {
    const i = this.floorIndexByOffset(startOffset);
    if (i < 0 || (i === 0 && this.list[0].startOffset === startOffset)) return null;
    const rest = this.list.slice(i + 1);
    return [{ epoch: this.list[i].epoch, startOffset }, ...rest];
  }

  truncateFromStart(startOffset: bigint): boolean {
    const next = this.planTruncateFromStart(startOffset);
    if (next === null) return false;
    this.list = next;
    return true;
  }

  replace(entries: readonly EpochEntry[]): void {
    assertWellFormed(entries);
    this.list = [...entries];
  }

  /** OffsetForLeaderEpoch on a log ending at `logEndOffset` (see the file comment). */
  endOffsetFor(epoch: number, logEndOffset: bigint): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (epoch === UNDEFINED_EPOCH || this.list.length === 0) return undefinedAnswer;
    if (epoch === this.latestEpoch) return { epoch, endOffset: logEndOffset };
    const higher = this.list.findIndex((e) => e.epoch > epoch);
    if (higher < 0) return undefinedAnswer; // newer than anything this log knows
    const endOffset = this.list[higher].startOffset;
    if (higher === 0) return { epoch, endOffset };
    return { epoch: this.list[higher - 1].epoch, endOffset };
  }

  /**
   * The entries a follower needs to label batches in [fromOffset, toOffset): the entry holding
   * `fromOffset` (moved to start there) and every entry starting inside the range.
   */
  entriesFor(fromOffset: bigint, toOffset: bigint): EpochEntry[] {
    const out: EpochEntry[] = [];
    const i = this.floorIndexByOffset(fromOffset);
    if (i >= 0) out.push({ epoch: this.list[i].epoch, startOffset: fromOffset });
    for (let k = i + 1; k < this.list.length && this.list[k].startOffset < toOffset; k++) {
      out.push(this.list[k]);
    }
    return out;
  }

  private floorIndexByOffset(offset: bigint): number {
    let lo = 0;
    let hi = this.list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid].startOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}

/** True when epochs and start offsets strictly increase (what a well-formed list looks like). */
export function isWellFormed(entries: readonly EpochEntry[]): boolean {
  if (entries.length > leaderEpochEntriesMax) return false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!Number.isInteger(e.epoch) || e.epoch < 0 || e.epoch > epochMax || e.startOffset < 0n) return false;
    const prev = entries[i - 1];
    if (prev !== undefined && (e.epoch <= prev.epoch || e.startOffset <= prev.startOffset)) return false;
  }
  return true;
}

function assertWellFormed(entries: readonly EpochEntry[]): void {
  assert(isWellFormed(entries), "leader epoch entries strictly increase in epoch and start offset");
}
