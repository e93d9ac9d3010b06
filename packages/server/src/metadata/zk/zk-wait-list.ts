// Callers waiting for something with a deadline (a free request slot, a connected session): woken
// one at a time or all at once; a caller whose deadline passes first is removed and rejected with
// the error `onTimeout` makes. Timers go through the injected Scheduler.

import type { Clock, Scheduler } from "@fluss-ts/common";

interface Waiter {
  wake(): void;
}

export class WaitList {
  private readonly waiters: Waiter[] = [];
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly onTimeout: () => Error;

  constructor(clock: Clock, scheduler: Scheduler, onTimeout: () => Error) {
    this.clock = clock;
    this.scheduler = scheduler;
    this.onTimeout = onTimeout;
  }

  /** Resolves when woken; rejects with `onTimeout()` once `deadlineMs` passes. */
  wait(deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.scheduler.setTimeout(
        () => {
          const at = this.waiters.indexOf(w);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(this.onTimeout());
        },
        Math.max(0, deadlineMs - this.clock.nowMs()),
      );
      const w: Waiter = {
        wake: () => {
          this.scheduler.clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(w);
    });
  }

  wakeOne(): void {
    this.waiters.shift()?.wake();
  }

  wakeAll(): void {
    for (const w of this.waiters.splice(0)) w.wake();
  }
}
