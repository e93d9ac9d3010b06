// The asynchronous commits of a KV store (kv-store.ts), one at a time: writes queued while a
// commit runs wait and go into the next one, in order. A failed commit (disk full, I/O error) is
// not fatal: its writes go back to the head of the queue, `failure` reports it, and the commit is
// retried after retryMs (doubling up to COMMIT_RETRY_MS_MAX) until it succeeds. Because commits
// are serial and a retry carries every failed write before any later one, what is committed is
// always a prefix of what was queued: the store never skips a write.
// `commit` is the seam to lmdb: it queues the writes and the state as one transaction and
// resolves with null once committed, or with why not.
// Invariants: at most one commit runs; a caller's writes are never reordered; every enqueue()
// promise settles (true once committed, false when the queue closes first).

import { assert } from "@fluss-ts/common";

/** First wait before a failed commit is retried. */
export const COMMIT_RETRY_MS_DEFAULT = 200;
/** Longest wait between commit retries. */
export const COMMIT_RETRY_MS_MAX = 5_000;

/** A write as lmdb gets it: the key and the stored (sealed) value; null deletes. */
export interface StoredWrite {
  readonly key: Uint8Array;
  readonly stored: Uint8Array | null;
}

export interface CommitQueueOptions<S> {
  /** Queue `writes` then `state` as one transaction; resolves null once committed, else the cause. */
  readonly commit: (writes: readonly StoredWrite[], state: S) => Promise<unknown>;
  /** Told after each successful commit, with the state it wrote. */
  readonly committed: (state: S) => void;
  /** First wait before a failed commit is retried. */
  readonly retryMs?: number;
}

/** A caller waiting for the commit of everything up to `seq`. */
interface Waiter {
  readonly seq: number;
  /** Settle with false at the first failed commit instead of waiting for a retry. */
  readonly failFast: boolean;
  readonly resolve: (committed: boolean) => void;
}

export class CommitQueue<S> {
  private readonly o: CommitQueueOptions<S>;
  private readonly retryMsMin: number;
  /** Writes not yet handed to lmdb, in order (a failed commit's come first). */
  private waiting: StoredWrite[] = [];
  private target: S | null = null;
  private running: Promise<void> | null = null;
  /** Sequence number of the newest enqueue(), and of the newest committed one. */
  private queuedSeq = 0;
  private committedSeq = 0;
  private waiters: Waiter[] = [];
  private cause: unknown = null;
  private failed = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(o: CommitQueueOptions<S>) {
    this.o = o;
    this.retryMsMin = o.retryMs ?? COMMIT_RETRY_MS_DEFAULT;
    assert(this.retryMsMin > 0, "the commit retry delay is positive");
    this.retryMs = this.retryMsMin;
  }

  /** True while writes are queued or committing. */
  get pending(): boolean {
    return this.queuedSeq !== this.committedSeq;
  }

  /** Why the last commit failed, or null once a commit has succeeded since (or none failed). */
  get failure(): unknown {
    return this.failed ? this.cause : null;
  }

  /** Queue `writes` and then `state`; resolves true once committed, false if the queue closes first. */
  enqueue(writes: readonly StoredWrite[], state: S): Promise<boolean> {
    assert(!this.closed, "no writes after close");
    for (const w of writes) this.waiting.push(w);
    this.target = state;
    const seq = ++this.queuedSeq;
    const done = new Promise<boolean>((resolve) => this.waiters.push({ seq, failFast: false, resolve }));
    if (!this.failed) this.start();
    return done;
  }

  /**
   * Resolves true once every write queued so far has committed, false as soon as a commit fails
   * first (see failure; the writes are retried).
   */
  whenCommitted(): Promise<boolean> {
    const seq = this.queuedSeq;
    if (seq === this.committedSeq) return Promise.resolve(true);
    if (this.failed || this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => this.waiters.push({ seq, failFast: true, resolve }));
  }

  /** Retry a failed commit now instead of at its timer (no-op while one runs or none failed). */
  retryNow(): void {
    if (!this.failed || this.running !== null) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.start();
  }

  /** Hand everything waiting and the newest state to `commit`. */
  private start(): void {
    if (this.closed || this.running !== null || !this.pending) return;
    const writes = this.waiting;
    this.waiting = [];
    const seq = this.queuedSeq;
    const state = this.target as S;
    let outcome: Promise<unknown>;
    try {
      outcome = this.o.commit(writes, state);
    } catch (err) {
      outcome = Promise.resolve(err); // what was queued may still commit: the retry writes it again
    }
    this.running = outcome.then(
      (cause) => this.settled(writes, seq, state, cause),
      (err: unknown) => this.settled(writes, seq, state, err ?? new Error("commit failed")),
    );
  }

  private settled(writes: StoredWrite[], seq: number, state: S, cause: unknown): void {
    this.running = null;
    if (cause === null) {
      this.committedSeq = seq;
      this.failed = false;
      this.cause = null;
      this.retryMs = this.retryMsMin;
      this.o.committed(state);
      this.settleWaiters((w) => (w.seq <= seq ? true : null));
      this.start();
      return;
    }
    this.waiting = writes.concat(this.waiting);
    this.failed = true;
    this.cause = cause;
    this.settleWaiters((w) => (w.failFast ? false : null));
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(2 * this.retryMs, COMMIT_RETRY_MS_MAX);
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

  /** Stop: wait for the running commit, drop what is still queued, settle every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.running;
    this.waiting = [];
    this.settleWaiters(() => false);
  }
}
