// The fault suite (`npm run test:fault`): seeded fault runs (harness/run.ts) against a cluster of
// three tablet servers and two coordinators as processes on a real ZooKeeper, under a continuous
// append + upsert load, each checked for lost, duplicated, moved and out-of-order rows, wrong
// lookups, divergent replicas and crashed servers. Every run prints its summary line and its seed.
// Environment: FLUSS_FAULT_SEED=<n> replays one seed; FLUSS_FAULT_RUNS (default 3),
// FLUSS_FAULT_DURATION_MS (fault time per run, default 75000), FLUSS_FAULT_FAULTS (faults per run at
// most, default 45), FLUSS_FAULT_RF=1 (the same faults on unreplicated tables; default 3: a cluster
// that refuses 3 fails the run), FLUSS_FAULT_LOG_DIR=<dir> (each server's whole stderr at info level
// in <dir>/seed-<seed>/). Without a replayed seed the runs together inject >= 100 faults.
// ZooKeeper missing: skipped with a message, or a failure with FLUSS_REQUIRE_ZOOKEEPER=1 (CI).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { zooKeeperSkipReason } from "../helpers/zookeeper.ts";
import { expectClean } from "./expect-clean.ts";
import { type FaultRunReport, runFaultRun, summary } from "./harness/run.ts";

const skip = zooKeeperSkipReason();
const env = process.env;
const replay = env.FLUSS_FAULT_SEED === undefined ? null : Number(env.FLUSS_FAULT_SEED);
const runs = replay !== null ? 1 : Number(env.FLUSS_FAULT_RUNS ?? 3);
const durationMs = Number(env.FLUSS_FAULT_DURATION_MS ?? 75_000);
const faultsMax = Number(env.FLUSS_FAULT_FAULTS ?? 45);
const rf = env.FLUSS_FAULT_RF === "1" ? 1 : 3;
const logDir = env.FLUSS_FAULT_LOG_DIR;
const FAULTS_PER_SUITE_MIN = 100;

describe.skipIf(skip !== null)(`cluster fault runs${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const reports: FaultRunReport[] = [];
  for (let i = 0; i < runs; i++) {
    const seed = replay ?? (Date.now() + i * 7919) % 2 ** 31;
    it(`fault run ${i + 1}/${runs} (seed ${seed})`, async () => {
      console.log(`fault run seed ${seed} starting (replay with FLUSS_FAULT_SEED=${seed})`);
      const r = await runFaultRun({
        seed,
        durationMs,
        faultsMax,
        replicationFactor: rf,
        rowsPerSecond: 300,
        buckets: 6,
        ...(logDir === undefined ? {} : { logDir: join(logDir, `seed-${seed}`) }),
        log: (line) => console.log(line),
      });
      reports.push(r);
      console.log(summary(r));
      expectClean(r);
    });
  }
  it.skipIf(replay !== null)(`injects at least ${FAULTS_PER_SUITE_MIN} faults over the runs`, () => {
    const total = reports.reduce((n, r) => n + r.faultsInjected, 0);
    const writes = reports.reduce((n, r) => n + r.writesAcknowledged, 0);
    console.log(
      `fault suite: ${reports.length} runs, writes acknowledged ${writes}, faults injected ${total}, ` +
        `lost ${reports.reduce((n, r) => n + r.lost, 0)}, duplicated ${reports.reduce((n, r) => n + r.duplicated, 0)}, ` +
        `lookups of acknowledged upserts ${reports.reduce((n, r) => n + r.lookupsChecked, 0)} ` +
        `(wrong ${reports.reduce((n, r) => n + r.wrongLookups, 0)}), ` +
        `divergent replicas ${reports.reduce((n, r) => n + r.divergentReplicas, 0)}`,
    );
    expect(total).toBeGreaterThanOrEqual(FAULTS_PER_SUITE_MIN);
  });
});
