// The machine's floor for event-loop delay: an empty Node process's monitorEventLoopDelay (1 ms
// timer, 1 ms subtracted as bench/server-probe.ts does) over a few seconds. Run it at the same
// nice level as the server while a workload runs: a server p99 no higher than this floor is CPU
// scheduling, not the server's code.
//   nice -n -10 npx node bench/loop-floor.ts [seconds, default 7]

import { monitorEventLoopDelay } from "node:perf_hooks";

const seconds = Number(process.argv[2] ?? 7);
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
setTimeout(() => {
  loop.disable();
  const ms = (ns: number): string => Math.max(0, ns / 1e6 - 1).toFixed(2);
  console.log(
    `empty process, ${seconds} s: event-loop delay p50 / p99 / max ` +
      `${ms(loop.percentile(50))} / ${ms(loop.percentile(99))} / ${ms(loop.max)} ms`,
  );
}, seconds * 1000);
