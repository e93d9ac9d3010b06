// An in-memory model of one replica's log tablet with the storage rules replication relies on
// (packages/storage/src/log): batches of 1-3 offsets, an epoch list with storage's own rules
// (EpochEntries), the flushed offset (a crash loses what is above it), the high watermark (kept in a
// checkpoint at each flush), idempotent-writer state (the last 5 batches per writer, rebuilt from the
// log after a crash or a truncation), follower appends checked like LogTablet.appendAsFollower, and
// truncation at batch boundaries. It reports every high-watermark move and truncation to the
// simulator's invariant checker through `hooks`.

import { Errors, FlussError } from "@fluss-ts/common";
import { type EpochEndOffset, EpochEntries, type EpochEntry, isWellFormedEpochList } from "@fluss-ts/storage";
import type { ReplicaLog } from "../../../src/replication/types.ts";

/** One batch: `count` offsets from `base`, holding the client record `recordId`. */
export interface SimBatch {
  readonly base: bigint;
  readonly count: number;
  readonly epoch: number;
  readonly writerId: number;
  readonly seq: number;
  readonly recordId: number;
}

export interface LogHooks {
  onHighWatermark(log: SimLog, from: bigint, to: bigint): void;
  /** Called before the log is cut to `to` (its high watermark is still the old one). */
  onTruncate(log: SimLog, to: bigint, kind: "truncate" | "full" | "crash"): void;
}

const writerBatchesRetained = 5;

function endOf(b: SimBatch): bigint {
  return b.base + BigInt(b.count);
}

export class SimLog implements ReplicaLog {
  readonly name: string;
  private readonly hooks: LogHooks;
  batches: SimBatch[] = [];
  private start = 0n;
  private leo = 0n;
  private flushed = 0n;
  private hw = 0n;
  private hwCheckpoint = 0n;
  private readonly epochs = new EpochEntries();
  /** The highest epoch this replica led (durable: survives crashes). */
  private claimed = -1;
  private writers = new Map<number, SimBatch[]>();
  /** Bumped by truncations and crashes: a flush started before one does not count. */
  generation = 0;

  constructor(name: string, hooks: LogHooks) {
    this.name = name;
    this.hooks = hooks;
  }

  get logStartOffset(): bigint {
    return this.start;
  }
  get logEndOffset(): bigint {
    return this.leo;
  }
  get flushedOffset(): bigint {
    return this.flushed;
  }
  get highWatermark(): bigint {
    return this.hw;
  }
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }
  get epochList(): readonly EpochEntry[] {
    return this.epochs.entries;
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.leo);
  }

  epochEntriesFor(from: bigint, to: bigint): EpochEntry[] {
    return this.epochs.entriesFor(from, to);
  }

  updateHighWatermark(offset: bigint): bigint {
    const hw = offset < this.start ? this.start : offset > this.leo ? this.leo : offset;
    const before = this.hw;
    this.hw = hw;
    if (hw !== before) this.hooks.onHighWatermark(this, before, hw);
    return hw;
  }

  /** LogTablet.claimLeaderEpoch: never an epoch this replica claimed or holds already (durable). */
  claimLeaderEpoch(epoch: number): void {
    const held = Math.max(this.epochs.latestEpoch, this.claimed);
    if (epoch <= held)
      throw new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, `epoch ${epoch} <= ${held}`);
    this.epochs.assign(epoch, this.leo);
    this.claimed = epoch;
  }

  /** The retained batch of (writer, seq), or null; OUT_OF_ORDER_SEQUENCE for a gap. */
  checkWriter(writerId: number, seq: number): SimBatch | null {
    const retained = this.writers.get(writerId) ?? [];
    const dup = retained.find((b) => b.seq === seq);
    if (dup !== undefined) return dup;
    const last = retained.at(-1)?.seq ?? -1;
    if (seq !== last + 1) {
      throw new FlussError(Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION, `seq ${seq} after ${last}`);
    }
    return null;
  }

  /** The planted bug of the "resume-epoch" variant: an epoch is refused only when older. */
  resumeLeaderEpoch(epoch: number): void {
    if (epoch < this.epochs.latestEpoch) throw new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, "older");
    this.epochs.assign(epoch, this.leo);
    this.claimed = Math.max(this.claimed, epoch);
  }

  /** A leader append of one batch (after checkWriter said it is new). */
  appendAsLeader(b: Omit<SimBatch, "base">): SimBatch {
    if (b.epoch < Math.max(this.epochs.latestEpoch, this.claimed)) {
      throw new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, `append in epoch ${b.epoch}`);
    }
    if (b.epoch > this.epochs.latestEpoch) this.epochs.assign(b.epoch, this.leo);
    const batch = { ...b, base: this.leo };
    this.push(batch);
    return batch;
  }

  /** LogTablet.appendAsFollower's checks: continuity and no epoch older than the log's latest. */
  appendAsFollower(batches: readonly SimBatch[], epochs: readonly EpochEntry[]): void {
    if (!isWellFormedEpochList(epochs)) throw new FlussError(Errors.CORRUPT_MESSAGE, "epochs not increasing");
    this.epochs.truncateFromEnd(this.leo); // an epoch claimed but never written in
    let next = this.leo;
    for (const b of batches) {
      const epoch = epochOf(epochs, b.base);
      if (b.base !== next)
        throw new FlussError(Errors.CORRUPT_MESSAGE, `batch at ${b.base}, expected ${next}`);
      if (epoch >= 0 && epoch < this.epochs.latestEpoch) {
        throw new FlussError(Errors.CORRUPT_MESSAGE, `epoch ${epoch} after ${this.epochs.latestEpoch}`);
      }
      next = endOf(b);
    }
    for (const b of batches) {
      const epoch = epochOf(epochs, b.base);
      if (epoch >= 0 && epoch !== this.epochs.latestEpoch) this.epochs.assign(epoch, b.base);
      this.push(b);
    }
  }

  private push(b: SimBatch): void {
    this.batches.push(b);
    this.leo = endOf(b);
    this.recordWriter(b);
  }

  private recordWriter(b: SimBatch): void {
    const list = this.writers.get(b.writerId) ?? [];
    if (list.length >= writerBatchesRetained) list.shift();
    list.push(b);
    this.writers.set(b.writerId, list);
  }

  /** Batches from the one holding `from`, at most `batchesMax`. */
  read(from: bigint, batchesMax: number): SimBatch[] {
    const i = this.indexAtOrAfter(from);
    return this.batches.slice(i, i + batchesMax);
  }

  /** The batch starting at `offset`, if any. */
  batchAt(offset: bigint): SimBatch | undefined {
    const i = this.indexAtOrAfter(offset);
    const b = this.batches[i];
    return b !== undefined && b.base === offset ? b : undefined;
  }

  private indexAtOrAfter(offset: bigint): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (endOf(this.batches[mid]) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** LogTablet.truncateTo: cut at the start of the batch holding `offset`. */
  truncateTo(offset: bigint): bigint {
    if (offset >= this.leo) {
      this.epochs.truncateFromEnd(this.leo); // an epoch claimed but never written in
      return this.leo;
    }
    const i = this.indexAtOrAfter(offset);
    const end = this.batches[i]?.base ?? this.leo;
    this.hooks.onTruncate(this, end, "truncate");
    this.batches.length = i;
    this.cutTo(end);
    return end;
  }

  /** LogTablet.truncateFullyAndStartAt. */
  truncateFullyAndStartAt(offset: bigint): void {
    this.hooks.onTruncate(this, offset, "full");
    this.batches = [];
    this.start = offset;
    this.epochs.replace([]);
    this.cutTo(offset);
    this.flushed = offset;
    this.hw = offset;
  }

  private cutTo(end: bigint): void {
    this.leo = end;
    if (this.flushed > end) this.flushed = end;
    if (this.hw > end) this.hw = end;
    if (this.hwCheckpoint > end) this.hwCheckpoint = end;
    this.epochs.truncateFromEnd(end);
    this.generation++;
    this.rebuildWriters();
  }

  private rebuildWriters(): void {
    this.writers = new Map();
    for (const b of this.batches) this.recordWriter(b);
  }

  /** A flush that covered every offset below `target` completed. */
  flushedTo(target: bigint): void {
    if (target > this.flushed) this.flushed = target > this.leo ? this.leo : target;
    this.hwCheckpoint = this.hw < this.flushed ? this.hw : this.flushed;
  }

  /** kill -9 and reopen: what was not flushed is gone; the epoch file (always durable) is repaired. */
  crash(): void {
    const i = this.indexAtOrAfter(this.flushed);
    const end = i === 0 ? this.start : endOf(this.batches[i - 1]);
    this.hooks.onTruncate(this, end, "crash");
    this.batches.length = i;
    this.leo = end;
    this.flushed = end;
    this.hw = this.hwCheckpoint > end ? end : this.hwCheckpoint;
    this.epochs.truncateFromEnd(end);
    this.generation++;
    this.rebuildWriters();
  }
}

function epochOf(epochs: readonly EpochEntry[], offset: bigint): number {
  let epoch = -1;
  for (const e of epochs) {
    if (e.startOffset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}
