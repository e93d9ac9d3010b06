// The deterministic simulation of replication (sim/simulator.ts): thousands of seeded runs of a
// cluster under crashes, pauses, partitions, message loss, duplication and reordering, each checked
// for the safety invariants and for convergence once healed. A failing seed is printed with the
// command that replays it (FLUSS_SIM_SEED=<seed> reruns just that seed and prints its trace); a
// longer run is `npm run sim -- --seeds 100000`. The simulator must also catch planted bugs.

import { describe, expect, it } from "vitest";
import { type RunResult, runSeed } from "./sim/simulator.ts";
import { variants } from "./sim/variants.ts";

const only = process.env.FLUSS_SIM_SEED;
const seedCount = Number(process.env.FLUSS_SIM_SEEDS ?? 2_000);
const firstSeed = Number(process.env.FLUSS_SIM_FROM ?? 1);

function report(r: RunResult): string {
  return `seed ${r.seed}: ${r.failure}\n  replay: FLUSS_SIM_SEED=${r.seed} npx vitest run packages/server/test/replication/simulation.test.ts`;
}

describe("replication simulation", () => {
  it(only !== undefined ? `seed ${only}` : `${seedCount} seeds from ${firstSeed}`, () => {
    const seeds =
      only !== undefined ? [Number(only)] : Array.from({ length: seedCount }, (_, i) => firstSeed + i);
    const failures: RunResult[] = [];
    let acknowledged = 0;
    let faults = 0;
    for (const seed of seeds) {
      const r = runSeed(seed, { traceLines: only !== undefined ? 500 : 0, verbose: only !== undefined });
      acknowledged += r.acknowledged;
      faults += r.faults;
      if (only !== undefined) console.log(`${r.trace.join("\n")}\n${r.ok ? "ok" : r.failure}`);
      if (!r.ok) failures.push(r);
    }
    for (const f of failures) console.error(report(f));
    expect(failures.map((f) => `seed ${f.seed}: ${f.failure}`)).toEqual([]);
    expect(acknowledged).toBeGreaterThan(seeds.length); // the runs did write
    if (only === undefined) expect(faults).toBeGreaterThan(seeds.length); // and did inject faults
  });

  it("replays a seed exactly", () => {
    const a = runSeed(4242, { traceLines: 100_000, verbose: true });
    const b = runSeed(4242, { traceLines: 100_000, verbose: true });
    expect(a.trace.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  // Each planted bug must fail some seed within this many (each is found in far fewer today).
  const bugSeedsMax = 3_000;
  for (const name of ["hw-max", "no-truncation", "hw-counts-unflushed", "resume-epoch"]) {
    it(`catches the planted ${name}: ${variants[name].description}`, () => {
      let caught: RunResult | null = null;
      for (let seed = 1; seed <= bugSeedsMax && caught === null; seed++) {
        const r = runSeed(seed, { variant: variants[name] });
        if (!r.ok) caught = r;
      }
      expect(caught, `no seed up to ${bugSeedsMax} caught ${name}`).not.toBeNull();
      console.log(`${name}: caught by seed ${caught?.seed}: ${caught?.failure}`);
    });
  }
});
