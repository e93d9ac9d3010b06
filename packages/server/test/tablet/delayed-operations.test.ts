// The purgatory of delayed operations on virtual time: an operation completes exactly once — when
// an event on a key it watches finds its condition true, when its deadline passes (a timer on the
// injected Scheduler), or when cancelled — and is then gone from every key; an event between the
// caller's check and the registration is not missed; a full purgatory answers new operations now.

import { ManualScheduler } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { type DelayedOperation, DelayedOperationManager } from "../../src/tablet/delayed-operations.ts";

class Op implements DelayedOperation {
  ready = false;
  checks = 0;
  readonly completions: string[] = [];
  tryComplete(): boolean {
    this.checks++;
    return this.ready;
  }
  onComplete(reason: string): void {
    this.completions.push(reason);
  }
}

describe("DelayedOperationManager", () => {
  it("completes an operation when an event on a watched key finds it ready, once", () => {
    const s = new ManualScheduler();
    const p = new DelayedOperationManager<Op>(s, 10);
    const op = new Op();
    expect(p.watch(op, ["a", "b"], 1000)).toBe(false);
    expect(p.checkAndComplete("a")).toBe(0);
    op.ready = true;
    expect(p.checkAndComplete("c")).toBe(0);
    expect(op.completions).toEqual([]);
    expect(p.checkAndComplete("b")).toBe(1);
    expect(op.completions).toEqual(["condition"]);
    expect(p.checkAndComplete("a")).toBe(0);
    s.advance(5000);
    expect(op.completions).toEqual(["condition"]);
    expect(p.size).toBe(0);
    expect(s.pendingCount).toBe(0);
  });

  it("expires an operation at its deadline on the scheduler's time", () => {
    const s = new ManualScheduler();
    const p = new DelayedOperationManager<Op>(s, 10);
    const op = new Op();
    p.watch(op, ["a"], 500);
    s.advance(499);
    expect(op.completions).toEqual([]);
    s.advance(1);
    expect(op.completions).toEqual(["expired"]);
    op.ready = true;
    expect(p.checkAndComplete("a")).toBe(0);
    expect(op.completions).toEqual(["expired"]);
  });

  it("completes at once an operation that is ready when watched, or becomes ready while registering", () => {
    const s = new ManualScheduler();
    const p = new DelayedOperationManager<Op>(s, 10);
    const ready = new Op();
    ready.ready = true;
    expect(p.watch(ready, ["a"], 100)).toBe(true);
    expect(ready.completions).toEqual(["condition"]);
    // Ready on the second check (the event came between the caller's read and the watch).
    const racing = new (class extends Op {
      override tryComplete(): boolean {
        this.checks++;
        return this.checks >= 2;
      }
    })();
    expect(p.watch(racing, ["a"], 100)).toBe(false);
    expect(racing.completions).toEqual(["condition"]);
    expect(p.size).toBe(0);
  });

  it("answers new operations at once when full, and cancels on request or shutdown", () => {
    const s = new ManualScheduler();
    const p = new DelayedOperationManager<Op>(s, 2);
    const [a, b, c] = [new Op(), new Op(), new Op()];
    p.watch(a, ["k"], 100);
    p.watch(b, ["k"], 100);
    expect(p.watch(c, ["k"], 100)).toBe(true);
    expect(c.completions).toEqual(["full"]);
    p.cancel(a);
    expect(a.completions).toEqual(["cancelled"]);
    p.cancelAll();
    expect(b.completions).toEqual(["cancelled"]);
    expect(p.size).toBe(0);
    expect(s.pendingCount).toBe(0);
  });
});
