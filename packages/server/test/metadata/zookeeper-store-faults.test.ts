// The ZooKeeper metadata store beyond the shared contract, on a real ZooKeeper server: its nodes are
// Fluss's layout and JSON; a transaction that fails part way changes nothing; a create or drop cut
// between its two steps (the process dies) leaves nothing visible and collectGarbage removes the
// rest; a fenced (deposed) coordinator's writes are refused whole; a write whose answer is lost
// while ZooKeeper is frozen is resolved by reading it back; a ZooKeeper restart loses nothing.

import { descriptorToJson, Errors } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasZooKeeper, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import { isZooKeeperError, ZkCode, ZooKeeperClient } from "../../src/metadata/zk/zookeeper-client.ts";
import {
  ZooKeeperMetadataStore,
  type ZooKeeperMetadataStoreOptions,
} from "../../src/metadata/zk/zookeeper-metadata-store.ts";
import { descriptor } from "../helpers.ts";
import { refusal, tableOf } from "./metadata-store-contract.ts";

const db = {
  name: "db",
  createdTime: 5,
  modifiedTime: 6,
  descriptorJson: '{"version":1,"custom_properties":{}}',
};

describe.skipIf(!hasZooKeeper())("ZooKeeper metadata store: layout, atomicity, faults", () => {
  let zk: ZooKeeperServer;
  let roots = 0;
  const clients: ZooKeeperClient[] = [];

  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await zk?.stop();
  });

  async function raw(rootPath: string): Promise<ZooKeeperClient> {
    const c = await ZooKeeperClient.connect({ address: zk.address, rootPath, sessionTimeoutMs: 10_000 });
    clients.push(c);
    return c;
  }

  async function store(
    rootPath: string,
    o: ZooKeeperMetadataStoreOptions & { requestTimeoutMs?: number } = {},
  ): Promise<ZooKeeperMetadataStore> {
    const c = await ZooKeeperClient.connect({
      address: zk.address,
      rootPath,
      sessionTimeoutMs: 10_000,
      ...(o.requestTimeoutMs ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    });
    const s = new ZooKeeperMetadataStore(c, { ...o, ownsClient: true });
    await s.open();
    return s;
  }

  const json = async (c: ZooKeeperClient, path: string): Promise<unknown> =>
    JSON.parse((await c.getData(path))!.data.toString("utf8"));

  it("writes Fluss's layout and JSON shapes", async () => {
    const root = `/layout-${++roots}`;
    const s = await store(root);
    const c = await raw(root);
    await s.putDatabase(db);
    const t = tableOf("db", "orders", 7n, 2);
    await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
    const pt = tableOf("db", "sales", 8n, 0, { partitionKeys: ["dt"] });
    await s.putTable(pt.reg, pt.schemaJson, pt.assignment, pt.leaders);
    await s.putPartition(
      { tableId: 8n, partitionId: 3n, name: "2026", createdTime: 9 },
      [{ bucket: 0, replicas: [1] }],
      [[0, { leader: 1, leaderEpoch: 0, isr: [1], coordinatorEpoch: 0, bucketEpoch: 0 }]],
    );
    expect(await s.nextId("table")).toBe(1n);
    expect(await json(c, "/metadata/databases/db")).toEqual({
      version: 1,
      custom_properties: {},
      created_time: 5,
      modified_time: 6,
    });
    // The coordinator's descriptor is rebuilt from Fluss's fields: no extra copy is stored.
    expect(await json(c, "/metadata/databases/db/tables/orders")).toEqual({
      version: 1,
      table_id: 7,
      bucket_count: 2,
      properties: {},
      custom_properties: {},
      created_time: 1_700_000_000_000,
      modified_time: 1_700_000_000_001,
    });
    expect(await json(c, "/metadata/databases/db/tables/sales")).toMatchObject({ partition_key: ["dt"] });
    expect(await json(c, "/metadata/databases/db/tables/orders/schemas/1")).toEqual(JSON.parse(t.schemaJson));
    expect(await json(c, "/tabletservers/tables/7")).toEqual({
      version: 1,
      buckets: { "0": [0, 1], "1": [1, 2] },
      fluss_ts: { database: "db", table: "orders" },
    });
    expect(await json(c, "/tabletservers/tables/7/buckets/1/leader_isr")).toEqual({
      version: 2,
      leader: 1,
      leader_epoch: 0,
      isr: [1],
      coordinator_epoch: 0,
      bucket_epoch: 0,
      standby_replicas: [],
    });
    expect(await json(c, "/metadata/databases/db/tables/sales/partitions/2026")).toEqual({
      version: 1,
      table_id: 8,
      partition_id: 3,
      fluss_ts: { created_time: 9 },
    });
    expect(await json(c, "/tabletservers/partitions/3")).toEqual({
      version: 1,
      table_id: 8,
      buckets: { "0": [1] },
      fluss_ts: { partition_name: "2026" },
    });
    expect(await json(c, "/tabletservers/partitions/3/buckets/0/leader_isr")).toMatchObject({ leader: 1 });
    // Curator's DistributedAtomicLong: the next id, 8 bytes big-endian.
    expect((await c.getData("/metadata/table_seqid"))!.data.readBigInt64BE(0)).toBe(2n);
    // A descriptor that is not what Fluss's fields rebuild is kept as given.
    const d = descriptor("id BIGINT", { options: { "table.log.ttl": "1d" } });
    const odd = tableOf("db", "odd", 9n, 1, {
      descriptorJson: JSON.stringify({ ...descriptorToJson(d), extra: 1 }),
    });
    await s.putTable(odd.reg, odd.schemaJson, odd.assignment, odd.leaders);
    expect(await json(c, "/metadata/databases/db/tables/odd")).toMatchObject({
      fluss_ts: { descriptor: odd.reg.descriptorJson },
    });
    await s.close();
  });

  it("a transaction failing at its last operation changes nothing (version 0 checked exactly)", async () => {
    const c = await raw(`/atomic-${++roots}`);
    await c.create("/n", Buffer.from("a"));
    await c.multi([{ kind: "set", path: "/n", data: Buffer.from("b"), version: 0 }]); // now at version 1
    const err = await c
      .multi([
        { kind: "create", path: "/m", data: Buffer.from("x") },
        { kind: "create", path: "/m/child", data: Buffer.from("y") },
        { kind: "check", path: "/n", version: 0 },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isZooKeeperError(err, ZkCode.BAD_VERSION)).toBe(true);
    expect(await c.exists("/m")).toBeUndefined();
    await c.multi([
      { kind: "create", path: "/m", data: Buffer.from("x") },
      { kind: "check", path: "/n", version: 1 },
    ]);
    expect((await c.getData("/m"))?.data.toString()).toBe("x");
  });

  it("a create whose publishing transaction fails leaves no table and no nodes behind", async () => {
    const root = `/publish-${++roots}`;
    const c = await raw(root);
    const s = await store(root, {
      hooks: {
        // Someone changes the assignment node between the two steps: publishing (which expects
        // version 0) fails whole.
        beforePublish: async () => {
          await c.multi([
            { kind: "set", path: "/tabletservers/tables/7", data: Buffer.alloc(0), version: -1 },
          ]);
        },
      },
    });
    await s.putDatabase(db);
    const t = tableOf("db", "t", 7n, 50);
    expect((await refusal(s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders))).code).toBe(
      Errors.STORAGE_EXCEPTION.code,
    );
    expect(await s.getTable("db", "t")).toBeUndefined();
    expect(await s.getTableById(7n)).toBeUndefined();
    expect(await c.exists("/metadata/databases/db/tables/t")).toBeUndefined();
    expect(await c.exists("/tabletservers/tables/7")).toBeUndefined(); // undone
    await s.close();
  });

  it("a create or drop cut between its steps is invisible, and collectGarbage removes its nodes", async () => {
    const root = `/crash-${++roots}`;
    const c = await raw(root);
    const crash = async (s: () => ZooKeeperMetadataStore) => {
      await s().zk.close(); // the process is gone: nothing more reaches ZooKeeper
      throw new Error("crashed");
    };
    let dying: ZooKeeperMetadataStore | null = null;
    dying = await store(root, { hooks: { beforePublish: () => crash(() => dying!) } });
    await dying.putDatabase(db);
    const t = tableOf("db", "t", 7n, 20);
    await expect(dying.putTable(t.reg, t.schemaJson, t.assignment, t.leaders)).rejects.toThrow("crashed");
    expect((await c.getChildren("/tabletservers/tables/7/buckets"))?.length).toBe(20); // half written
    let s = await store(root);
    expect(await s.getTableById(7n)).toBeUndefined();
    expect(await s.getLeaderAndIsr({ tableId: 7n, partitionId: null, bucket: 0 })).toBeUndefined();
    expect(await s.collectGarbage()).toEqual({ tables: 1, partitions: 0, tableNodes: 0 });
    expect(await c.exists("/tabletservers/tables/7")).toBeUndefined();
    // Now a drop that dies right after hiding the table.
    const p = tableOf("db", "p", 8n, 0, { partitionKeys: ["dt"] });
    await s.putTable(p.reg, p.schemaJson, p.assignment, p.leaders);
    await s.putPartition(
      { tableId: 8n, partitionId: 4n, name: "x", createdTime: 1 },
      [{ bucket: 0, replicas: [0] }],
      [],
    );
    await s.close();
    dying = await store(root, { hooks: { afterHide: () => crash(() => dying!) } });
    await expect(dying.deleteTable("db", "p")).rejects.toThrow("crashed");
    s = await store(root);
    expect(await s.listTables("db")).toEqual([]);
    expect(await s.getPartition(4n)).toBeUndefined();
    expect(await s.getAssignment(8n, 4n)).toBeUndefined();
    expect(await s.collectGarbage()).toEqual({ tables: 1, partitions: 1, tableNodes: 1 });
    for (const path of [
      "/tabletservers/tables/8",
      "/tabletservers/partitions/4",
      "/metadata/databases/db/tables/p",
    ]) {
      expect(await c.exists(path)).toBeUndefined();
    }
    // The name is free and starts clean.
    await s.putTable(p.reg, p.schemaJson, p.assignment, p.leaders);
    expect(await s.listPartitions(8n)).toEqual([]);
    await s.close();
  });

  it("a deposed coordinator's writes are refused whole once the epoch moved", async () => {
    const root = `/fence-${++roots}`;
    const c = await raw(root);
    await c.mkdirs("/coordinators");
    await c.create("/coordinators/epoch", Buffer.from("1"));
    const s = await store(root);
    s.fence(0); // elected when the epoch node was at version 0
    await s.putDatabase(db);
    expect(await s.nextId("writer")).toBe(1n);
    await c.multi([{ kind: "set", path: "/coordinators/epoch", data: Buffer.from("2"), version: 0 }]); // a takeover
    const other = { ...db, name: "other" };
    expect((await refusal(s.putDatabase(other))).code).toBe(Errors.NOT_COORDINATOR_LEADER_EXCEPTION.code);
    expect((await refusal(s.nextId("writer"))).code).toBe(Errors.NOT_COORDINATOR_LEADER_EXCEPTION.code);
    expect((await refusal(s.deleteDatabase("db"))).code).toBe(Errors.NOT_COORDINATOR_LEADER_EXCEPTION.code);
    expect(await s.getDatabase("other")).toBeUndefined();
    expect(await s.getDatabase("db")).toBeDefined();
    s.fence(1); // elected again, with the new epoch
    await s.putDatabase(other);
    expect(await s.nextId("writer")).toBe(2n);
    await s.close();
  });

  it("a write whose answer is lost while ZooKeeper is frozen is read back, not guessed", async () => {
    const root = `/frozen-${++roots}`;
    const s = await store(root, { requestTimeoutMs: 500 });
    await s.putDatabase(db);
    zk.pause();
    const pending = s.putDatabase({ ...db, name: "during" });
    await new Promise((r) => setTimeout(r, 1500)); // the request timed out: its outcome is unknown
    zk.resume();
    await pending; // resolved by reading it back once ZooKeeper answers again
    expect(await s.getDatabase("during")).toBeDefined();
    await s.close();
  });

  it("survives a ZooKeeper restart (kill -9) with everything acknowledged", async () => {
    const root = `/restart-${++roots}`;
    const s = await store(root);
    await s.putDatabase(db);
    const t = tableOf("db", "t", 7n, 4);
    await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
    const first = await s.nextId("writer", 10);
    await zk.kill();
    await zk.restart();
    expect(await s.getTable("db", "t")).toEqual(t.reg);
    expect(await s.nextId("writer")).toBe(first + 10n);
    await s.close();
  });
});
