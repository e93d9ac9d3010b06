// Replication is not implemented yet: a table (or a cluster default) asking for more than one copy
// of its buckets is refused with INVALID_REPLICATION_FACTOR instead of being accepted and kept as
// one copy; a replication factor above the tablet servers is refused too; and no replica that
// does not replicate is ever reported in sync.

import { type ErrorKind, Errors, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { assignmentsByServer, initialLeaders } from "../src/coordinator/leadership.ts";
import { assignBuckets, replicaAssignment } from "../src/coordinator/placement.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "./helpers.ts";

const path = { database: "db", table: "t" };

async function expectError(p: Promise<unknown>, kind: ErrorKind, ...texts: string[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isFlussError(err)) throw err;
    expect(err.kind.name).toBe(kind.name);
    for (const t of texts) expect(err.message).toContain(t);
    return;
  }
  throw new Error("expected a FlussError");
}

describe("replication factor", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it("refuses table.replication.factor > 1 even when enough tablet servers are alive", async () => {
    fx = await startCoordinator({ servers: 3 });
    await expectError(
      fx.coordinator.createTable(
        path,
        descriptor("id BIGINT", { buckets: 3, options: { "table.replication.factor": "2" } }),
        false,
      ),
      Errors.INVALID_REPLICATION_FACTOR,
      "replication is not implemented yet",
    );
    expect(await fx.coordinator.tableExists(path)).toBe(false);
    for (const s of fx.servers) expect(s.hosted.size).toBe(0);
  });

  it("refuses a partitioned table with replication factor > 1 at create", async () => {
    fx = await startCoordinator({ servers: 2 });
    await expectError(
      fx.coordinator.createTable(
        path,
        descriptor("id BIGINT, dt STRING", {
          partitionKeys: ["dt"],
          options: { "table.replication.factor": "2" },
        }),
        false,
      ),
      Errors.INVALID_REPLICATION_FACTOR,
      "replication is not implemented yet",
    );
  });

  it("refuses a replication factor above the live tablet servers", async () => {
    fx = await startCoordinator({ servers: 1 });
    await expectError(
      fx.coordinator.createTable(
        path,
        descriptor("id BIGINT", { options: { "table.replication.factor": "3" } }),
        false,
      ),
      Errors.INVALID_REPLICATION_FACTOR,
    );
  });

  it("refuses a coordinator default replication factor > 1 at the first create", async () => {
    fx = await startCoordinator({ servers: 2, defaultReplicationFactor: 2 });
    await expectError(
      fx.coordinator.createTable(path, descriptor("id BIGINT"), false),
      Errors.INVALID_REPLICATION_FACTOR,
      "replication is not implemented yet",
    );
  });

  it("places one replica per bucket, the leader, alone in the ISR", async () => {
    fx = await startCoordinator({ servers: 3 });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT", { buckets: 6, options: { "table.replication.factor": "1" } }),
      false,
    );
    const md = await fx.coordinator.getTableMetadata(path);
    expect(md.buckets).toHaveLength(6);
    const hosted = fx.servers.flatMap((s) => [...s.hosted.values()]);
    expect(hosted).toHaveLength(6);
    for (const a of hosted) {
      expect(a.replicas).toEqual([a.leader]);
      expect(a.isr).toEqual([a.leader]);
    }
  });

  it("assignBuckets refuses more than one replica per bucket", () => {
    expect(() => assignBuckets([0, 1, 2], 3, 2, 7)).toThrow(/replication is not implemented yet/);
    expect(assignBuckets([0, 1, 2], 3, 1, 7).map((a) => a.replicas.length)).toEqual([1, 1, 1]);
  });

  it("a bucket assigned several replicas before this check (older metadata) has only its leader in sync", async () => {
    fx = await startCoordinator({ servers: 2 });
    await fx.coordinator.createTable(path, descriptor("id BIGINT"), false);
    const info = await fx.coordinator.getTableInfo(path);
    const a = new FakeTabletServer(0);
    const b = new FakeTabletServer(1);
    const assignment = [{ bucket: 0, replicas: [1, 0] }];
    const leaders = initialLeaders(assignment);
    await fx.store.putLeaderAndIsr(
      leaders.map(([bucket, lai]) => [{ tableId: info.tableId, partitionId: null, bucket }, lai]),
    );
    for (const [server, list] of assignmentsByServer(info, null, assignment, leaders))
      await (server === 0 ? a : b).notifyLeaderAndIsr(0, list);
    const told = [...a.hosted.values(), ...b.hosted.values()];
    expect(told).toHaveLength(2);
    for (const r of told) {
      expect(r.leader).toBe(1);
      expect(r.isr).toEqual([1]);
    }
    const lai = await fx.store.getLeaderAndIsr({ tableId: info.tableId, partitionId: null, bucket: 0 });
    expect(lai?.isr).toEqual([1]);
    // Metadata written before this rule (ISR with followers) is reported with the leader alone.
    const stale = { leader: 1, leaderEpoch: 0, isr: [1, 0], coordinatorEpoch: 0, bucketEpoch: 0 };
    expect(replicaAssignment(info, null, { bucket: 0, replicas: [1, 0] }, stale).isr).toEqual([1]);
  });
});
