// Shared shapes and helpers of the workloads: the options parsed from the command line, the
// result of a throughput run and of a latency run, a pacer that sends at a fixed row rate, and a
// latency recorder. Every system (Fluss and each peer) is driven through these, so they measure
// the same thing the same way.

import { quantile } from "./table.ts";

export interface BenchOptions {
  /** Rows of the append workload (per system). */
  appendRows: number;
  /** Rows of the 20-column scan table. */
  scanRows: number;
  /** Seconds of paced producing in the latency workload (per system). */
  latencySeconds: number;
  /** Keys loaded into the primary-key table (upsert, lookup) and upserts in the measured stream. */
  kvKeys: number;
  /** Seconds of each measured lookup round (per system and mode). */
  lookupSeconds: number;
  /** Rows of each of the prune workload's two tables (partitioned; filtered). */
  pruneRows: number;
  /** Bytes written into the memory workload's log before it is scanned. */
  memoryLogBytes: number;
  quick: boolean;
  /** Print progress lines on stderr. */
  verbose: boolean;
}

export interface ThroughputResult {
  rows: number;
  /** Payload bytes (the same ~100 B rows for every system). */
  bytes: number;
  seconds: number;
}

export function rowsPerSec(r: { rows: number; seconds: number }): number {
  return r.rows / r.seconds;
}

export function bytesPerSec(r: ThroughputResult): number {
  return r.bytes / r.seconds;
}

export interface LatencyResult {
  /** Target rate (rows/s) and the rate actually produced. */
  targetRate: number;
  achievedRate: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Rows produced but never seen by the consumer before the deadline. */
  missing: number;
}

/** Summarise a follower's latencies (µs, ascending) for a paced run. */
export function latencyResult(
  targetRate: number,
  achievedRate: number,
  produced: number,
  seen: number,
  sorted: Float64Array,
): LatencyResult {
  return {
    targetRate,
    achievedRate,
    samples: sorted.length,
    p50Ms: quantile(sorted, 0.5) / 1000,
    p99Ms: quantile(sorted, 0.99) / 1000,
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! / 1000 : Number.NaN,
    missing: Math.max(0, produced - seen),
  };
}

/**
 * Produce at `rate` rows/s for `seconds`: on each tick (about every millisecond) call `send` with
 * the number of rows due since the start and the index of the first. `send` may return a promise
 * (backpressure); the pacer awaits it before the next tick. Resolves with what was produced.
 */
export async function paced(
  rate: number,
  seconds: number,
  send: (count: number, first: number) => Promise<void> | void,
): Promise<{ produced: number; seconds: number }> {
  const t0 = performance.now();
  const endMs = seconds * 1000;
  let sent = 0;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= endMs) break;
    const due = Math.floor((rate * elapsed) / 1000) - sent;
    if (due > 0) {
      await send(due, sent);
      sent += due;
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  return { produced: sent, seconds: (performance.now() - t0) / 1000 };
}

/** Run a timed section. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

export function log(opts: { verbose: boolean }, msg: string): void {
  if (opts.verbose) process.stderr.write(`[bench] ${msg}\n`);
}

/** A peer that could not run, with the reason (for the table's "skipped" cells). */
export interface Skipped {
  skipped: string;
}

export function isSkipped(x: unknown): x is Skipped {
  return typeof x === "object" && x !== null && "skipped" in x;
}

/** The outcome of one system's run: a value, an error, or skipped (peer not installed). */
export type Outcome<T> = { ok: T } | { error: string } | Skipped;

export async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    const e = err as Error;
    return { error: `${e.name}: ${e.message}` };
  }
}

export function outcomeCell<T>(o: Outcome<T>, fmt: (v: T) => string): string {
  if ("ok" in o) return fmt(o.ok);
  if ("skipped" in o) return "skipped";
  return "error";
}

/** Add a note for an error or a skip. */
export function outcomeNote<T>(
  notes: { note(s: string): void },
  system: string,
  what: string,
  o: Outcome<T>,
): void {
  if ("error" in o) notes.note(`${system} ${what} failed: ${o.error}`);
  if ("skipped" in o) notes.note(`${system} skipped: ${o.skipped}`);
}

export interface Best<T extends { rows: number; seconds: number }> {
  /** The round with the most rows per second. */
  best: T;
  /** The last round (its data is what the store holds now). */
  last: T;
  /** Rows per second of every round, in order. */
  rates: number[];
}

/** Run `rounds` rounds and keep the fastest (shared machines are noisy; the best is the least disturbed). */
export async function bestOf<T extends { rows: number; seconds: number }>(
  rounds: number,
  fn: (round: number) => Promise<T>,
): Promise<Best<T>> {
  let best: T | undefined;
  let last: T | undefined;
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    last = await fn(r);
    rates.push(last.rows / last.seconds);
    if (!best || last.rows / last.seconds > best.rows / best.seconds) best = last;
  }
  if (!best || !last) throw new Error("bestOf needs at least one round");
  return { best, last, rates };
}

/** Latencies (µs) of many operations, in a growable typed array. */
export class Samples {
  private buf = new Float64Array(1 << 20);
  length = 0;

  /** Record `us` for each of `count` operations that took it together (e.g. one pipeline). */
  add(us: number, count = 1): void {
    if (this.length + count > this.buf.length) {
      const next = new Float64Array(Math.max(this.buf.length * 2, this.length + count));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.fill(us, this.length, this.length + count);
    this.length += count;
  }

  sorted(): Float64Array {
    return this.buf.slice(0, this.length).sort();
  }
}

export interface ClosedLoopResult {
  /** Operations completed (lookups). */
  rows: number;
  seconds: number;
  callers: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * `callers` concurrent callers, each calling `op` in a loop (the next call as soon as the last
 * resolves) until `seconds` have passed. `op` returns how many operations it did (1 for a single
 * lookup, N for a pipeline of N); each of them is recorded with the call's latency.
 */
export async function closedLoop(
  callers: number,
  seconds: number,
  op: (caller: number) => Promise<number>,
): Promise<ClosedLoopResult> {
  const samples = new Samples();
  let ops = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const loop = async (caller: number): Promise<void> => {
    for (let t = performance.now(); t < deadline; ) {
      const n = await op(caller);
      const now = performance.now();
      samples.add((now - t) * 1000, n);
      ops += n;
      t = now;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, c) => loop(c)));
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = samples.sorted();
  return {
    rows: ops,
    seconds: elapsed,
    callers,
    p50Ms: quantile(sorted, 0.5) / 1000,
    p99Ms: quantile(sorted, 0.99) / 1000,
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! / 1000 : Number.NaN,
  };
}
