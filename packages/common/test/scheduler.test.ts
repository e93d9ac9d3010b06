import { describe, expect, it } from "vitest";
import { ManualClock, ManualScheduler, systemScheduler } from "../src/index.ts";

describe("ManualScheduler", () => {
  it("fires timers in time order as the clock moves, and never a cleared one", () => {
    const s = new ManualScheduler(new ManualClock(1000));
    const seen: string[] = [];
    s.setTimeout(() => seen.push(`b@${s.clock.nowMs()}`), 20);
    s.setTimeout(() => seen.push(`a@${s.clock.nowMs()}`), 10);
    const c = s.setTimeout(() => seen.push("cleared"), 15);
    s.clearTimeout(c);
    s.advance(5);
    expect(seen).toEqual([]);
    s.advance(100);
    expect(seen).toEqual(["a@1010", "b@1020"]);
    expect(s.clock.nowMs()).toBe(1105);
    expect(s.pendingCount).toBe(0);
  });

  it("fires intervals once per elapsed interval until cleared", () => {
    const s = new ManualScheduler();
    let n = 0;
    const t = s.setInterval(() => n++, 10);
    s.advance(35);
    expect(n).toBe(3);
    s.clearInterval(t);
    s.advance(100);
    expect(n).toBe(3);
  });

  it("runs timers set while firing when they fall due in the same advance, same-time ones in order", () => {
    const s = new ManualScheduler();
    const seen: number[] = [];
    s.setTimeout(() => {
      seen.push(1);
      s.setTimeout(() => seen.push(3), 0);
    }, 5);
    s.setTimeout(() => seen.push(2), 5);
    s.advance(5);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("stops a runaway chain of timers", () => {
    const s = new ManualScheduler(new ManualClock(), 100);
    const loop = (): void => {
      s.setTimeout(loop, 0);
    };
    s.setTimeout(loop, 0);
    expect(() => s.runDue()).toThrow(/more than 100 timers/);
  });

  it("systemScheduler runs real timers", async () => {
    const fired = await new Promise<boolean>((resolve) => {
      systemScheduler.setTimeout(() => resolve(true), 1);
    });
    expect(fired).toBe(true);
  });
});
