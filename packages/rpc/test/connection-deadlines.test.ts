// The read and idle deadlines of a server connection under a manual clock and manual timers.

import { ManualClock } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { ConnectionDeadlines } from "../src/connection-deadlines.ts";
import { ManualTimers } from "./helpers.ts";

function setup(idle = { now: true }) {
  const clock = new ManualClock(1000);
  const timers = new ManualTimers();
  const events: string[] = [];
  const d = new ConnectionDeadlines({
    readTimeoutMs: 100,
    idleMsMax: 1000,
    clock,
    timers,
    isIdle: () => idle.now,
    onReadTimeout: (startedMs) => events.push(`read timeout (started ${startedMs})`),
    onIdle: () => events.push("idle"),
  });
  /** Move time on and fire whatever timers are due by then. */
  const advance = (ms: number): void => {
    clock.advance(ms);
    for (let guard = 0; guard < 10; guard++) {
      const due = [...timers.pending.values()].filter((t) => t.ms <= ms);
      if (due.length === 0) return;
      timers.fire(ms);
    }
  };
  return { d, clock, timers, events, advance };
}

describe("ConnectionDeadlines", () => {
  it("times out a started frame after readTimeoutMs, counted from its start", () => {
    const { d, clock, events, timers } = setup({ now: false });
    clock.advance(10);
    d.frameStarted();
    d.frameStarted(); // already running: keeps its start
    clock.advance(99);
    expect(timers.fire(100)).toBe(1);
    expect(events).toEqual([]); // fired early (armed 100 ms ahead, 99 passed): re-armed
    clock.advance(1);
    timers.fire(100);
    expect(events).toEqual(["read timeout (started 1010)"]);
  });

  it("forgets the read deadline once the frame completes or reading pauses", () => {
    const { d, events, advance } = setup({ now: false });
    d.frameStarted();
    d.frameDone();
    advance(5000);
    expect(events).toEqual([]);
  });

  it("closes an idle connection after idleMsMax without traffic, not a busy one", () => {
    const idle = { now: false };
    const { d, events, advance } = setup(idle);
    advance(1500);
    expect(events).toEqual([]); // busy
    idle.now = true;
    d.touch();
    advance(999);
    expect(events).toEqual([]);
    advance(1000);
    expect(events).toEqual(["idle"]);
  });

  it("fires nothing after stop", () => {
    const { d, events, timers, clock } = setup();
    d.frameStarted();
    d.stop();
    clock.advance(10_000);
    timers.fire();
    expect(events).toEqual([]);
    expect(timers.pending.size).toBe(0);
  });
});
