// The coordinator's elections (elections.ts, failover.ts) against fake tablet servers: a server that
// leaves the cluster leaves every ISR and the buckets it led get a leader from their alive ISR with
// a bumped leader epoch (every live replica told, the routes updated); a bucket whose ISR is all
// gone stays leaderless until an ISR member returns; a controlled shutdown moves leadership first
// (and reports what it cannot move); a server that re-registers within its session is taken
// offline first (it never resumes an epoch); a leader refusing its epoch is elected over with a new
// one; AdjustIsr follows Fluss's checks with the idempotent retry; servers the records name that
// never join a restarted coordinator are taken offline after the session timeout.

import { Errors, FlussError, ManualClock, ManualScheduler } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import type { BucketAnswer, ReplicaAssignment } from "../../src/coordinator/coordinator.ts";
import type { LeaderAndIsr } from "../../src/metadata/metadata-store.ts";
import { NO_LEADER } from "../../src/replication/types.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "../helpers.ts";

const path = { database: "db", table: "t" };

async function record(fx: CoordinatorFixture, bucket = 0): Promise<LeaderAndIsr> {
  const info = await fx.coordinator.getTableInfo(path);
  const lai = await fx.store.getLeaderAndIsr({ tableId: info.tableId, partitionId: null, bucket });
  if (!lai) throw new Error("no record");
  return lai;
}

async function createReplicated(fx: CoordinatorFixture, rf: number, buckets = 1): Promise<void> {
  await fx.coordinator.createTable(
    path,
    descriptor("id BIGINT", { buckets, options: { "table.replication.factor": String(rf) } }),
    false,
  );
}

/** What a fake server was last told about bucket 0 of the table. */
function told(s: FakeTabletServer): ReplicaAssignment | undefined {
  return [...s.hosted.values()].find((a) => a.table.path.table === "t" && a.bucket === 0);
}

async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A fake server that refuses to lead a given epoch (it led it before a restart). */
class RefusingServer extends FakeTabletServer {
  refuseEpochsUpTo = -1;
  override async notifyLeaderAndIsr(
    epoch: number,
    list: readonly ReplicaAssignment[],
  ): Promise<BucketAnswer[]> {
    const answers = await super.notifyLeaderAndIsr(epoch, list);
    return answers.map((a, i) => {
      const r = list[i]!;
      const refuse = r.leader === this.node.id && r.leaderEpoch <= this.refuseEpochsUpTo;
      const error = refuse ? new FlussError(Errors.FENCED_LEADER_EPOCH_EXCEPTION, "claimed before") : null;
      return { ...a, error };
    });
  }
}

describe("elections", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it("a leader that leaves: a new leader from the ISR, epochs bumped, replicas and routes told", async () => {
    fx = await startCoordinator({ servers: 3 });
    await createReplicated(fx, 3);
    const before = await record(fx);
    const updates = fx.servers.map((s) => s.updates.length);
    await fx.coordinator.unregisterTabletServer(before.leader);
    const after = await record(fx);
    expect(after.leader).not.toBe(before.leader);
    expect(after.leader).not.toBe(NO_LEADER);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    expect(after.bucketEpoch).toBeGreaterThan(before.bucketEpoch);
    expect([...after.isr].sort()).toEqual(before.isr.filter((s) => s !== before.leader).sort());
    for (const s of fx.servers) {
      if (s.node.id === before.leader) continue;
      expect(told(s)?.leader).toBe(after.leader);
      expect(told(s)?.leaderEpoch).toBe(after.leaderEpoch);
      const routes = s.updates.slice(updates[s.node.id]).flatMap((u) => u.tables);
      const route = routes.find((t) => t.kind === "table")!;
      expect(route.kind === "table" && route.buckets[0]!.leader).toBe(after.leader);
    }
    expect((await fx.coordinator.getTableMetadata(path)).buckets[0]!.leader).toBe(after.leader);
  });

  it("a follower that leaves only leaves the ISR; the leader is told the new ISR", async () => {
    fx = await startCoordinator({ servers: 3 });
    await createReplicated(fx, 3);
    const before = await record(fx);
    const follower = before.isr.find((s) => s !== before.leader)!;
    await fx.coordinator.unregisterTabletServer(follower);
    const after = await record(fx);
    expect(after.leader).toBe(before.leader);
    expect(after.leaderEpoch).toBe(before.leaderEpoch);
    expect(after.isr).not.toContain(follower);
    expect(told(fx.servers[before.leader]!)?.isr).toEqual(after.isr);
  });

  it("a bucket whose ISR is all gone waits leaderless for an ISR member, not any replica", async () => {
    fx = await startCoordinator({ servers: 2 });
    await createReplicated(fx, 2);
    const { leader } = await record(fx);
    const other = 1 - leader;
    await fx.coordinator.unregisterTabletServer(other); // leaves the ISR
    await fx.coordinator.unregisterTabletServer(leader); // the last ISR member: leaderless
    const leaderless = await record(fx);
    expect(leaderless.leader).toBe(NO_LEADER);
    expect(leaderless.isr).toEqual([leader]);
    expect((await fx.coordinator.getTableMetadata(path)).buckets[0]!.leader).toBeNull();
    await fx.coordinator.registerTabletServer(new FakeTabletServer(other)); // not in the ISR
    expect((await record(fx)).leader).toBe(NO_LEADER);
    const back = new FakeTabletServer(leader);
    await fx.coordinator.registerTabletServer(back);
    const elected = await record(fx);
    expect(elected.leader).toBe(leader);
    expect(elected.leaderEpoch).toBe(leaderless.leaderEpoch + 1);
    expect(told(back)?.leaderEpoch).toBe(elected.leaderEpoch);
  });

  it("a controlled shutdown moves leadership first and leaves the ISRs; what cannot move is reported", async () => {
    fx = await startCoordinator({ servers: 3 });
    await createReplicated(fx, 3, 3);
    await fx.coordinator.createTable(
      { database: "db", table: "single" },
      descriptor("id BIGINT", { buckets: 3 }),
      false,
    );
    const single = await fx.coordinator.getTableMetadata({ database: "db", table: "single" });
    const ledAlone = single.buckets.filter((b) => b.leader === 0).map((b) => b.bucket);
    const remaining = await fx.coordinator.controlledShutdown(0);
    expect(remaining.map((r) => r.bucket).sort()).toEqual(ledAlone);
    for (let b = 0; b < 3; b++) {
      const lai = await record(fx, b);
      expect(lai.leader).not.toBe(0);
      expect(lai.isr).not.toContain(0);
    }
  });

  it("a server that registers again within its session is taken offline first: new epochs", async () => {
    fx = await startCoordinator({ servers: 3 });
    await createReplicated(fx, 3);
    const before = await record(fx);
    const restarted = new FakeTabletServer(before.leader);
    await fx.coordinator.registerTabletServer(restarted);
    const after = await record(fx);
    expect(after.leader).not.toBe(before.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    expect(told(restarted)?.leader).toBe(after.leader);
  });

  it("a leader refusing its epoch is elected over with a newer one", async () => {
    fx = await startCoordinator({ servers: 1 });
    await createReplicated(fx, 1);
    await fx.coordinator.unregisterTabletServer(0);
    const refusing = new RefusingServer(0);
    const leaderless = await record(fx);
    refusing.refuseEpochsUpTo = leaderless.leaderEpoch + 1; // the epoch it gets at join, once more
    await fx.coordinator.registerTabletServer(refusing);
    await until("a leader epoch it accepts", async () => {
      const lai = await record(fx);
      return lai.leader === 0 && lai.leaderEpoch > refusing.refuseEpochsUpTo;
    });
    expect(told(refusing)?.leaderEpoch).toBe(leaderless.leaderEpoch + 2);
  });

  it("AdjustIsr: a shrink is recorded and told to the leader; its retry gets the record; a dead addition is refused", async () => {
    fx = await startCoordinator({ servers: 3 });
    await createReplicated(fx, 3);
    const lai = await record(fx);
    const tableId = (await fx.coordinator.getTableInfo(path)).tableId;
    const follower = lai.isr.find((s) => s !== lai.leader)!;
    const request = {
      tableId,
      partitionId: null,
      bucket: 0,
      leader: lai.leader,
      leaderEpoch: lai.leaderEpoch,
      bucketEpoch: lai.bucketEpoch,
      coordinatorEpoch: fx.coordinator.coordinatorEpoch,
      newIsr: lai.isr.filter((s) => s !== follower),
    };
    const [first] = await fx.coordinator.adjustIsr([request]);
    expect(first!.error).toBeNull();
    const shrunk = await record(fx);
    expect(shrunk.bucketEpoch).toBe(lai.bucketEpoch + 1);
    expect(shrunk.isr).not.toContain(follower);
    await until(
      "the leader told",
      async () => told(fx.servers[lai.leader]!)?.bucketEpoch === shrunk.bucketEpoch,
    );
    const [retry] = await fx.coordinator.adjustIsr([request]);
    expect(retry!.error === null && retry!.leaderAndIsr).toEqual(shrunk);
    await fx.coordinator.unregisterTabletServer(follower);
    const now = await record(fx);
    const [dead] = await fx.coordinator.adjustIsr([
      { ...request, bucketEpoch: now.bucketEpoch, newIsr: [...now.isr, follower] },
    ]);
    expect(dead!.error?.is(Errors.INELIGIBLE_REPLICA_EXCEPTION)).toBe(true);
  });

  it("servers the records name that never join a restarted coordinator go offline after the session", async () => {
    const scheduler = new ManualScheduler(new ManualClock(0));
    fx = await startCoordinator({ servers: 3, scheduler, clock: scheduler.clock });
    await createReplicated(fx, 3);
    expect((await record(fx)).isr).toContain(2);
    await fx.coordinator.autoPartitions.stop();
    await fx.store.close();
    // A new coordinator run over the same metadata; server 2 never comes back.
    fx = await startCoordinator({ servers: 2, dir: fx.dir, scheduler, clock: scheduler.clock });
    fx.coordinator.takeAbsentServersOfflineAfter(30_000);
    scheduler.advance(29_000);
    expect((await record(fx)).isr).toContain(2);
    scheduler.advance(1_001);
    await until("server 2 offline", async () => !(await record(fx)).isr.includes(2));
    const lai = await record(fx);
    expect(lai.leader === 0 || lai.leader === 1).toBe(true);
  });
});
