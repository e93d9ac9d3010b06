// The leader side of the replication core: the high watermark (min over the ISR, flushed offsets
// only, never back), ISR expansion (to the high watermark and this epoch's start) and shrink (max
// lag), AdjustIsr answers, fencing by leader epoch, and acks=all completion.

import { Errors, FlussError, ManualClock } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { LeaderReplica, type LeaderReplicaOptions } from "../../src/replication/leader-replica.ts";
import type { LeaderAndIsr } from "../../src/replication/types.ts";
import { SimLog } from "./sim/sim-log.ts";

const hooks = { onHighWatermark: () => undefined, onTruncate: () => undefined };

function setup(opts: { isr?: number[]; flushed?: number; minIsr?: number; hwRequiresFlush?: boolean } = {}) {
  const clock = new ManualClock(1_000_000);
  const log = new SimLog("leader", hooks);
  log.claimLeaderEpoch(3);
  for (let i = 0; i < 10; i++) log.appendAsLeader({ count: 1, epoch: 3, writerId: 1, seq: i, recordId: i });
  log.flushedTo(BigInt(opts.flushed ?? 10));
  const options: LeaderReplicaOptions = {
    localId: 1,
    clock,
    maxLagTimeMs: 30_000,
    minInSyncReplicas: opts.minIsr ?? 1,
    hwRequiresFlush: opts.hwRequiresFlush ?? true,
  };
  const lai: LeaderAndIsr = {
    leader: 1,
    leaderEpoch: 3,
    isr: opts.isr ?? [1, 2, 3],
    coordinatorEpoch: 0,
    bucketEpoch: 7,
  };
  const leader = new LeaderReplica(options, log, { leaderAndIsr: lai, replicas: [1, 2, 3] });
  return { clock, log, leader, options, lai };
}

function code(err: unknown): number | undefined {
  return err instanceof FlussError ? err.code : undefined;
}

describe("leader replica: high watermark", () => {
  it("is the minimum of the leader's flushed end and every in-sync follower's fetch offset", () => {
    const { log, leader } = setup({ flushed: 8 });
    expect(leader.highWatermark).toBe(0n); // followers' ends unknown after the takeover
    leader.onFollowerFetch(2, 6n, 3);
    expect(log.highWatermark).toBe(0n); // follower 3 still unknown
    expect(leader.onFollowerFetch(3, 10n, 3).highWatermarkAdvanced).toBe(true);
    expect(log.highWatermark).toBe(6n);
    leader.onFollowerFetch(2, 10n, 3);
    expect(log.highWatermark).toBe(8n); // the leader flushed only 8
    log.flushedTo(10n);
    expect(leader.onLogAdvanced()).toBe(true);
    expect(log.highWatermark).toBe(10n);
    leader.onFollowerFetch(2, 4n, 3); // a follower that restarted lower never moves it back
    expect(log.highWatermark).toBe(10n);
  });

  it("counts the leader's unflushed end when flushes are not required, and freezes under min-in-sync", () => {
    const loose = setup({ isr: [1], flushed: 2, hwRequiresFlush: false });
    expect(loose.log.highWatermark).toBe(10n);
    const strict = setup({ isr: [1], flushed: 10, minIsr: 2 });
    expect(strict.log.highWatermark).toBe(0n);
    expect(code(catching(() => strict.leader.checkAppend(-1)))).toBe(
      Errors.NOT_ENOUGH_REPLICAS_EXCEPTION.code,
    );
    strict.leader.checkAppend(1); // acks=1 does not need the ISR
  });

  it("answers acks=all once the high watermark passes the write", () => {
    const { leader } = setup({ isr: [1, 2] });
    expect(leader.ackState(5n)).toBe("pending");
    leader.onFollowerFetch(2, 5n, 3);
    expect(leader.ackState(5n)).toBe("done");
    expect(leader.ackState(6n)).toBe("pending");
  });
});

describe("leader replica: ISR changes", () => {
  it("expands a follower that reached the high watermark and this epoch's start", () => {
    const { leader, log } = setup({ isr: [1, 2] });
    leader.onFollowerFetch(2, 10n, 3);
    expect(log.highWatermark).toBe(10n);
    expect(leader.onFollowerFetch(3, 9n, 3).proposal).toBeNull(); // below the high watermark
    const out = leader.onFollowerFetch(3, 10n, 3);
    expect(out.proposal).toEqual({
      leader: 1,
      leaderEpoch: 3,
      isr: [1, 2, 3],
      coordinatorEpoch: 0,
      bucketEpoch: 7,
    });
    expect(leader.maximalIsr).toEqual([1, 2, 3]); // counted for the high watermark at once
    expect(leader.isr).toEqual([1, 2]);
    const answer = { ...out.proposal!, bucketEpoch: 8 };
    leader.onAdjustIsrResult(out.proposal!, answer);
    expect(leader.isr).toEqual([1, 2, 3]);
    expect(leader.bucketEpoch).toBe(8);
  });

  it("does not expand a follower below the start of this leader's epoch (KAFKA-7128)", () => {
    // The new leader's high watermark lags (0): a follower at 5 has passed it, not the epoch start (10).
    const clock = new ManualClock(0);
    const fresh = new SimLog("l", hooks);
    fresh.claimLeaderEpoch(1);
    for (let i = 0; i < 10; i++)
      fresh.appendAsLeader({ count: 1, epoch: 1, writerId: 1, seq: i, recordId: i });
    fresh.flushedTo(10n);
    fresh.claimLeaderEpoch(2); // took over at 10 with a high watermark of 0
    const l = new LeaderReplica(
      { localId: 1, clock, maxLagTimeMs: 30_000, minInSyncReplicas: 1, hwRequiresFlush: true },
      fresh,
      {
        leaderAndIsr: { leader: 1, leaderEpoch: 2, isr: [1, 2], coordinatorEpoch: 0, bucketEpoch: 0 },
        replicas: [1, 2, 3],
      },
    );
    expect(l.epochStartOffset).toBe(10n);
    expect(l.onFollowerFetch(3, 5n, 2).proposal).toBeNull();
    expect(fresh.highWatermark).toBe(0n);
    expect(l.onFollowerFetch(3, 10n, 2).proposal?.isr).toEqual([1, 2, 3]);
  });

  it("shrinks followers that have not caught up within the max lag, waiting for them until it is recorded", () => {
    const { leader, log, clock } = setup({ isr: [1, 2, 3] });
    leader.onFollowerFetch(2, 10n, 3);
    leader.onFollowerFetch(3, 4n, 3);
    expect(log.highWatermark).toBe(4n);
    clock.advance(30_000);
    expect(leader.checkIsrShrink()).toBeNull(); // exactly the max lag: still in sync
    clock.advance(1);
    leader.onFollowerFetch(2, 10n, 3); // 2 keeps fetching at the log end
    const proposal = leader.checkIsrShrink();
    expect(proposal?.isr).toEqual([1, 2]);
    expect(leader.checkIsrShrink()).toBeNull(); // one proposal at a time
    expect(leader.onLogAdvanced()).toBe(false); // 3 still counts until the shrink is recorded
    const out = leader.onAdjustIsrResult(proposal!, { ...proposal!, bucketEpoch: 8 });
    expect(out.highWatermarkAdvanced).toBe(true);
    expect(log.highWatermark).toBe(10n);
  });

  it("handles AdjustIsr refusals as Fluss does, and ignores answers it no longer waits for", () => {
    const { leader, clock } = setup({ isr: [1, 2, 3] });
    clock.advance(40_000);
    const p1 = leader.checkIsrShrink()!;
    const timeout = new FlussError(Errors.REQUEST_TIME_OUT, "lost");
    expect(leader.onAdjustIsrResult(p1, timeout).retry).toBe(p1);
    const stale = new FlussError(Errors.INVALID_UPDATE_VERSION_EXCEPTION, "old bucket epoch");
    expect(leader.onAdjustIsrResult(p1, stale).retry).toBeNull();
    expect(leader.pendingIsrProposal).toBe(p1); // waits for the next NotifyLeaderAndIsr
    leader.update({
      leaderAndIsr: { leader: 1, leaderEpoch: 3, isr: [1, 2], coordinatorEpoch: 0, bucketEpoch: 9 },
      replicas: [1, 2, 3],
    });
    expect(leader.pendingIsrProposal).toBeNull();
    expect(leader.onAdjustIsrResult(p1, { ...p1, bucketEpoch: 10 }).highWatermarkAdvanced).toBe(false);
    expect(leader.isr).toEqual([1, 2]); // the late answer changed nothing
    const p2 = leader.checkIsrShrink()!;
    leader.onAdjustIsrResult(p2, new FlussError(Errors.INELIGIBLE_REPLICA_EXCEPTION, "no"));
    expect(leader.pendingIsrProposal).toBeNull();
    expect(leader.isr).toEqual([1, 2]);
  });
});

describe("leader replica: epochs", () => {
  it("fences fetches and epoch queries from other epochs, and checks the fetch offset", () => {
    const { leader } = setup();
    expect(code(leader.onFollowerFetch(2, 5n, 2).error)).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(code(leader.onFollowerFetch(2, 5n, 4).error)).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);
    expect(code(leader.onFollowerFetch(9, 5n, 3).error)).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);
    expect(code(leader.onFollowerFetch(2, 11n, 3).error)).toBe(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION.code);
    expect(leader.progressOf(2)?.logEndOffset).toBe(-1n); // refused fetches change nothing
    expect(code(leader.answerEpochQuery(2, 3))).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(leader.answerEpochQuery(3, 3)).toEqual({ epoch: 3, endOffset: 10n });
  });

  it("takes ISR updates of its epoch, refuses older ones, and says when a new epoch needs a new state", () => {
    const { leader, lai } = setup();
    const replicas = [1, 2, 3];
    expect(leader.update({ leaderAndIsr: { ...lai, isr: [1, 3], bucketEpoch: 8 }, replicas })).toBe(
      "updated",
    );
    expect(leader.isr).toEqual([1, 3]);
    expect(leader.update({ leaderAndIsr: { ...lai, isr: [1, 2], bucketEpoch: 8 }, replicas })).toBe(
      "unchanged",
    );
    expect(leader.isr).toEqual([1, 3]); // a resend of the bucket epoch it has changes nothing
    expect(code(catching(() => leader.update({ leaderAndIsr: { ...lai, bucketEpoch: 6 }, replicas })))).toBe(
      Errors.INVALID_UPDATE_VERSION_EXCEPTION.code,
    );
    expect(
      code(
        catching(() => leader.update({ leaderAndIsr: { ...lai, leaderEpoch: 2, bucketEpoch: 9 }, replicas })),
      ),
    ).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(leader.update({ leaderAndIsr: { ...lai, leaderEpoch: 4, bucketEpoch: 9 }, replicas })).toBe(
      "new-epoch",
    );
  });
});

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return null;
}
