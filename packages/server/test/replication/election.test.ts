// The coordinator's leadership rules: elections only from the alive ISR (unclean election off),
// epochs bumped on every change, offline replicas leaving the ISR (never the last member), and the
// checks of an AdjustIsr (Fluss's, plus Kafka's idempotent retry).

import { Errors, FlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import {
  checkAdjustIsr,
  controlledShutdownElection,
  type ElectionContext,
  electLeader,
  initialLeadership,
  removeReplicaFromIsr,
} from "../../src/replication/election.ts";
import { type LeaderAndIsr, NO_LEADER } from "../../src/replication/types.ts";

function ctx(alive: number[], replicas = [1, 2, 3]): ElectionContext {
  return { replicas, isAlive: (id) => alive.includes(id), coordinatorEpoch: 4 };
}

const base: LeaderAndIsr = {
  leader: 1,
  leaderEpoch: 5,
  isr: [1, 2, 3],
  coordinatorEpoch: 3,
  bucketEpoch: 10,
};

function refusal(f: () => unknown): number | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof FlussError) return err.code;
    throw err;
  }
  return undefined;
}

describe("elections", () => {
  it("starts a bucket with the first alive replica leading and the alive replicas in sync", () => {
    expect(initialLeadership(ctx([2, 3]))).toEqual({
      leader: 2,
      leaderEpoch: 0,
      isr: [2, 3],
      coordinatorEpoch: 4,
      bucketEpoch: 0,
    });
    expect(initialLeadership(ctx([]))).toBeNull();
  });

  it("elects the first alive ISR member in assignment order, bumping both epochs", () => {
    const current = { ...base, leader: NO_LEADER, isr: [3, 2] };
    expect(electLeader(current, ctx([2, 3]))).toEqual({
      leader: 2,
      leaderEpoch: 6,
      isr: [3, 2],
      coordinatorEpoch: 4,
      bucketEpoch: 11,
    });
    expect(electLeader({ ...current, isr: [3] }, ctx([1, 2]))).toBeNull(); // no unclean election
  });

  it("moves leadership off servers shutting down and drops them from the ISR", () => {
    const moved = controlledShutdownElection(base, ctx([1, 2, 3]), [1]);
    expect(moved).toMatchObject({ leader: 2, leaderEpoch: 6, isr: [2, 3], bucketEpoch: 11 });
    expect(controlledShutdownElection({ ...base, isr: [1] }, ctx([1, 2, 3]), [1])).toBeNull();
  });

  it("removes an offline replica from the ISR: a follower quietly, the leader with a new epoch, never the last", () => {
    expect(removeReplicaFromIsr(base, 3, 4)).toEqual({
      ...base,
      isr: [1, 2],
      coordinatorEpoch: 4,
      bucketEpoch: 11,
    });
    expect(removeReplicaFromIsr(base, 1, 4)).toEqual({
      leader: NO_LEADER,
      leaderEpoch: 6,
      isr: [2, 3],
      coordinatorEpoch: 4,
      bucketEpoch: 11,
    });
    const last = { ...base, isr: [1] };
    expect(removeReplicaFromIsr(last, 1, 4)).toMatchObject({ leader: NO_LEADER, isr: [1], leaderEpoch: 6 });
    expect(removeReplicaFromIsr({ ...base, leader: 2, isr: [2] }, 3, 4)).toBeNull(); // not a member
  });
});

describe("AdjustIsr checks", () => {
  const request = (over: Partial<LeaderAndIsr>): LeaderAndIsr => ({ ...base, isr: [1, 2], ...over });

  it("records a shrink or an expansion with the bucket epoch bumped", () => {
    expect(checkAdjustIsr(base, request({}), ctx([1, 2, 3]))).toEqual({
      leader: 1,
      leaderEpoch: 5,
      isr: [1, 2],
      coordinatorEpoch: 4,
      bucketEpoch: 11,
    });
  });

  it("answers a retry of a change already recorded with the current record", () => {
    const current = { ...base, isr: [1, 2], bucketEpoch: 11 };
    expect(checkAdjustIsr(current, request({ bucketEpoch: 10 }), ctx([1, 2, 3]))).toBe(current);
  });

  it("refuses what Fluss refuses", () => {
    const all = ctx([1, 2, 3]);
    const cases: Array<[Partial<LeaderAndIsr>, { code: number }]> = [
      [{ leaderEpoch: 6 }, Errors.INVALID_COORDINATOR_EXCEPTION],
      [{ coordinatorEpoch: 5 }, Errors.INVALID_COORDINATOR_EXCEPTION],
      [{ leaderEpoch: 4 }, Errors.FENCED_LEADER_EPOCH_EXCEPTION],
      [{ leader: 2, isr: [2, 3] }, Errors.FENCED_LEADER_EPOCH_EXCEPTION],
      [{ bucketEpoch: 9, isr: [1, 3] }, Errors.INVALID_UPDATE_VERSION_EXCEPTION],
      [{ isr: [2, 3] }, Errors.INELIGIBLE_REPLICA_EXCEPTION],
      [{ isr: [1, 2, 7] }, Errors.INELIGIBLE_REPLICA_EXCEPTION],
    ];
    for (const [over, kind] of cases)
      expect(refusal(() => checkAdjustIsr(base, request(over), all))).toBe(kind.code);
    const shrunk = { ...base, isr: [1] };
    expect(refusal(() => checkAdjustIsr(shrunk, request({ isr: [1, 3] }), ctx([1, 2])))).toBe(
      Errors.INELIGIBLE_REPLICA_EXCEPTION.code, // 3 is not alive
    );
    expect(refusal(() => checkAdjustIsr(undefined, request({}), all))).toBe(
      Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code,
    );
  });
});
