// Creating a table no longer waits for tablet servers inside the coordinator's serial queue (the
// hidden cycle of issue 13: a server opening a new replica calls back into the coordinator), a
// table is invisible until its replicas are open, and a replica a server refuses to open rolls the
// creation back: nothing of the table is left, and the creation fails with the server's error.
// The tablet servers here are fakes behind the gateway interface; the fake's notify takes its
// arguments loosely (the assignments are the last one) so the first test also runs against the
// coordinator before this change, where it hangs.

import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import type { Coordinator, ReplicaAssignment } from "../../src/coordinator/coordinator.ts";
import { type CoordinatorFixture, descriptor, FakeTabletServer, startCoordinator } from "../helpers.ts";

const path = { database: "db", table: "t" };

/** A tablet server that runs `onNotify` before answering each NotifyLeaderAndIsr. */
class HookedServer extends FakeTabletServer {
  onNotify: (assignments: readonly ReplicaAssignment[]) => Promise<Error | null> = async () => null;

  override async notifyLeaderAndIsr(...args: unknown[]) {
    const assignments = args[args.length - 1] as readonly ReplicaAssignment[];
    const error = await this.onNotify(assignments);
    const answers = await super.notifyLeaderAndIsr(0, assignments);
    return error ? answers.map((a) => ({ ...a, error: error as FlussError })) : answers;
  }
}

async function settle(p: Promise<unknown>, ms: number): Promise<"done" | "pending"> {
  return Promise.race([
    p.then(() => "done" as const),
    new Promise<"pending">((r) => setTimeout(() => r("pending"), ms)),
  ]);
}

describe("creating a table through tablet servers", () => {
  let fx: CoordinatorFixture;
  let server: HookedServer;
  afterEach(async () => {
    await fx?.close();
  });

  async function start(): Promise<Coordinator> {
    fx = await startCoordinator({ servers: 0, notifyWaitMsMax: 5_000 });
    server = new HookedServer(0);
    await fx.coordinator.registerTabletServer(server);
    return fx.coordinator;
  }

  it("a server calling back into the coordinator while opening a new replica does not deadlock", async () => {
    const c = await start();
    let calledBack: bigint | undefined;
    // Opening the replica needs the coordinator (as auto-increment id ranges do), through an
    // operation that runs in its serial queue.
    server.onNotify = async () => {
      calledBack = await c.allocateWriterId();
      return null;
    };
    const created = c.createTable(path, descriptor("id BIGINT"), false);
    expect(await settle(created, 2_000)).toBe("done");
    expect(calledBack).toBeDefined();
    expect(await c.tableExists(path)).toBe(true);
  });

  it("other coordinator work goes on while a creation waits for its replicas; the table is invisible until then", async () => {
    const c = await start();
    let open: () => void = () => undefined;
    server.onNotify = () => new Promise((resolve) => (open = () => resolve(null)));
    const created = c.createTable(path, descriptor("id BIGINT"), false);
    await new Promise((r) => setTimeout(r, 50));
    // The queue is free: another creation and a database go through meanwhile.
    await c.createDatabase("other", false);
    expect(await c.databaseExists("other")).toBe(true);
    // Stored, but not visible to readers before its replica is open.
    expect(await c.tableExists(path)).toBe(false);
    expect(await c.listTables("db")).toEqual([]);
    expect(await settle(created, 50)).toBe("pending");
    open();
    await created;
    expect(await c.tableExists(path)).toBe(true);
    expect(await c.listTables("db")).toEqual(["t"]);
  });

  it("a concurrent create with ignoreIfExists answers once the first creation completed", async () => {
    const c = await start();
    let open: () => void = () => undefined;
    server.onNotify = () => new Promise((resolve) => (open = () => resolve(null)));
    const first = c.createTable(path, descriptor("id BIGINT"), false);
    await new Promise((r) => setTimeout(r, 20));
    const second = c.createTable(path, descriptor("id BIGINT"), true);
    expect(await settle(second, 50)).toBe("pending");
    open();
    await Promise.all([first, second]);
    expect(await c.tableExists(path)).toBe(true);
  });

  it("a replica the server refuses to open rolls the table back: nothing is left, and the creation fails with why", async () => {
    const c = await start();
    server.onNotify = async () => new FlussError(Errors.KV_STORAGE_EXCEPTION, "no room for the store");
    const err = await c.createTable(path, descriptor("id BIGINT", { buckets: 3 }), false).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(err) && err.kind).toBe(Errors.KV_STORAGE_EXCEPTION);
    expect((err as Error).message).toMatch(/db\.t was not created: tablet server 0: no room for the store/);
    expect(await c.tableExists(path)).toBe(false);
    expect(await fx.store.getTable("db", "t")).toBeUndefined();
    // Every replica the server was told to open was stopped with its data deleted.
    expect(server.deleted.map((r) => r.bucket).sort()).toEqual([0, 1, 2]);
    expect(server.hosted.size).toBe(0);
    // The name is free again.
    server.onNotify = async () => null;
    await c.createTable(path, descriptor("id BIGINT"), false);
    expect(await c.tableExists(path)).toBe(true);
  });

  it("a refused partition is rolled back the same way", async () => {
    const c = await start();
    const pt = { database: "db", table: "p" };
    await c.createTable(pt, descriptor("id BIGINT, dt STRING NOT NULL", { partitionKeys: ["dt"] }), false);
    server.onNotify = async () => new FlussError(Errors.LOG_STORAGE_EXCEPTION, "disk gone");
    const err = await c.createPartition(pt, { dt: "2026" }, false).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(err) && err.kind).toBe(Errors.LOG_STORAGE_EXCEPTION);
    expect(await c.listPartitions(pt)).toEqual([]);
    expect(server.partitionsOf((await c.getTableInfo(pt)).tableId)).toEqual([]);
  });

  it("a server that never answers delays the creation only up to the bound, and the table stays", async () => {
    fx = await startCoordinator({ servers: 0, notifyWaitMsMax: 100 });
    server = new HookedServer(0);
    await fx.coordinator.registerTabletServer(server);
    server.onNotify = () => new Promise(() => undefined);
    await fx.coordinator.createTable(path, descriptor("id BIGINT"), false);
    expect(await fx.coordinator.tableExists(path)).toBe(true);
  });
});
