// Loaded into the `fluss local` process the benchmark starts (`node --import bench/server-probe.ts`,
// only when FLUSS_BENCH_PROBE_FILE is set): it watches the server's event loop with
// perf_hooks.monitorEventLoopDelay (a 1 ms timer; its histogram holds the time between ticks, so the
// delay reported is that minus the 1 ms) and its garbage-collection pauses, and on
// SIGUSR2 writes what it saw since the last SIGUSR2 to FLUSS_BENCH_PROBE_FILE (temp file + rename,
// with a sequence number) and starts over. The benchmark side is `ServerProbe` in probe.ts.
// Nothing here touches the server: it only observes the process it runs in.

import { renameSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

/** What one window saw; times in milliseconds. */
export interface ProbeWindow {
  seq: number;
  seconds: number;
  loopDelay: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number; samples: number };
  gc: { pauses: number; totalMs: number; maxMs: number; over1Ms: number };
}

const file = process.env.FLUSS_BENCH_PROBE_FILE;
if (file !== undefined && file !== "") {
  const resolutionMs = 1;
  const loop = monitorEventLoopDelay({ resolution: resolutionMs });
  loop.enable();
  let gc = { pauses: 0, totalMs: 0, maxMs: 0, over1Ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Minor and major pauses both stop the loop; incremental marking steps are counted too.
      gc.pauses++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if (e.duration > 1) gc.over1Ms++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  let seq = 0;
  let since = performance.now();
  process.on("SIGUSR2", () => {
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
    const window: ProbeWindow = {
      seq: ++seq,
      seconds: (performance.now() - since) / 1000,
      loopDelay: {
        p50Ms: ms(loop.percentile(50)),
        p99Ms: ms(loop.percentile(99)),
        p999Ms: ms(loop.percentile(99.9)),
        maxMs: ms(loop.max),
        samples: loop.count,
      },
      gc,
    };
    loop.reset();
    gc = { pauses: 0, totalMs: 0, maxMs: 0, over1Ms: 0 };
    since = performance.now();
    writeFileSync(`${file}.tmp`, JSON.stringify(window));
    renameSync(`${file}.tmp`, file);
  });
}
