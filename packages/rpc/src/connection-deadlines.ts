// The two deadlines of a server connection, on one lazily re-armed timer: a started request frame
// must arrive within `readTimeoutMs` (from `frameStarted`, which the connection calls when the head
// frame is partial and it is reading); a connection idle (the owner says when) with no traffic
// (`touch`) for `idleMsMax` is closed. Invariants: at most one timer is pending; activity never
// touches the timer (the deadline is re-checked when it fires), so a busy connection costs one
// clock read per chunk; after `stop` nothing fires.

import type { Clock } from "@fluss-ts/common";
import type { TimerHandle, Timers } from "./env.ts";

export interface DeadlineOptions {
  readonly readTimeoutMs: number;
  readonly idleMsMax: number;
  readonly clock: Clock;
  readonly timers: Timers;
  /** True when nothing is going on: no request in flight, no partial frame, nothing unsent. */
  isIdle(): boolean;
  /** The started frame did not arrive in time. */
  onReadTimeout(startedMs: number): void;
  /** Idle for `idleMsMax`. */
  onIdle(): void;
}

export class ConnectionDeadlines {
  readonly #o: DeadlineOptions;
  #frameStartMs: number | undefined;
  #lastActivityMs: number;
  #timer: TimerHandle | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(options: DeadlineOptions) {
    this.#o = options;
    this.#lastActivityMs = options.clock.nowMs();
    this.#arm(this.#lastActivityMs + options.idleMsMax);
  }

  /** Bytes moved in either direction. */
  touch(): void {
    this.#lastActivityMs = this.#o.clock.nowMs();
  }

  /** The head frame is partial and being read: its read deadline runs (kept if already running). */
  frameStarted(): void {
    if (this.#frameStartMs !== undefined) return;
    this.#frameStartMs = this.#o.clock.nowMs();
    this.#arm(this.#frameStartMs + this.#o.readTimeoutMs);
  }

  /** No partial frame is being read (it completed, or the server paused reading). */
  frameDone(): void {
    this.#frameStartMs = undefined;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Make sure the timer fires no later than `dueMs`. */
  #arm(dueMs: number): void {
    if (this.#stopped || dueMs >= this.#timerDueMs) return;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timerDueMs = dueMs;
    const delayMs = Math.max(0, dueMs - this.#o.clock.nowMs());
    this.#timer = this.#o.timers.setTimeout(() => this.#onTimer(), delayMs);
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
    if (this.#stopped) return;
    const now = this.#o.clock.nowMs();
    const started = this.#frameStartMs;
    const readDueMs = started === undefined ? undefined : started + this.#o.readTimeoutMs;
    if (started !== undefined && readDueMs !== undefined && now >= readDueMs) {
      this.#o.onReadTimeout(started);
      return;
    }
    const idleDueMs = this.#lastActivityMs + this.#o.idleMsMax;
    if (now >= idleDueMs && this.#o.isIdle()) {
      this.#o.onIdle();
      return;
    }
    // Not due (activity moved the deadline) or busy: look again at the next deadline.
    const nextIdleMs = now >= idleDueMs ? now + this.#o.idleMsMax : idleDueMs;
    this.#arm(readDueMs === undefined ? nextIdleMs : Math.min(readDueMs, nextIdleMs));
  }
}
