// The coordinator's leadership rules for one bucket, pure (Fluss ReplicaLeaderElection,
// ReplicaStateMachine.doRemoveReplicaFromIsr, CoordinatorEventProcessor.validateLeaderAndIsr):
//  - a new leader comes only from the ISR, alive, in assignment order (unclean election is off: a
//    bucket whose ISR is all offline stays without a leader until one of them returns);
//  - every leader change bumps the leader epoch; every change bumps the bucket epoch;
//  - an offline replica leaves the ISR, except the last member (the ISR is never empty, so the
//    replica holding every committed record can still be elected when it returns); an offline
//    leader leaves the bucket with NO_LEADER (epoch bumped) until an election;
//  - an AdjustIsr is checked as Fluss does, plus Kafka's idempotence rule: a retried request whose
//    change is already recorded (same leader, leader epoch and ISR) is answered with the current
//    record instead of INVALID_UPDATE_VERSION (a lost answer must not leave the leader stuck).
// Invariant (asserted): a record with a leader has the leader in its ISR.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import { type LeaderAndIsr, NO_LEADER, type ServerId } from "./types.ts";

export interface ElectionContext {
  /** The bucket's assigned replicas, preferred leader first. */
  readonly replicas: readonly ServerId[];
  readonly isAlive: (id: ServerId) => boolean;
  readonly coordinatorEpoch: number;
}

function checked(lai: LeaderAndIsr): LeaderAndIsr {
  assert(lai.leader === NO_LEADER || lai.isr.includes(lai.leader), "the ISR contains the leader");
  assert(lai.isr.length > 0, "the ISR is never empty");
  return lai;
}

/** The leadership of a new bucket: the first alive replica leads, every alive replica is in sync. */
export function initialLeadership(ctx: ElectionContext): LeaderAndIsr | null {
  const alive = ctx.replicas.filter(ctx.isAlive);
  if (alive.length === 0) return null;
  return checked({
    leader: alive[0],
    leaderEpoch: 0,
    isr: alive,
    coordinatorEpoch: ctx.coordinatorEpoch,
    bucketEpoch: 0,
  });
}

/** Elect a leader from the alive ISR members (Fluss DefaultLeaderElection); null when none is alive. */
export function electLeader(
  current: LeaderAndIsr,
  ctx: ElectionContext,
  excluded: readonly ServerId[] = [],
): LeaderAndIsr | null {
  const isr = current.isr.filter((id) => !excluded.includes(id));
  const candidates = ctx.replicas.filter((id) => ctx.isAlive(id) && isr.includes(id));
  if (candidates.length === 0) return null;
  return checked({
    leader: candidates[0],
    leaderEpoch: current.leaderEpoch + 1,
    isr: isr.length > 0 ? isr : current.isr,
    coordinatorEpoch: ctx.coordinatorEpoch,
    bucketEpoch: current.bucketEpoch + 1,
  });
}

/**
 * Move leadership away from servers shutting down (Fluss ControlledShutdownLeaderElection): they
 * leave the ISR and cannot be elected. Null when no other ISR member is alive.
 */
export function controlledShutdownElection(
  current: LeaderAndIsr,
  ctx: ElectionContext,
  shuttingDown: readonly ServerId[],
): LeaderAndIsr | null {
  return electLeader(current, ctx, shuttingDown);
}

/** `replica` went offline (Fluss doRemoveReplicaFromIsr); null when the record does not change. */
export function removeReplicaFromIsr(
  current: LeaderAndIsr,
  replica: ServerId,
  coordinatorEpoch: number,
): LeaderAndIsr | null {
  if (!current.isr.includes(replica)) return null;
  const isr = current.isr.length === 1 ? current.isr : current.isr.filter((id) => id !== replica);
  if (replica === current.leader) {
    return checked({
      leader: NO_LEADER,
      leaderEpoch: current.leaderEpoch + 1,
      isr,
      coordinatorEpoch,
      bucketEpoch: current.bucketEpoch + 1,
    });
  }
  if (isr === current.isr) return null; // the last member stays: nothing changes
  return checked({ ...current, isr, coordinatorEpoch, bucketEpoch: current.bucketEpoch + 1 });
}

function sameMembers(a: readonly ServerId[], b: readonly ServerId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/**
 * Check an AdjustIsr from the bucket's leader against the current record and return the record
 * to store (the same object when nothing changes). Throws the FlussError to answer with.
 */
export function checkAdjustIsr(
  current: LeaderAndIsr | undefined,
  request: LeaderAndIsr,
  ctx: ElectionContext,
): LeaderAndIsr {
  if (current === undefined) throw new FlussError(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION, "unknown bucket");
  if (
    request.leaderEpoch > current.leaderEpoch ||
    request.bucketEpoch > current.bucketEpoch ||
    request.coordinatorEpoch > ctx.coordinatorEpoch
  ) {
    throw new FlussError(
      Errors.INVALID_COORDINATOR_EXCEPTION,
      "this coordinator is no longer the active one",
    );
  }
  if (request.leaderEpoch < current.leaderEpoch) {
    throw new FlussError(
      Errors.FENCED_LEADER_EPOCH_EXCEPTION,
      `leader epoch ${request.leaderEpoch} is older than ${current.leaderEpoch}`,
    );
  }
  if (request.leader !== current.leader) {
    throw new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, `server ${request.leader} is not the leader`);
  }
  if (sameMembers(request.isr, current.isr)) return current; // a retry of a change already recorded
  if (request.bucketEpoch < current.bucketEpoch) {
    throw new FlussError(
      Errors.INVALID_UPDATE_VERSION_EXCEPTION,
      `bucket epoch ${request.bucketEpoch} is older than ${current.bucketEpoch}`,
    );
  }
  if (!request.isr.includes(current.leader)) {
    throw new FlussError(Errors.INELIGIBLE_REPLICA_EXCEPTION, "the new ISR leaves out the leader");
  }
  const outside = request.isr.filter((id) => !ctx.replicas.includes(id));
  if (outside.length > 0) {
    throw new FlussError(Errors.INELIGIBLE_REPLICA_EXCEPTION, `the new ISR names non-replicas ${outside}`);
  }
  const added = request.isr.filter((id) => !current.isr.includes(id));
  const dead = added.filter((id) => !ctx.isAlive(id));
  if (dead.length > 0) {
    throw new FlussError(Errors.INELIGIBLE_REPLICA_EXCEPTION, `the new ISR adds servers not alive: ${dead}`);
  }
  return checked({
    leader: current.leader,
    leaderEpoch: current.leaderEpoch,
    isr: [...request.isr],
    coordinatorEpoch: ctx.coordinatorEpoch,
    bucketEpoch: current.bucketEpoch + 1,
  });
}
