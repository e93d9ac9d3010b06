// acks=all writes a leader has appended and is holding until they are committed (Fluss's delayed
// write operations): each waits for its end offset, checked whenever the high watermark or the ISR
// moves (`check`), and completes as its bucket's LeaderReplica says (done, or an error such as
// NOT_ENOUGH_REPLICAS_AFTER_APPEND). A write not committed within its request's timeout fails with
// REQUEST_TIME_OUT (retriable: the writer resends the same batch, deduplicated by its sequence);
// when the replica stops leading every waiting write fails with NOT_LEADER_OR_FOLLOWER (retriable:
// the writer resends it to the new leader).
// Invariants: a waiter settles exactly once and its timer is cleared; at most WAITERS_MAX wait per
// replica (each is a request in flight, already bounded by the RPC request budget; past the bound
// a write is refused with STORAGE_BACKPRESSURE, retriable).

import { Errors, FlussError, type Scheduler, type TimerHandle } from "@fluss-ts/common";
import type { AckState } from "../replication/leader-replica.ts";

/** acks=all writes one replica holds at once. */
export const ACK_WAITERS_MAX = 100_000;

interface Waiter {
  readonly endOffset: bigint;
  readonly resolve: () => void;
  readonly reject: (err: FlussError) => void;
  readonly timer: TimerHandle;
}

export class AckWaiters {
  private readonly scheduler: Scheduler;
  private readonly waiters = new Set<Waiter>();

  constructor(scheduler: Scheduler) {
    this.scheduler = scheduler;
  }

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves once `stateOf(endOffset)` is done; rejects with its error, on timeout or `failAll`. */
  wait(endOffset: bigint, timeoutMs: number, what: string): Promise<void> {
    if (this.waiters.size >= ACK_WAITERS_MAX) {
      return Promise.reject(
        new FlussError(Errors.STORAGE_BACKPRESSURE_EXCEPTION, `too many acks=all writes waiting on ${what}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        if (!this.waiters.delete(w)) return;
        reject(
          new FlussError(
            Errors.REQUEST_TIME_OUT,
            `${what}: the write up to offset ${endOffset} was not replicated to the in-sync replicas within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const w: Waiter = { endOffset, resolve, reject, timer };
      this.waiters.add(w);
    });
  }

  /** Settle every waiter whose write is no longer pending. */
  check(stateOf: (endOffset: bigint) => AckState): void {
    for (const w of [...this.waiters]) {
      const state = stateOf(w.endOffset);
      if (state === "pending") continue;
      this.settle(w, state === "done" ? null : state);
    }
  }

  /** Fail every waiter (leadership lost, replica stopped). */
  failAll(err: FlussError): void {
    for (const w of [...this.waiters]) this.settle(w, err);
  }

  private settle(w: Waiter, err: FlussError | null): void {
    if (!this.waiters.delete(w)) return;
    this.scheduler.clearTimeout(w.timer);
    if (err === null) w.resolve();
    else w.reject(err);
  }
}
