// The follower side of the replication core: on a new leader epoch it asks where its latest epoch
// ends on the leader, truncates the divergent tail (in one or more rounds), then fetches, appends
// and takes the leader's high watermark; errors fence it, restart its log, or back it off.

import { Errors, FlussError, ManualClock } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { type FollowerAction, FollowerReplica } from "../../src/replication/follower-replica.ts";
import { type SimBatch, SimLog } from "./sim/sim-log.ts";

const hooks = { onHighWatermark: () => undefined, onTruncate: () => undefined };
type Action = FollowerAction<SimBatch[]>;

function batchesOf(epoch: number, from: number, n: number, recordBase = 0): SimBatch[] {
  return Array.from({ length: n }, (_, i) => ({
    base: BigInt(from + i),
    count: 1,
    epoch,
    writerId: 1,
    seq: from + i,
    recordId: recordBase + from + i,
  }));
}

/** A follower log holding epoch 1 on [0, 5) and epoch 2 on [5, 8). */
function setup() {
  const clock = new ManualClock(0);
  const log = new SimLog("follower", hooks);
  log.appendAsFollower(batchesOf(1, 0, 5), [{ epoch: 1, startOffset: 0n }]);
  log.appendAsFollower(batchesOf(2, 5, 3), [{ epoch: 2, startOffset: 5n }]);
  const f = new FollowerReplica<SimBatch[]>({ localId: 2, clock, fetchBackoffMs: 100 }, log);
  return { clock, log, f };
}

/** Carry out a log action the way a driver does. */
function perform(log: SimLog, f: FollowerReplica<SimBatch[]>, a: Action): void {
  if (a.kind === "truncate") log.truncateTo(a.offset);
  else if (a.kind === "truncate-fully") log.truncateFullyAndStartAt(a.offset);
  else if (a.kind === "append") log.appendAsFollower(a.records, a.epochs);
  else throw new Error(`not a log action: ${a.kind}`);
  f.onLocalResult(a, null);
}

describe("follower replica", () => {
  it("truncates where the leader's epoch ends, then fetches, appends and takes the high watermark", () => {
    const { log, f } = setup();
    expect(f.nextAction()).toBeNull(); // no leader yet
    f.onLeaderAndIsr(1, 4);
    const q = f.nextAction();
    expect(q).toMatchObject({ kind: "query-epoch", leader: 1, leaderEpoch: 4, requestedEpoch: 2 });
    expect(f.nextAction()).toBeNull(); // one action at a time
    f.onEpochQueryResult(q as Action & { kind: "query-epoch" }, { epoch: 2, endOffset: 6n });
    const t = f.nextAction();
    expect(t).toMatchObject({ kind: "truncate", offset: 6n });
    perform(log, f, t as Action);
    const fetch = f.nextAction();
    expect(fetch).toMatchObject({ kind: "fetch", fetchOffset: 6n, leaderEpoch: 4 });
    const records = batchesOf(4, 6, 2, 100);
    f.onFetchResult(fetch as Action, {
      records,
      epochs: [{ epoch: 4, startOffset: 6n }],
      highWatermark: 7n,
      logStartOffset: 0n,
    });
    const append = f.nextAction();
    expect(append).toMatchObject({ kind: "append", leaderHighWatermark: 7n });
    perform(log, f, append as Action);
    expect(log.logEndOffset).toBe(8n);
    expect(log.highWatermark).toBe(7n);
    expect(log.epochList).toEqual([
      { epoch: 1, startOffset: 0n },
      { epoch: 2, startOffset: 5n },
      { epoch: 4, startOffset: 6n },
    ]);
    expect(f.nextAction()).toMatchObject({ kind: "fetch", fetchOffset: 8n });
  });

  it("cuts at the end of an older epoch the leader answers with", () => {
    const { log, f } = setup();
    f.onLeaderAndIsr(1, 4);
    const q = f.nextAction() as Action & { kind: "query-epoch" };
    f.onEpochQueryResult(q, { epoch: 1, endOffset: 7n }); // the leader never saw epoch 2
    const t = f.nextAction();
    expect(t).toMatchObject({ kind: "truncate", offset: 5n }); // end of epoch 1 here
    perform(log, f, t as Action);
    expect(f.state).toBe("fetch");
  });

  it("truncates in rounds when the leader names an epoch this log does not know", () => {
    // This log: epochs 1, 3, 5 from offsets 0, 4, 6; the leader's: 1, 2, 4, 6 from 0, 3, 5, 9.
    const clock = new ManualClock(0);
    const log = new SimLog("f", hooks);
    log.appendAsFollower(batchesOf(1, 0, 4), [{ epoch: 1, startOffset: 0n }]);
    log.appendAsFollower(batchesOf(3, 4, 2), [{ epoch: 3, startOffset: 4n }]);
    log.appendAsFollower(batchesOf(5, 6, 2), [{ epoch: 5, startOffset: 6n }]);
    const leader = new SimLog("leader", hooks);
    leader.appendAsFollower(batchesOf(1, 0, 3), [{ epoch: 1, startOffset: 0n }]);
    leader.appendAsFollower(batchesOf(2, 3, 2), [{ epoch: 2, startOffset: 3n }]);
    leader.appendAsFollower(batchesOf(4, 5, 4), [{ epoch: 4, startOffset: 5n }]);
    leader.claimLeaderEpoch(6); // it leads epoch 6 from its log end, 9
    const f = new FollowerReplica<SimBatch[]>({ localId: 2, clock, fetchBackoffMs: 100 }, log);
    f.onLeaderAndIsr(1, 6);
    const cuts: bigint[] = [];
    for (let round = 0; round < 5 && f.state === "truncate"; round++) {
      const q = f.nextAction() as Action & { kind: "query-epoch" };
      f.onEpochQueryResult(q, leader.endOffsetForEpoch(q.requestedEpoch));
      const t = f.nextAction() as Action;
      if (t.kind !== "truncate") break;
      cuts.push(t.offset);
      perform(log, f, t);
    }
    expect(cuts).toEqual([6n, 4n, 3n]); // end of 3 here, end of 1 here, then the leader's end of 1
    expect(f.nextAction()).toMatchObject({ kind: "fetch", fetchOffset: 3n });
  });

  it("keeps only the high watermark of a log without epochs, and restarts below the leader's start", () => {
    const clock = new ManualClock(0);
    const log = new SimLog("old", hooks);
    log.appendAsFollower(batchesOf(-1, 0, 6), []);
    log.updateHighWatermark(4n);
    const f = new FollowerReplica<SimBatch[]>({ localId: 2, clock, fetchBackoffMs: 100 }, log);
    f.onLeaderAndIsr(1, 1);
    const t = f.nextAction();
    expect(t).toMatchObject({ kind: "truncate", offset: 4n });
    perform(log, f, t as Action);
    const fetch = f.nextAction() as Action;
    f.onFetchResult(fetch, {
      error: new FlussError(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION, "gone"),
      logStartOffset: 50n,
    });
    const full = f.nextAction();
    expect(full).toMatchObject({ kind: "truncate-fully", offset: 50n });
    perform(log, f, full as Action);
    expect(f.nextAction()).toMatchObject({ kind: "fetch", fetchOffset: 50n });
  });

  it("stops when fenced until a newer epoch, backs off on other errors, and ignores abandoned answers", () => {
    const { f, clock } = setup();
    f.onLeaderAndIsr(1, 4);
    const q = f.nextAction() as Action & { kind: "query-epoch" };
    f.onEpochQueryResult(q, new FlussError(Errors.REQUEST_TIME_OUT, "lost"));
    expect(f.nextAction()).toEqual({ kind: "wait", untilMs: 100 });
    clock.advance(100);
    const q2 = f.nextAction() as Action & { kind: "query-epoch" };
    f.onEpochQueryResult(q2, new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, "newer leader"));
    expect(f.state).toBe("fenced");
    expect(f.nextAction()).toBeNull();
    expect(() => f.onLeaderAndIsr(1, 3)).toThrow(FlussError);
    expect(f.onLeaderAndIsr(3, 5)).toBe("new-epoch");
    const q3 = f.nextAction() as Action & { kind: "query-epoch" };
    expect(q3).toMatchObject({ leader: 3, leaderEpoch: 5 });
    f.onLeaderAndIsr(1, 6); // the query to 3 is abandoned
    f.onEpochQueryResult(q3, { epoch: 2, endOffset: 0n });
    expect(f.nextAction()).toMatchObject({ kind: "query-epoch", leader: 1, leaderEpoch: 6 });
  });

  it("lets a log change in flight finish across a new epoch without acting on it", () => {
    const { log, f } = setup();
    f.onLeaderAndIsr(1, 4);
    const q = f.nextAction() as Action & { kind: "query-epoch" };
    f.onEpochQueryResult(q, { epoch: 2, endOffset: 8n });
    const fetch = f.nextAction() as Action;
    f.onFetchResult(fetch, {
      records: batchesOf(4, 8, 1),
      epochs: [{ epoch: 4, startOffset: 8n }],
      highWatermark: 9n,
      logStartOffset: 0n,
    });
    const append = f.nextAction() as Action;
    expect(append.kind).toBe("append");
    expect(f.onLeaderAndIsr(3, 5)).toBe("new-epoch");
    expect(f.busy).toBe(true);
    expect(f.nextAction()).toBeNull(); // waits for the append
    perform(log, f, append);
    expect(log.highWatermark).toBe(0n); // the old leader's high watermark is not taken
    expect(f.nextAction()).toMatchObject({
      kind: "query-epoch",
      leader: 3,
      leaderEpoch: 5,
      requestedEpoch: 4,
    });
  });

  it("redoes the truncation when an append is refused as divergent", () => {
    const { f } = setup();
    f.onLeaderAndIsr(1, 4);
    f.onEpochQueryResult(f.nextAction() as Action, { epoch: 2, endOffset: 8n });
    const fetch = f.nextAction() as Action;
    f.onFetchResult(fetch, {
      records: batchesOf(1, 8, 1),
      epochs: [{ epoch: 1, startOffset: 8n }],
      highWatermark: 9n,
      logStartOffset: 0n,
    });
    const append = f.nextAction() as Action;
    f.onLocalResult(append, new FlussError(Errors.CORRUPT_MESSAGE, "epoch 1 after epoch 2"));
    expect(f.state).toBe("truncate");
    expect(f.nextAction()).toMatchObject({ kind: "query-epoch" });
  });
});
