// The coordinator on the ZooKeeper metadata store: elected, it creates databases, tables and
// partitions; then its process dies (its ZooKeeper session cut, nothing cleaned up) and a new
// coordinator is elected with a higher epoch. The new one rebuilds everything from ZooKeeper alone:
// tables, schemas, partitions, leaders (tablet servers that register are told every replica they
// host), and counters continue where they were. The old coordinator's late writes are refused.

import { Errors, ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasZooKeeper, ZooKeeperProxy, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import { Coordinator } from "../../src/coordinator/coordinator.ts";
import { silentLogger } from "../../src/logging.ts";
import { ZooKeeperCoordinatorElection } from "../../src/metadata/zk/zk-coordinator-election.ts";
import { ZooKeeperClient } from "../../src/metadata/zk/zookeeper-client.ts";
import { ZooKeeperMetadataStore } from "../../src/metadata/zk/zookeeper-metadata-store.ts";
import { descriptor, FakeTabletServer } from "../helpers.ts";
import { refusal } from "./metadata-store-contract.ts";

async function until(f: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!hasZooKeeper())("coordinator on ZooKeeper", () => {
  let zk: ZooKeeperServer;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await zk?.stop();
  });

  /** A coordinator process: a session (through its own proxy), an election, the store, a coordinator once elected. */
  async function coordinatorProcess(id: string) {
    const proxy = await ZooKeeperProxy.start(zk);
    const client = await ZooKeeperClient.connect({
      address: proxy.address,
      rootPath: "/cluster",
      sessionTimeoutMs: 2_000,
      connectionTimeoutMs: 5_000,
    });
    const store = new ZooKeeperMetadataStore(client);
    await store.open();
    const election = new ZooKeeperCoordinatorElection(client, {
      id,
      endpoints: [{ listener: "FLUSS", host: "127.0.0.1", port: 9123 }],
    });
    const state: { coordinator: Coordinator | null; epoch: number | null } = {
      coordinator: null,
      epoch: null,
    };
    election.onEvent((e) => {
      if (e.kind !== "elected") return;
      void store.takeOver(e.leadership.epochZkVersion).then(() => {
        state.epoch = e.leadership.epoch;
        state.coordinator = new Coordinator({
          store,
          clock: new ManualClock(1_000_000),
          logger: silentLogger,
          node: { id: -1, host: "127.0.0.1", port: 9123 },
          coordinatorEpoch: e.leadership.epoch,
          defaultBucketNumber: 3,
          defaultReplicationFactor: 1,
          bucketCountMax: 4096,
          defaultTimeZone: "UTC",
        });
      });
    });
    closers.push(async () => {
      await state.coordinator?.autoPartitions.stop();
      await election.close();
      await client.close();
      await proxy.close();
    });
    await election.start();
    return { proxy, client, store, election, state };
  }

  it("a new coordinator rebuilds its view from ZooKeeper after the old one's process died", async () => {
    const first = await coordinatorProcess("a");
    await until(() => first.state.coordinator !== null, "the first coordinator to be elected");
    const c1 = first.state.coordinator!;
    expect(first.state.epoch).toBe(0);
    for (const id of [0, 1]) await c1.registerTabletServer(new FakeTabletServer(id));
    await c1.createDatabase("shop", false);
    await c1.createTable({ database: "shop", table: "orders" }, descriptor("id BIGINT, v STRING"), false);
    const sales = { database: "shop", table: "sales" };
    await c1.createTable(
      sales,
      descriptor("id BIGINT, dt STRING NOT NULL", { partitionKeys: ["dt"], buckets: 2 }),
      false,
    );
    await c1.createPartition(sales, { dt: "2026-01" }, false);
    await c1.createPartition(sales, { dt: "2026-02" }, false);
    expect(await c1.allocateWriterId()).toBe(1n);
    const ordersBefore = await c1.getTableMetadata({ database: "shop", table: "orders" });

    const second = await coordinatorProcess("b");
    await new Promise((r) => setTimeout(r, 300));
    expect(second.state.coordinator).toBeNull(); // a standby while the first lives

    first.proxy.cut(); // the first process dies: its session ends on the server after 2 s
    await until(() => second.state.coordinator !== null, "the standby to take over", 15_000);
    expect(second.state.epoch).toBe(1);
    const c2 = second.state.coordinator!;
    const servers = [new FakeTabletServer(0), new FakeTabletServer(1)];
    for (const s of servers) await c2.registerTabletServer(s);
    expect(await c2.listTables("shop")).toEqual(["orders", "sales"]);
    const ordersAfter = await c2.getTableMetadata({ database: "shop", table: "orders" });
    expect(ordersAfter.buckets.map((b) => [b.bucket, b.leader])).toEqual(
      ordersBefore.buckets.map((b) => [b.bucket, b.leader]),
    );
    expect((await c2.listPartitions(sales)).map((p) => p.partitionName)).toEqual(["2026-01", "2026-02"]);
    // Every replica is back with the servers that host it: 3 buckets + 2 partitions x 2 buckets.
    expect(servers[0]!.hosted.size + servers[1]!.hosted.size).toBe(3 + 2 * 2);
    expect(await c2.allocateWriterId()).toBe(2n);
    await c2.createTable({ database: "shop", table: "more" }, descriptor("id BIGINT"), false);
    expect((await c2.getTableInfo({ database: "shop", table: "more" })).tableId).toBe(3n);
    // The old coordinator, back in touch with ZooKeeper (on a new session), cannot write any more.
    first.proxy.heal();
    expect(
      (
        await refusal(
          first.store.putDatabase({ name: "x", createdTime: 0, modifiedTime: 0, descriptorJson: "{}" }),
        )
      ).code,
    ).toBe(Errors.NOT_COORDINATOR_LEADER_EXCEPTION.code);
  }, 60_000);
});
