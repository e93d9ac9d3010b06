// The cluster status the coordinator answers (GetClusterStatus, GetClusterHealth): servers alive
// or only named by replicas, each bucket's recorded leader, epoch, replicas and ISR, and the
// offline / under-replicated rule (a dead server leaves every ISR and its buckets are led by an
// alive ISR member; only a bucket whose whole ISR is dead is offline); counts cover all buckets
// while the listing is bounded. Tables with three replicas per bucket are written straight into
// the store (the state a replicated cluster records), with fake tablet servers.

import { descriptorToJson, schemaToJson } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { bucketState, clusterStatus, healthStatusOf } from "../../src/coordinator/cluster-status.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "../helpers.ts";

describe("cluster status", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  /** A table `db.<name>` with `buckets` buckets on servers 0, 1, 2, led by bucket % 3, ISR all three. */
  async function replicatedTable(name: string, tableId: bigint, buckets: number): Promise<void> {
    const d = descriptor("id BIGINT", { buckets });
    const assignment = Array.from({ length: buckets }, (_, b) => ({
      bucket: b,
      replicas: [b % 3, (b + 1) % 3, (b + 2) % 3],
    }));
    const leaders = assignment.map(
      (a) =>
        [
          a.bucket,
          { leader: a.replicas[0]!, leaderEpoch: 2, isr: a.replicas, coordinatorEpoch: 0, bucketEpoch: 0 },
        ] as const,
    );
    await fx.store.putTable(
      {
        database: "db",
        table: name,
        tableId,
        schemaId: 1,
        descriptorJson: JSON.stringify(descriptorToJson({ ...d, bucketCount: buckets })),
        bucketCount: buckets,
        createdTime: 0,
        modifiedTime: 0,
      },
      JSON.stringify(schemaToJson(d.schema)),
      assignment,
      leaders,
    );
  }

  it("lists servers and buckets with leader, epoch, replicas and ISR; all in sync is GREEN", async () => {
    fx = await startCoordinator({ servers: 3 });
    await replicatedTable("t", 1000n, 3);
    const s = await clusterStatus(fx.coordinator);
    expect(s.servers.map((x) => [x.id, x.alive, x.leaders, x.replicas])).toEqual([
      [0, true, 1, 3],
      [1, true, 1, 3],
      [2, true, 1, 3],
    ]);
    expect(s.buckets.map((b) => [b.bucket, b.leader, b.leaderEpoch, b.replicas, b.isr, b.state])).toEqual([
      [0, 0, 2, [0, 1, 2], [0, 1, 2], "ok"],
      [1, 1, 2, [1, 2, 0], [1, 2, 0], "ok"],
      [2, 2, 2, [2, 0, 1], [2, 0, 1], "ok"],
    ]);
    expect([s.bucketCount, s.underReplicated, s.offline]).toEqual([3, 0, 0]);
    expect(healthStatusOf(s)).toBe(0);
  });

  it("a dead server leaves every ISR and its buckets get leaders from their alive ISRs (YELLOW); a bucket whose whole ISR is dead is offline (RED)", async () => {
    fx = await startCoordinator({ servers: 3 });
    await replicatedTable("t", 1000n, 3);
    const key2 = { tableId: 1000n, partitionId: null, bucket: 2 };
    const lai2 = (await fx.store.getLeaderAndIsr(key2))!;
    await fx.store.putLeaderAndIsr([[key2, { ...lai2, isr: [2], bucketEpoch: 1 }]]);
    await fx.coordinator.unregisterTabletServer(1);
    let s = await clusterStatus(fx.coordinator);
    expect(s.servers.find((x) => x.id === 1)).toEqual({
      id: 1,
      host: null,
      port: null,
      alive: false,
      leaders: 0,
      replicas: 3,
    });
    expect(s.buckets.map((b) => [b.bucket, b.leader, b.isr, b.state])).toEqual([
      [0, 0, [0, 2], "under-replicated"],
      [1, 2, [2, 0], "under-replicated"], // led by 1: a new leader from its alive ISR
      [2, 2, [2], "under-replicated"],
    ]);
    expect(s.buckets.map((b) => b.leaderEpoch > 2)).toEqual([false, true, false]); // a new leader, a new epoch
    expect([s.underReplicated, s.offline, s.activeLeaderCount]).toEqual([3, 0, 3]);
    expect(healthStatusOf(s)).toBe(1); // YELLOW: every bucket has a live leader
    await fx.coordinator.unregisterTabletServer(2);
    s = await clusterStatus(fx.coordinator);
    expect(s.buckets.map((b) => [b.bucket, b.leader, b.state])).toEqual([
      [0, 0, "under-replicated"],
      [1, 0, "under-replicated"],
      [2, null, "offline"], // no unclean election: it waits leaderless for server 2
    ]);
    expect([s.underReplicated, s.offline, s.activeLeaderCount]).toEqual([2, 1, 2]);
    expect(healthStatusOf(s)).toBe(2); // RED: a bucket has no live leader
  });

  it("a shrunk ISR is under-replicated (YELLOW); problems-only lists just those, counts stay whole", async () => {
    fx = await startCoordinator({ servers: 3 });
    await replicatedTable("t", 1000n, 6);
    const key = { tableId: 1000n, partitionId: null, bucket: 4 };
    const lai = (await fx.store.getLeaderAndIsr(key))!;
    await fx.store.putLeaderAndIsr([[key, { ...lai, isr: [lai.leader], bucketEpoch: 1 }]]);
    const s = await clusterStatus(fx.coordinator, { problemsOnly: true });
    expect(s.buckets.map((b) => [b.bucket, b.isr, b.state])).toEqual([[4, [1], "under-replicated"]]);
    expect([s.bucketCount, s.underReplicated, s.offline, s.omitted]).toEqual([6, 1, 0, 0]);
    expect(s.inSyncReplicaCount).toBe(16);
    expect(healthStatusOf(s)).toBe(1);
  });

  it("bounds the listing and counts what it left out; tables and partitions created through the coordinator are there", async () => {
    fx = await startCoordinator({ servers: 2 });
    await fx.coordinator.createTable(
      { database: "db", table: "a" },
      descriptor("id BIGINT", { buckets: 4 }),
      false,
    );
    await fx.coordinator.createTable(
      { database: "db", table: "p" },
      descriptor("id BIGINT, dt STRING NOT NULL", { partitionKeys: ["dt"], buckets: 2 }),
      false,
    );
    await fx.coordinator.createPartition({ database: "db", table: "p" }, { dt: "x" }, false);
    const all = await clusterStatus(fx.coordinator);
    expect(all.buckets.map((b) => `${b.path.table}/${b.partitionName ?? "-"}/${b.bucket}`)).toEqual([
      "a/-/0",
      "a/-/1",
      "a/-/2",
      "a/-/3",
      "p/x/0",
      "p/x/1",
    ]);
    expect(all.buckets.every((b) => b.state === "ok" && b.replicas.length === 1)).toBe(true);
    const some = await clusterStatus(fx.coordinator, { bucketsMax: 2 });
    expect([some.buckets.length, some.omitted, some.bucketCount]).toEqual([2, 4, 6]);
  });

  it("a server named only by replicas is listed as not alive; a new live server with nothing is listed", async () => {
    fx = await startCoordinator({ servers: 3 });
    await replicatedTable("t", 1000n, 1);
    await fx.coordinator.unregisterTabletServer(2);
    await fx.coordinator.registerTabletServer(new FakeTabletServer(7));
    const s = await clusterStatus(fx.coordinator);
    expect(s.servers.map((x) => [x.id, x.alive])).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [7, true],
    ]);
  });

  it("the bucket rule: leader dead = offline; fewer alive ISR members than replicas = under-replicated", () => {
    const alive = (id: number) => id !== 9;
    expect(bucketState(null, [0], [0], alive)).toBe("offline");
    expect(bucketState(9, [9, 1], [9, 1], alive)).toBe("offline");
    expect(bucketState(1, [9, 1], [9, 1], alive)).toBe("under-replicated");
    expect(bucketState(1, [0, 1], [1], alive)).toBe("under-replicated");
    expect(bucketState(1, [0, 1], [1, 0], alive)).toBe("ok");
  });
});
