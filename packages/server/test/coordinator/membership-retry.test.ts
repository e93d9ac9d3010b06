// A tablet server's join or leave whose metadata reads fail (ZooKeeper unreachable for a moment:
// the fault suite's expired coordinator sessions) is not lost (failover.ts): the leave no longer
// rejects into an unhandled rejection (which ended the coordinator process), and once the store
// answers again the server goes offline (its buckets get a new leader) or, for a join, is told its
// replicas and leads its leaderless buckets. A join superseded by a later leave is not retried.

import { Errors, FlussError, ManualClock, ManualScheduler } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { MEMBERSHIP_RETRY_MS } from "../../src/coordinator/failover.ts";
import type { LeaderAndIsr } from "../../src/metadata/metadata-store.ts";
import { NO_LEADER } from "../../src/replication/types.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "../helpers.ts";

const path = { database: "db", table: "t" };

async function record(fx: CoordinatorFixture): Promise<LeaderAndIsr> {
  const info = await fx.coordinator.getTableInfo(path);
  const lai = await fx.store.getLeaderAndIsr({ tableId: info.tableId, partitionId: null, bucket: 0 });
  if (!lai) throw new Error("no record");
  return lai;
}

async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Make the store's table listing fail (as a ZooKeeper read does on CONNECTION_LOSS) until healed. */
function breakStore(fx: CoordinatorFixture): { heal(): void } {
  const store = fx.store;
  const listTables = store.listTables.bind(store);
  let broken = true;
  store.listTables = async (db: string) => {
    if (broken) throw new FlussError(Errors.STORAGE_EXCEPTION, "ZooKeeper read failed: CONNECTION_LOSS");
    return listTables(db);
  };
  return {
    heal() {
      broken = false;
    },
  };
}

describe("coordinator membership events when the metadata store fails", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  async function start(servers: number): Promise<ManualScheduler> {
    const rf = String(Math.min(3, servers));
    const scheduler = new ManualScheduler(new ManualClock(0));
    fx = await startCoordinator({ servers, scheduler, clock: scheduler.clock });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT", { buckets: 1, options: { "table.replication.factor": rf } }),
      false,
    );
    return scheduler;
  }

  it("a leave that failed is retried: the leader goes offline once the store answers", async () => {
    const scheduler = await start(3);
    const before = await record(fx);
    const store = breakStore(fx);
    // Resolves (no rejection for the caller to drop: that was an unhandled rejection).
    await expect(fx.coordinator.unregisterTabletServer(before.leader)).resolves.toBeUndefined();
    expect((await record(fx)).leader).toBe(before.leader);
    store.heal();
    scheduler.advance(MEMBERSHIP_RETRY_MS);
    await until("a new leader", async () => (await record(fx)).leader !== before.leader);
    const after = await record(fx);
    expect(after.leader).not.toBe(NO_LEADER);
    expect(after.isr).not.toContain(before.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
  });

  it("a join that failed is retried: the server leads its leaderless bucket and is told its replica", async () => {
    const scheduler = await start(1);
    // The only replica leaves: the bucket waits leaderless for it.
    await fx.coordinator.unregisterTabletServer(0);
    expect((await record(fx)).leader).toBe(NO_LEADER);
    const store = breakStore(fx);
    const back = new FakeTabletServer(0);
    await expect(fx.coordinator.registerTabletServer(back)).rejects.toThrow(/CONNECTION_LOSS/);
    store.heal();
    scheduler.advance(MEMBERSHIP_RETRY_MS);
    await until("server 0 leads again", async () => (await record(fx)).leader === 0);
    await until("server 0 told its replica", async () =>
      [...back.hosted.values()].some((a) => a.table.path.table === "t" && a.leader === 0),
    );
  });

  it("a failed join superseded by a leave is not retried", async () => {
    const scheduler = await start(1);
    await fx.coordinator.unregisterTabletServer(0);
    const store = breakStore(fx);
    await expect(fx.coordinator.registerTabletServer(new FakeTabletServer(0))).rejects.toThrow();
    await fx.coordinator.unregisterTabletServer(0);
    store.heal();
    scheduler.advance(MEMBERSHIP_RETRY_MS);
    await new Promise((r) => setTimeout(r, 50));
    expect((await record(fx)).leader).toBe(NO_LEADER);
  });
});
