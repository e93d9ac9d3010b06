// Optional server-side probe for profiling socket writes (not loaded by default): times every
// net.Socket write() and uncork() on the main thread (with cork, a whole batch's system call
// happens in uncork) and, every second, writes the histogram so far (count, p50 / p99 / max in
// ms, bytes) as JSON to the file named by FLUSS_WRITE_PROBE_FILE (temp file + rename). Load it in
// the bench's server with
//   FLUSS_WRITE_PROBE_FILE=/tmp/w.json \
//   FLUSS_BENCH_SERVER_NODE_ARGS="--import /abs/path/bench/write-probe.ts" npm run bench -- --only mixed
// It imports nothing from the repository, so it loads into any checkout's server (an A/B worktree).

import { renameSync, writeFileSync } from "node:fs";
import net from "node:net";
import { createHistogram } from "node:perf_hooks";

const file = process.env.FLUSS_WRITE_PROBE_FILE;
if (file !== undefined && file !== "") {
  const hist = createHistogram();
  let bytes = 0;
  const timed = <A extends unknown[], R>(fn: (this: net.Socket, ...a: A) => R) =>
    function (this: net.Socket, ...args: A): R {
      const t0 = process.hrtime.bigint();
      try {
        return fn.apply(this, args);
      } finally {
        hist.record(Number(process.hrtime.bigint() - t0) || 1);
      }
    };
  const write = net.Socket.prototype.write as (this: net.Socket, ...a: unknown[]) => boolean;
  net.Socket.prototype.write = timed(function (this: net.Socket, ...args: unknown[]) {
    const chunk = args[0];
    if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
    return write.apply(this, args);
  }) as typeof net.Socket.prototype.write;
  net.Socket.prototype.uncork = timed(net.Socket.prototype.uncork);
  const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;
  const timer = setInterval(() => {
    const out = {
      count: hist.count,
      p50Ms: ms(hist.percentile(50)),
      p99Ms: ms(hist.percentile(99)),
      p999Ms: ms(hist.percentile(99.9)),
      maxMs: ms(hist.max),
      overOneMs: countOver(hist, 1e6),
      bytes,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(out));
    renameSync(`${file}.tmp`, file);
  }, 1000);
  timer.unref();
}

/** Recorded values above `ns` (from the histogram's percentiles, to 0.1% of the count). */
function countOver(hist: ReturnType<typeof createHistogram>, ns: number): number {
  let over = 0;
  for (const [pct, value] of hist.percentiles) if (value > ns) over = Math.max(over, 100 - pct);
  return Math.round((over / 100) * hist.count);
}
