// `npm run sim -- [--seeds N] [--from S] [--seed S] [--variant NAME] [--trace-lines N] [--verbose]`:
// the replication simulator over many seeds (a random range unless --from is given; the range is
// printed so it can be rerun), or one seed with its trace. Exits 1 when any seed fails, printing
// each failing seed with the command that replays it.

import { parseArgs } from "node:util";
import { type RunResult, runSeed } from "./simulator.ts";
import { variants } from "./variants.ts";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "10000" },
    from: { type: "string" },
    seed: { type: "string" },
    variant: { type: "string", default: "correct" },
    "trace-lines": { type: "string", default: "200" },
    verbose: { type: "boolean", default: false },
  },
});

const variant = variants[values.variant];
if (variant === undefined) {
  console.error(`unknown variant ${values.variant}; known: ${Object.keys(variants).join(", ")}`);
  process.exit(2);
}

function replay(seed: number): string {
  const v = values.variant === "correct" ? "" : ` --variant ${values.variant}`;
  return `npm run sim -- --seed ${seed}${v}   (or FLUSS_SIM_SEED=${seed} npx vitest run packages/server/test/replication/simulation.test.ts)`;
}

if (values.seed !== undefined) {
  const seed = Number(values.seed);
  const r = runSeed(seed, { variant, traceLines: Number(values["trace-lines"]), verbose: values.verbose });
  console.log(r.trace.join("\n"));
  console.log(describe(r));
  process.exit(r.ok ? 0 : 1);
}

const count = Number(values.seeds);
const from = values.from !== undefined ? Number(values.from) : Math.floor(Math.random() * 2 ** 31);
console.log(`variant ${variant.name}: seeds ${from} to ${from + count - 1}`);
const started = performance.now();
const failed: RunResult[] = [];
let acknowledged = 0;
let faults = 0;
let events = 0;
for (let i = 0; i < count; i++) {
  const r = runSeed(from + i, { variant });
  acknowledged += r.acknowledged;
  faults += r.faults;
  events += r.events;
  if (!r.ok) {
    failed.push(r);
    console.log(`FAILED ${describe(r)}\n  replay: ${replay(r.seed)}`);
  }
  if ((i + 1) % 10_000 === 0) console.log(`${i + 1} seeds, ${failed.length} failed`);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${count} seeds in ${seconds.toFixed(1)} s: ${failed.length} failed; ${acknowledged} writes acknowledged, ${faults} faults injected, ${events} events`,
);
process.exit(failed.length === 0 ? 0 : 1);

function describe(r: RunResult): string {
  const shape = `${r.servers} servers, ${r.buckets} buckets, ${r.faults} faults, ${r.acknowledged} acknowledged, ${r.simulatedMs} ms simulated`;
  return `seed ${r.seed} (${shape}): ${r.ok ? "ok" : r.failure}`;
}
