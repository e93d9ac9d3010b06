// The verdict every fault run must meet (cluster.fault.ts and smoke.test.ts): nothing lost,
// duplicated, moved or out of order, no wrong lookup, no divergent replica, no crashed server, the
// cluster whole again and every write settled — acknowledged, none failed: every fault injected is
// one the writers must ride out by retrying (never more tablet servers down than a bucket can lose). A failing run prints its summary, the problems the
// checker found and the faults it injected, in order, with the seed to replay it.

import { expect } from "vitest";
import { type FaultRunReport, summary } from "./harness/run.ts";

/** Fail with everything needed to understand and replay the run. */
export function expectClean(r: FaultRunReport): void {
  const verdict = {
    lost: r.lost,
    duplicated: r.duplicated,
    moved: r.moved,
    outOfOrder: r.outOfOrder,
    wrongLookups: r.wrongLookups,
    divergentReplicas: r.divergentReplicas,
    crashes: r.crashes,
    healed: r.healed,
    unsettledWrites: r.unsettledWrites,
    writesFailed: r.writesFailed,
    clientErrors: r.clientErrors,
  };
  const clean = {
    lost: 0,
    duplicated: 0,
    moved: 0,
    outOfOrder: 0,
    wrongLookups: 0,
    divergentReplicas: 0,
    crashes: 0,
    healed: true,
    unsettledWrites: 0,
    writesFailed: 0,
    clientErrors: 0,
  };
  if (JSON.stringify(verdict) !== JSON.stringify(clean)) {
    console.error(
      `${summary(r)}\nproblems:\n  ${r.problems.join("\n  ")}\nfaults:\n  ${r.faultLog.join("\n  ")}`,
    );
  }
  expect(verdict).toEqual(clean);
  expect(r.appendsAcknowledged).toBeGreaterThan(0);
  expect(r.upsertsAcknowledged).toBeGreaterThan(0);
  expect(r.lookupsChecked).toBeGreaterThan(0);
}
