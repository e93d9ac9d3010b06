// The server-wide budget of bytes held for incoming requests (Kafka's memory pool behind
// queued.max.request.bytes). A connection reserves a frame's whole declared size as soon as the
// frame's length prefix has arrived, and releases it once the request was answered (or the
// connection closed); a connection that cannot reserve stops reading and waits. Reserving the
// whole frame up front means a frame being received can always complete: partial frames never
// deadlock each other over the last bytes of the budget. Invariants: 0 <= usedBytes <= bytesMax;
// a reservation is at most bytesMax (so it fits once the others are released); waiters are retried
// in arrival order whenever bytes are released, each taking what fits (a small request is not
// held up behind a large one that does not fit yet).

import { assert, Errors, FlussError } from "@fluss-ts/common";

/** A connection waiting for bytes; `retry` reserves if it can and says whether it still waits. */
export interface BudgetWaiter {
  retry(): boolean;
}

export class RequestBufferBudget {
  readonly bytesMax: number;
  #usedBytes = 0;
  #peakBytes = 0;
  readonly #waiters = new Set<BudgetWaiter>();
  #waking = false;
  #wakeAgain = false;

  constructor(bytesMax: number) {
    if (!Number.isSafeInteger(bytesMax) || bytesMax <= 0) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `request buffer bytesMax ${bytesMax} must be a positive integer`,
      );
    }
    this.bytesMax = bytesMax;
  }

  /** Bytes reserved now. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** The most bytes ever reserved at once. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Connections waiting for bytes. */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** Reserve `bytes` if they fit now. */
  tryReserve(bytes: number): boolean {
    assert(Number.isSafeInteger(bytes) && bytes > 0, `reservation of ${bytes} bytes`);
    assert(bytes <= this.bytesMax, `reservation of ${bytes} bytes over the budget of ${this.bytesMax}`);
    if (this.#usedBytes + bytes > this.bytesMax) return false;
    this.#usedBytes += bytes;
    if (this.#usedBytes > this.#peakBytes) this.#peakBytes = this.#usedBytes;
    return true;
  }

  /** Give `bytes` back and let waiters try again. */
  release(bytes: number): void {
    assert(
      Number.isSafeInteger(bytes) && bytes > 0 && bytes <= this.#usedBytes,
      `release of ${bytes} bytes with ${this.#usedBytes} reserved`,
    );
    this.#usedBytes -= bytes;
    this.#wake();
  }

  /** Retry `waiter` on every release until it stops waiting or is cancelled. Idempotent. */
  wait(waiter: BudgetWaiter): void {
    this.#waiters.add(waiter);
  }

  cancel(waiter: BudgetWaiter): void {
    this.#waiters.delete(waiter);
  }

  /** Retry waiters in order; a release during a retry (a synchronous answer) loops once more. */
  #wake(): void {
    if (this.#waking) {
      this.#wakeAgain = true;
      return;
    }
    this.#waking = true;
    try {
      do {
        this.#wakeAgain = false;
        for (const w of [...this.#waiters]) {
          if (this.#usedBytes >= this.bytesMax) break;
          if (!this.#waiters.has(w)) continue;
          if (!w.retry()) this.#waiters.delete(w);
        }
      } while (this.#wakeAgain);
    } finally {
      this.#waking = false;
    }
  }
}
