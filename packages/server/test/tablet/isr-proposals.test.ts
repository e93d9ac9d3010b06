// IsrProposals counts the ISR changes the coordinator accepts (ReplicationEvents, /metrics) from its
// AdjustIsr answer against the ISR the proposal started from: also when the coordinator's
// NotifyLeaderAndIsr of the new ISR reached the leader before that answer (the order a real
// coordinator produces), once per accepted proposal, and never for a refused one.

import { Errors, ManualClock, ManualScheduler } from "@fluss-ts/common";
import { AdjustIsrResponseSchema, create } from "@fluss-ts/rpc";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logging.ts";
import type { ReplicationEvents } from "../../src/metrics/replication-metrics.ts";
import { LeaderReplica } from "../../src/replication/leader-replica.ts";
import type { LeaderAndIsr } from "../../src/replication/types.ts";
import { type AdjustIsrSender, IsrProposals } from "../../src/tablet/isr-proposals.ts";
import type { Replica } from "../../src/tablet/replica.ts";
import { SimLog } from "../replication/sim/sim-log.ts";

const REPLICAS = [1, 2, 3];
const MAX_LAG_MS = 1_000;

function setup() {
  const clock = new ManualClock(1_000_000);
  const scheduler = new ManualScheduler(clock);
  const log = new SimLog("leader", { onHighWatermark: () => undefined, onTruncate: () => undefined });
  log.claimLeaderEpoch(3);
  const lai: LeaderAndIsr = { leader: 1, leaderEpoch: 3, isr: REPLICAS, coordinatorEpoch: 0, bucketEpoch: 7 };
  const leader = new LeaderReplica(
    { localId: 1, clock, maxLagTimeMs: MAX_LAG_MS, minInSyncReplicas: 1, hwRequiresFlush: false },
    log,
    { leaderAndIsr: lai, replicas: REPLICAS },
  );
  const replica = {
    id: { tableId: 5n, partitionId: null, bucket: 0 },
    leader,
    checkAcks: () => undefined,
  } as unknown as Replica;
  const counted = { shrunk: 0, expanded: 0 };
  const events: ReplicationEvents = {
    isrShrunk: (n = 1) => {
      counted.shrunk += n;
    },
    isrExpanded: (n = 1) => {
      counted.expanded += n;
    },
  };
  /** How the fake coordinator answers a proposal (after telling the leader, when `notifyFirst`). */
  const coordinator = { notifyFirst: false, errorCode: 0, requests: 0, recorded: lai };
  const send: AdjustIsrSender = async (req) => {
    coordinator.requests++;
    const t = req.tablesReq![0]!;
    const b = t.bucketsReq![0]!;
    const recorded = { ...lai, isr: [...b.newIsr!], bucketEpoch: b.bucketEpoch! + 1 };
    if (coordinator.errorCode === 0) coordinator.recorded = recorded;
    if (coordinator.errorCode === 0 && coordinator.notifyFirst) {
      expect(leader.update({ leaderAndIsr: recorded, replicas: REPLICAS })).toBe("updated");
    }
    return create(AdjustIsrResponseSchema, {
      tablesResp: [
        {
          tableId: t.tableId!,
          bucketsResp: [
            coordinator.errorCode === 0
              ? {
                  bucketId: b.bucketId,
                  leaderId: 1,
                  leaderEpoch: recorded.leaderEpoch,
                  isr: recorded.isr,
                  coordinatorEpoch: 0,
                  bucketEpoch: recorded.bucketEpoch,
                }
              : { bucketId: b.bucketId, errorCode: coordinator.errorCode, errorMessage: "refused" },
          ],
        },
      ],
    });
  };
  const isr = new IsrProposals({
    serverId: 1,
    send,
    scheduler,
    logger: silentLogger,
    retryBackoffMs: 100,
    events,
  });
  isr.startShrinkChecks(() => [replica], MAX_LAG_MS / 2);
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** Followers 2 and 3 fetch at the leader's log end (caught up). */
  const fetchAll = () => {
    for (const id of [2, 3]) {
      const out = leader.onFollowerFetch(id, log.logEndOffset, 3);
      if (out.proposal) isr.propose(replica, leader, out.proposal);
    }
  };
  /** The leader's log grows; only follower 2 keeps fetching for `ms`, then the lag check runs. */
  const silenceFollower3 = async (ms: number) => {
    log.appendAsLeader({ count: 1, epoch: 3, writerId: 1, seq: 0, recordId: 0 });
    for (let t = 0; t < ms; t += 100) {
      leader.onFollowerFetch(2, log.logEndOffset, 3);
      scheduler.advance(100);
      await settle();
    }
  };
  return { leader, log, isr, counted, coordinator, fetchAll, silenceFollower3, settle };
}

describe("ISR proposals: accepted changes counted", () => {
  it("counts a shrink whose NotifyLeaderAndIsr reached the leader before the AdjustIsr answer", async () => {
    const s = setup();
    s.coordinator.notifyFirst = true;
    s.fetchAll();
    await s.silenceFollower3(2 * MAX_LAG_MS);
    expect(s.leader.isr).toEqual([1, 2]);
    expect(s.counted).toEqual({ shrunk: 1, expanded: 0 });
  });

  it("counts a shrink answered first, and the expansion once the follower catches up, each once", async () => {
    const s = setup();
    s.fetchAll();
    await s.silenceFollower3(2 * MAX_LAG_MS);
    expect(s.leader.isr).toEqual([1, 2]);
    // The coordinator's NotifyLeaderAndIsr of that record, arriving after the answer.
    expect(s.leader.update({ leaderAndIsr: s.coordinator.recorded, replicas: REPLICAS })).toBe("unchanged");
    s.coordinator.notifyFirst = true;
    s.fetchAll();
    await s.settle();
    expect(s.leader.isr).toEqual([1, 2, 3]);
    expect(s.counted).toEqual({ shrunk: 1, expanded: 1 });
  });

  it("counts nothing for a refused proposal", async () => {
    const s = setup();
    s.coordinator.errorCode = Errors.OPERATION_NOT_ATTEMPTED_EXCEPTION.code; // dropped by the leader
    s.fetchAll();
    await s.silenceFollower3(2 * MAX_LAG_MS);
    expect(s.coordinator.requests).toBeGreaterThan(0);
    expect(s.leader.isr).toEqual(REPLICAS);
    expect(s.counted).toEqual({ shrunk: 0, expanded: 0 });
  });
});
