// A table's replication factor (table.replication.factor, or the coordinator's
// default.replication.factor): each bucket gets that many distinct live tablet servers, the first
// leads at epoch 0 and every replica starts in the ISR; a factor above the live servers (servers
// shutting down do not count) is refused with INVALID_REPLICATION_FACTOR and nothing is created.

import { type ErrorKind, Errors, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { assignBuckets } from "../src/coordinator/placement.ts";
import { type CoordinatorFixture, descriptor, startCoordinator } from "./helpers.ts";

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

  it("places table.replication.factor distinct servers per bucket, the first leading, all in sync", async () => {
    fx = await startCoordinator({ servers: 3 });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT", { buckets: 6, options: { "table.replication.factor": "3" } }),
      false,
    );
    const hosted = fx.servers.flatMap((s) => [...s.hosted.values()]);
    expect(hosted).toHaveLength(18); // 6 buckets x 3 replicas, each told to its server
    for (const a of hosted) {
      expect(new Set(a.replicas).size).toBe(3);
      expect(a.leader).toBe(a.replicas[0]);
      expect([...a.isr].sort()).toEqual([...a.replicas].sort());
      expect(a.leaderEpoch).toBe(0);
    }
    const leaders = new Set(hosted.map((a) => a.leader));
    expect(leaders.size).toBe(3); // leadership spread over the servers
    for (const s of fx.servers) expect(s.hosted.size).toBe(6);
  });

  it("uses the coordinator's default replication factor, for partitions too", async () => {
    fx = await startCoordinator({ servers: 2, defaultReplicationFactor: 2 });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT, dt STRING NOT NULL", { partitionKeys: ["dt"], buckets: 2 }),
      false,
    );
    await fx.coordinator.createPartition(path, { dt: "2024" }, false);
    const hosted = fx.servers.flatMap((s) => [...s.hosted.values()]);
    expect(hosted).toHaveLength(4);
    for (const a of hosted) expect([...a.isr].sort()).toEqual([0, 1]);
  });

  it("refuses a replication factor above the live tablet servers, creating nothing", async () => {
    fx = await startCoordinator({ servers: 2 });
    await expectError(
      fx.coordinator.createTable(
        path,
        descriptor("id BIGINT", { options: { "table.replication.factor": "3" } }),
        false,
      ),
      Errors.INVALID_REPLICATION_FACTOR,
      "larger than the 2 live tablet server(s)",
    );
    expect(await fx.coordinator.tableExists(path)).toBe(false);
    for (const s of fx.servers) expect(s.hosted.size).toBe(0);
  });

  it("does not count a server shutting down as live", async () => {
    fx = await startCoordinator({ servers: 3 });
    await fx.coordinator.controlledShutdown(2);
    await expectError(
      fx.coordinator.createTable(
        path,
        descriptor("id BIGINT", { options: { "table.replication.factor": "3" } }),
        false,
      ),
      Errors.INVALID_REPLICATION_FACTOR,
      "larger than the 2 live tablet server(s)",
    );
  });

  it("refuses a default replication factor above the live servers at create", async () => {
    fx = await startCoordinator({ servers: 1, defaultReplicationFactor: 2 });
    await expectError(
      fx.coordinator.createTable(path, descriptor("id BIGINT"), false),
      Errors.INVALID_REPLICATION_FACTOR,
      "replication factor 2",
    );
  });

  it("assignBuckets gives each bucket distinct servers, round robin from the seed", () => {
    const a = assignBuckets([0, 1, 2], 3, 2, 7);
    expect(a.map((x) => x.replicas)).toEqual([
      [1, 2],
      [2, 0],
      [0, 1],
    ]);
    expect(() => assignBuckets([0, 1], 1, 3, 0)).toThrow(/larger than the 2 live/);
  });
});
