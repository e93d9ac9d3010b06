// A short fault run in the default suite (the full runs are `npm run test:fault`): the same
// cluster, load, nemesis and checker as test/fault/cluster.fault.ts, for about 20 s of faults.
// FLUSS_FAULT_SEED replays a seed here too. Skipped with a message when ZooKeeper is missing
// (a failure with FLUSS_REQUIRE_ZOOKEEPER=1).

import { describe, it } from "vitest";
import { zooKeeperSkipReason } from "../helpers/zookeeper.ts";
import { expectClean } from "./expect-clean.ts";
import { runFaultRun, summary } from "./harness/run.ts";

const skip = zooKeeperSkipReason();
const seed =
  process.env.FLUSS_FAULT_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FLUSS_FAULT_SEED);
const rf = process.env.FLUSS_FAULT_RF === "1" ? 1 : 3;

describe.skipIf(skip !== null)(`a short fault run${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it(`loses, duplicates and diverges nothing (seed ${seed})`, { timeout: 240_000 }, async () => {
    const r = await runFaultRun({
      seed,
      durationMs: 20_000,
      faultsMax: 12,
      replicationFactor: rf,
      rowsPerSecond: 200,
      buckets: 3,
    });
    console.log(summary(r));
    expectClean(r);
  });
});
