// A purgatory of delayed operations (Fluss's DelayedOperationManager, Kafka's purgatory): a request
// that cannot be answered yet (a fetch below its min bytes; later, a produce waiting for its ISR)
// waits here, watched under the keys of the buckets it depends on, until an event on one of those
// keys lets it complete (`checkAndComplete`) or its deadline passes (a timer on the injected
// Scheduler, so tests run it on virtual time).
// Invariants: an operation completes exactly once — by its condition, its deadline or `cancel` —
// and is then gone from every key and its timer is cleared; `watch` checks the condition once
// after registering, so an event between the caller's last check and the registration is not
// missed; at most `operationsMax` operations wait at once: past that, `watch` completes the new
// one at once (its caller answers with what it has) instead of holding more.

import { assert, type Scheduler, type TimerHandle } from "@fluss-ts/common";

export interface DelayedOperation {
  /** True when the operation can complete now (checked on every event of a watched key). */
  tryComplete(): boolean;
  /** Runs once, when the operation completes for any reason. */
  onComplete(reason: "condition" | "expired" | "cancelled" | "full"): void;
}

interface Watched {
  readonly op: DelayedOperation;
  readonly keys: readonly string[];
  readonly timer: TimerHandle;
}

export class DelayedOperationManager<Op extends DelayedOperation = DelayedOperation> {
  private readonly scheduler: Scheduler;
  readonly operationsMax: number;
  private readonly byKey = new Map<string, Set<Watched>>();
  private readonly byOp = new Map<Op, Watched>();

  constructor(scheduler: Scheduler, operationsMax: number) {
    assert(operationsMax > 0, "a purgatory holds at least one operation");
    this.scheduler = scheduler;
    this.operationsMax = operationsMax;
  }

  /** Operations waiting now. */
  get size(): number {
    return this.byOp.size;
  }

  /**
   * Complete `op` now if it can, else hold it until an event on one of `keys` completes it or
   * `delayMs` passes. Returns true when it completed right away.
   */
  watch(op: Op, keys: readonly string[], delayMs: number): boolean {
    assert(!this.byOp.has(op), "an operation is watched once");
    if (op.tryComplete()) {
      op.onComplete("condition");
      return true;
    }
    if (this.byOp.size >= this.operationsMax) {
      op.onComplete("full");
      return true;
    }
    const timer = this.scheduler.setTimeout(() => this.complete(op, "expired"), Math.max(0, delayMs));
    timer.unref();
    const w: Watched = { op, keys, timer };
    this.byOp.set(op, w);
    for (const k of keys) {
      const set = this.byKey.get(k) ?? new Set<Watched>();
      set.add(w);
      this.byKey.set(k, set);
    }
    // An event may have happened between the first check and the registration.
    if (op.tryComplete()) this.complete(op, "condition");
    return false;
  }

  /** An event on `key`: complete every operation watching it whose condition now holds. */
  checkAndComplete(key: string): number {
    const set = this.byKey.get(key);
    if (!set) return 0;
    let completed = 0;
    for (const w of [...set]) {
      if (this.byOp.has(w.op as Op) && w.op.tryComplete()) {
        this.complete(w.op as Op, "condition");
        completed++;
      }
    }
    return completed;
  }

  /**
   * Watch the operation `make` builds (handing it the callback it must call when it completes)
   * under `keys` for at most `delayMs`, cancelled when `signal` aborts; resolves once it completed.
   */
  park(
    make: (done: () => void) => Op,
    keys: readonly string[],
    delayMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      const onAbort = (): void => this.cancel(op);
      const op = make(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.watch(op, keys, delayMs);
    });
  }

  /** Complete `op` without its condition (its request was aborted). No-op once completed. */
  cancel(op: Op): void {
    this.complete(op, "cancelled");
  }

  /** Complete every waiting operation (shutdown). */
  cancelAll(): void {
    for (const op of [...this.byOp.keys()]) this.complete(op, "cancelled");
  }

  private complete(op: Op, reason: "condition" | "expired" | "cancelled"): void {
    const w = this.byOp.get(op);
    if (!w) return;
    this.byOp.delete(op);
    this.scheduler.clearTimeout(w.timer);
    for (const k of w.keys) {
      const set = this.byKey.get(k);
      set?.delete(w);
      if (set?.size === 0) this.byKey.delete(k);
    }
    op.onComplete(reason);
  }
}
