// The asynchronous commits of a KV store (kv-store.ts). Each enqueue() becomes one commit handed
// to lmdb at once, so lmdb's write thread goes from one to the next without waiting for this
// thread (commits are pipelined). Commits are chained: commit v writes chain version v and only
// applies when the stored chain version is v - 1, so when one fails (disk full, I/O error) every
// later one already handed over is skipped, not applied after a gap: what is committed is always
// a prefix of what was enqueued, and the store never skips a write.
// After a failure the queue stops handing commits over; once every commit in flight has settled,
// the writes of the failed and skipped ones, then those enqueued since, are retried as one commit
// (chained to the last committed version) after retryMs, doubling up to COMMIT_RETRY_MS_MAX, until
// it succeeds; then the queue hands commits over again. `failure` tells why meanwhile.
// `commit` is the seam to lmdb: it queues the writes, the state and chain version `next` as one
// transaction that applies only at chain version `expect`; it resolves with null once committed,
// else with why not. The queue never looks inside a batch of writes (W): each enqueue() hands one
// over, a retry hands over the list of those not committed (kv-sealed-batch.ts SealedBatch).
// Invariants: commits settle in the order they were handed over; a caller's writes are never
// reordered; every enqueue() promise settles (true once committed, false when the queue closes
// first).

import { assert, type Scheduler, systemScheduler, type TimerHandle } from "@fluss-ts/common";

/** First wait before a failed commit is retried. */
export const COMMIT_RETRY_MS_DEFAULT = 200;
/** Longest wait between commit retries. */
export const COMMIT_RETRY_MS_MAX = 5_000;

export interface CommitQueueOptions<S, W> {
  /**
   * Queue the batches of `writes` in order, `state` and chain version `next` as one transaction
   * that applies only at chain version `expect`; resolves null once committed, else with why not.
   */
  readonly commit: (writes: readonly W[], state: S, expect: number, next: number) => Promise<unknown>;
  /** Told after each successful commit, with the state it wrote. */
  readonly committed: (state: S) => void;
  /** The chain version the store holds. */
  readonly version: number;
  /** First wait before a failed commit is retried. */
  readonly retryMs?: number;
  /** Timers of retries (default: the process's). */
  readonly scheduler?: Scheduler;
}

/** A caller waiting for the commit of everything up to `seq`. */
interface Waiter {
  readonly seq: number;
  /** Settle with false at the first failed commit instead of waiting for a retry. */
  readonly failFast: boolean;
  readonly resolve: (committed: boolean) => void;
}

/** A commit handed to lmdb and not settled. */
interface InFlight<S, W> {
  readonly writes: readonly W[];
  /** The newest enqueue() it carries. */
  readonly seq: number;
  readonly state: S;
  readonly version: number;
}

export class CommitQueue<S, W> {
  private readonly o: CommitQueueOptions<S, W>;
  private readonly retryMsMin: number;
  /** ok: commits are handed over as they come; failed: waiting to retry; retrying: the retry runs. */
  private mode: "ok" | "failed" | "retrying" = "ok";
  private inFlight: InFlight<S, W>[] = [];
  /** Writes to retry, in order: those of failed or skipped commits, then those held back since. */
  private held: W[] = [];
  /** Writes enqueued while not ok, after `held`. */
  private later: W[] = [];
  private target: S | null = null;
  private committedVersion: number;
  private nextVersion: number;
  /** Sequence number of the newest enqueue(), and of the newest committed one. */
  private queuedSeq = 0;
  private committedSeq = 0;
  private waiters: Waiter[] = [];
  private cause: unknown = null;
  private retryMs: number;
  private retryTimer: TimerHandle | null = null;
  private readonly scheduler: Scheduler;
  private drained: (() => void) | null = null;
  private closed = false;

  constructor(o: CommitQueueOptions<S, W>) {
    this.o = o;
    this.retryMsMin = o.retryMs ?? COMMIT_RETRY_MS_DEFAULT;
    this.scheduler = o.scheduler ?? systemScheduler;
    assert(this.retryMsMin > 0, "the commit retry delay is positive");
    this.retryMs = this.retryMsMin;
    this.committedVersion = o.version;
    this.nextVersion = o.version + 1;
  }

  /** True while writes are queued or committing. */
  get pending(): boolean {
    return this.queuedSeq !== this.committedSeq;
  }

  /** Why the last commit failed, or null once a commit has succeeded since (or none failed). */
  get failure(): unknown {
    return this.mode === "ok" ? null : this.cause;
  }

  /** Queue the batch `writes` and then `state`; resolves true once committed, false if the queue closes first. */
  enqueue(writes: W, state: S): Promise<boolean> {
    assert(!this.closed, "no writes after close");
    this.target = state;
    const seq = ++this.queuedSeq;
    const done = new Promise<boolean>((resolve) => this.waiters.push({ seq, failFast: false, resolve }));
    if (this.mode === "ok") this.send([writes], seq, state, this.nextVersion - 1);
    else this.later.push(writes);
    return done;
  }

  /**
   * Resolves true once every write queued so far has committed, false as soon as a commit fails
   * first (see failure; the writes are retried).
   */
  whenCommitted(): Promise<boolean> {
    const seq = this.queuedSeq;
    if (seq === this.committedSeq) return Promise.resolve(true);
    if (this.mode !== "ok" || this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => this.waiters.push({ seq, failFast: true, resolve }));
  }

  /** Retry a failed commit now instead of at its timer (no-op unless one waits to be retried). */
  retryNow(): void {
    if (this.mode !== "failed" || this.inFlight.length > 0) return;
    if (this.retryTimer !== null) this.scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retry();
  }

  /** Hand one commit to lmdb, chained to version `expect`. */
  private send(writes: readonly W[], seq: number, state: S, expect: number): void {
    const entry: InFlight<S, W> = { writes, seq, state, version: expect + 1 };
    this.nextVersion = entry.version + 1;
    this.inFlight.push(entry);
    let outcome: Promise<unknown>;
    try {
      outcome = this.o.commit(writes, state, expect, entry.version);
    } catch (err) {
      outcome = Promise.resolve(err); // what was queued may still commit: the retry writes it again
    }
    outcome.then(
      (cause) => this.settled(entry, cause),
      (err: unknown) => this.settled(entry, err ?? new Error("commit failed")),
    );
  }

  private settled(entry: InFlight<S, W>, cause: unknown): void {
    assert(this.inFlight[0] === entry, "commits settle in the order they were handed over");
    this.inFlight.shift();
    if (cause === null) {
      assert(this.mode !== "failed", "no commit applies after one that failed (chained versions)");
      this.committedVersion = entry.version;
      this.committedSeq = entry.seq;
      this.o.committed(entry.state);
      this.settleWaiters((w) => (w.seq <= entry.seq ? true : null));
      if (this.mode === "retrying") this.recovered();
    } else {
      if (this.mode !== "failed") {
        this.mode = "failed";
        this.cause = cause;
        this.settleWaiters((w) => (w.failFast ? false : null));
      }
      for (const w of entry.writes) this.held.push(w);
    }
    if (this.inFlight.length === 0) {
      this.drained?.();
      if (this.mode === "failed") this.scheduleRetry();
    }
  }

  /** The retry succeeded: hand over what was enqueued meanwhile. */
  private recovered(): void {
    this.mode = "ok";
    this.cause = null;
    this.retryMs = this.retryMsMin;
    if (this.queuedSeq !== this.committedSeq) {
      const writes = this.later;
      this.later = [];
      this.send(writes, this.queuedSeq, this.target as S, this.committedVersion);
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = this.scheduler.setTimeout(() => {
      this.retryTimer = null;
      this.retry();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(2 * this.retryMs, COMMIT_RETRY_MS_MAX);
  }

  /** Everything not committed, in order, as one commit chained to the committed version. */
  private retry(): void {
    if (this.closed || this.mode !== "failed" || this.inFlight.length > 0) return;
    const writes = this.held.concat(this.later);
    this.held = [];
    this.later = [];
    this.mode = "retrying";
    this.send(writes, this.queuedSeq, this.target as S, this.committedVersion);
  }

  /** Settle each waiter `verdict` gives an answer for; keep the others. */
  private settleWaiters(verdict: (w: Waiter) => boolean | null): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      const v = verdict(w);
      if (v === null) keep.push(w);
      else w.resolve(v);
    }
    this.waiters = keep;
  }

  /** Stop: wait for the commits in flight, drop what is still queued, settle every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) this.scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.inFlight.length > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    this.held = [];
    this.later = [];
    this.settleWaiters(() => false);
  }
}
