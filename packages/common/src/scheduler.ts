// Timers reach domain code only through this interface (with time through `Clock`), so a test can
// run a whole cluster on virtual time: `ManualScheduler` fires due timers, in order, when the test
// moves its clock. The shape matches the rpc package's `Timers` (setTimeout/clearTimeout), so a
// Scheduler is accepted wherever rpc asks for timers.
// Invariants: a cleared timer never fires; a one-shot timer fires at most once; an interval fires
// once per elapsed interval, never twice for the same instant; on `ManualScheduler`, timers due at
// the same time fire in the order they were set, and a timer set while firing that is already due
// fires in the same `advance` (so chains of zero-delay timers settle, bounded by `firesMax`).

import type { Clock } from "./clock.ts";
import { ManualClock } from "./clock.ts";

/** A timer set through a Scheduler. `unref` lets the process exit while it is pending. */
export interface TimerHandle {
  unref(): TimerHandle;
}

export interface Scheduler {
  /** Run `fn` once, `delayMs` from now. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Run `fn` every `intervalMs`, first `intervalMs` from now. */
  setInterval(fn: () => void, intervalMs: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /**
   * Run `fn` once the current turn of the event loop ends (after pending I/O callbacks), without
   * waiting for a timer. Optional: callers fall back to `setTimeout(fn, 0)` (ManualScheduler has
   * none, so on virtual time such work runs at the next `advance`/`runDue`).
   */
  setImmediate?(fn: () => void): void;
}

/** Node's timers (process time). */
export const systemScheduler: Scheduler = {
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
  setInterval: (fn, intervalMs) => setInterval(fn, intervalMs),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval> | undefined),
  setImmediate: (fn) => {
    setImmediate(fn);
  },
};

interface ManualTimer extends TimerHandle {
  readonly seq: number;
  dueMs: number;
  readonly intervalMs: number | null;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Timers that fire only when the test moves time (`advance`, `runDue`). */
export class ManualScheduler implements Scheduler {
  readonly clock: ManualClock;
  private readonly timers = new Set<ManualTimer>();
  private seq = 0;
  /** Fires one `advance` may run at most (a runaway chain of timers is a bug in the test). */
  readonly firesMax: number;

  constructor(clock: ManualClock = new ManualClock(), firesMax = 1_000_000) {
    this.clock = clock;
    this.firesMax = firesMax;
  }

  /** Pending timers (tests check nothing is left behind). */
  get pendingCount(): number {
    return this.timers.size;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, delayMs, null);
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    return this.add(fn, intervalMs, Math.max(1, intervalMs));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.cancel(handle);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.cancel(handle);
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way, in time order. */
  advance(ms: number): void {
    this.advanceTo(this.clock.nowMs() + ms);
  }

  /** Move time to `targetMs` (not backwards), firing due timers in time order. */
  advanceTo(targetMs: number): void {
    let fires = 0;
    for (;;) {
      const next = this.nextDue(targetMs);
      if (next === undefined) break;
      if (next.dueMs > this.clock.nowMs()) this.clock.set(next.dueMs);
      this.fire(next);
      if (++fires > this.firesMax) throw new Error(`more than ${this.firesMax} timers fired in one advance`);
    }
    if (targetMs > this.clock.nowMs()) this.clock.set(targetMs);
  }

  /** Fire the timers due now without moving time. */
  runDue(): void {
    this.advanceTo(this.clock.nowMs());
  }

  /** When the next timer is due (undefined: none pending). */
  nextDueMs(): number | undefined {
    return this.nextDue(Number.POSITIVE_INFINITY)?.dueMs;
  }

  private add(fn: () => void, delayMs: number, intervalMs: number | null): ManualTimer {
    const t: ManualTimer = {
      seq: this.seq++,
      dueMs: this.clock.nowMs() + Math.max(0, delayMs),
      intervalMs,
      fn,
      cancelled: false,
      unref: () => t,
    };
    this.timers.add(t);
    return t;
  }

  private cancel(handle: TimerHandle | undefined): void {
    const t = handle as ManualTimer | undefined;
    if (!t || !this.timers.has(t)) return;
    t.cancelled = true;
    this.timers.delete(t);
  }

  private nextDue(limitMs: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.dueMs > limitMs) continue;
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private fire(t: ManualTimer): void {
    if (t.intervalMs === null) this.timers.delete(t);
    else t.dueMs += t.intervalMs;
    t.fn();
  }
}

/** A clock and the timers that go with it: what a server or client is given. */
export interface TimeSource {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
}
