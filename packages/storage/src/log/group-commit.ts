// Group commit: appends that need durability wait here for "every byte below offset X is
// fdatasync'ed". At most one flush runs at a time; it covers everything appended before it
// started, so all appends that arrive while it runs share the next single flush. The first flush
// of a burst starts on a microtask, so appends issued in the same tick share it too.
// Invariants: `flushedOffset` only grows, except `truncate` lowers it and `restartAt` (a log replaced
// by an empty one) sets it; a flush that was running across either does not advance it (its target may name bytes that no longer exist).
// After a failed fdatasync nothing is known about the page cache (fsyncgate: Linux may have dropped
// the dirty pages and marked them clean, so a retried fdatasync can succeed without the data ever
// reaching the disk): the committer fails for good, `flushedOffset` stays where the last successful
// flush left it, and every waiter, present and future, gets the error the owner chose (onFailure).

import { assert, Errors, FlussError } from "@fluss-ts/common";
import { flushWaitersMax } from "./constants.ts";
import { storageError } from "./file-io.ts";

interface Waiter {
  readonly offset: bigint;
  readonly resolve: () => void;
  readonly reject: (err: FlussError) => void;
}

export interface GroupCommitOptions {
  readonly flushedOffset: bigint;
  /** The log end offset now: the target of the next flush. */
  readonly endOffset: () => bigint;
  /** Make every byte below `target` durable. */
  readonly flushTo: (target: bigint) => Promise<void>;
  /** Called after `flushedOffset` advanced. */
  readonly onFlushed: (flushedOffset: bigint) => void;
  /** A flush failed: returns the error every waiter, present and future, is rejected with. */
  readonly onFailure: (err: FlussError) => FlussError;
}

export class GroupCommit {
  private readonly options: GroupCommitOptions;
  private flushed: bigint;
  private running = false;
  private kickQueued = false;
  private epoch = 0;
  private failure: FlussError | null = null;
  private waiters: Waiter[] = [];
  private flushes = 0;

  constructor(options: GroupCommitOptions) {
    this.options = options;
    this.flushed = options.flushedOffset;
  }

  get flushedOffset(): bigint {
    return this.flushed;
  }

  /** Completed flushes so far. */
  get flushCount(): number {
    return this.flushes;
  }

  get failed(): FlussError | null {
    return this.failure;
  }

  /** Resolves once every byte below `offset` is durable. */
  waitFor(offset: bigint): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (offset <= this.flushed) return Promise.resolve();
    assert(this.waiters.length < flushWaitersMax, "group commit waiters are bounded");
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ offset, resolve, reject });
      this.scheduleKick();
    });
  }

  /** The log was cut at `offset`: nothing above it can become durable under its old offsets. */
  truncate(offset: bigint): void {
    this.epoch++;
    if (this.flushed > offset) this.flushed = offset;
    const err = new FlussError(
      Errors.LOG_STORAGE_EXCEPTION,
      `log truncated to ${offset} before the append was flushed`,
    );
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.offset > offset) w.reject(err);
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** The whole log was replaced by an empty one starting at `offset`: nothing older can be waited for. */
  restartAt(offset: bigint): void {
    this.truncate(-1n); // every waiter names bytes that no longer exist
    this.flushed = offset;
  }

  private scheduleKick(): void {
    if (this.kickQueued || this.running) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.waiters.length === 0 || this.failure !== null) return;
    this.running = true;
    const epoch = this.epoch;
    const target = this.options.endOffset();
    this.options.flushTo(target).then(
      () => this.completed(epoch, target),
      (err: unknown) => this.fail(storageError("flush", "log", err)),
    );
  }

  private completed(epoch: number, target: bigint): void {
    this.running = false;
    this.flushes++;
    if (epoch === this.epoch && target > this.flushed) {
      this.flushed = target;
      try {
        this.options.onFlushed(target);
      } catch (err) {
        this.fail(storageError("checkpoint", "log", err));
        return;
      }
    }
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.offset <= this.flushed) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
    this.kick();
  }

  private fail(err: FlussError): void {
    this.running = false;
    const failure = this.options.onFailure(err);
    this.failure = failure;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(failure);
  }
}
