// The simulator's world: a seeded random source (pure-rand's xoroshiro128+, so a seed replays
// exactly) and virtual time driven by an event queue (a binary heap ordered by time, then by the
// order events were scheduled). Nothing here reads the real clock: a run is a pure function of its seed.

import type { Clock } from "@fluss-ts/common";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

export class Rng {
  private readonly g: ReturnType<typeof xoroshiro128plus>;

  constructor(seed: number) {
    this.g = xoroshiro128plus(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.g, min, max);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && uniformInt(this.g, 0, 999_999) < p * 1_000_000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

interface Event {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Virtual time: `schedule` callbacks, `runUntil` fires them in time order. */
export class World {
  nowMs = 0;
  private readonly heap: Event[] = [];
  private seq = 0;
  /** Events fired so far (a measure of a run's size). */
  fired = 0;
  readonly clock: Clock = { nowMs: () => this.nowMs };

  schedule(delayMs: number, run: () => void): void {
    this.push({ atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, run });
  }

  /** Fire events due up to `untilMs` (at most `eventsMax`); returns false when the budget ran out. */
  runUntil(untilMs: number, eventsMax: number): boolean {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.atMs > untilMs) break;
      if (this.fired >= eventsMax) return false;
      this.pop();
      this.nowMs = next.atMs;
      this.fired++;
      next.run();
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
    return true;
  }

  private less(a: Event, b: Event): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
