// The local metadata store under failing writes, through the coordinator: a mutation is visible
// only once durable, a failed one changes nothing and leaves the store usable, a drop gets through
// on a full disk (reserve file, then data first), and a data directory from the JSON store era is
// migrated. Failures are injected at the store's commit seam, and met for real on a small tmpfs
// where this process may mount one.

import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errors, type FlussError, isFlussError, ManualClock } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { fillDisk, freeDisk, mountTmpfs } from "../../../test/helpers/tmpfs.ts";
import { Coordinator } from "../src/coordinator/coordinator.ts";
import { silentLogger } from "../src/logging.ts";
import { LocalMetadataStore, type LocalMetadataStoreOptions } from "../src/metadata/local-metadata-store.ts";
import { descriptor, FakeTabletServer } from "./helpers.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "fluss-meta-"));
  dirs.push(d);
  return d;
}

interface Fixture {
  coordinator: Coordinator;
  store: LocalMetadataStore;
  server: FakeTabletServer;
  close(): Promise<void>;
}

async function start(dir: string, options: LocalMetadataStoreOptions = {}): Promise<Fixture> {
  const store = new LocalMetadataStore(dir, options);
  await store.open();
  const coordinator = new Coordinator({
    store,
    clock: new ManualClock(0),
    logger: silentLogger,
    node: { id: -1, host: "127.0.0.1", port: 9123 },
    defaultBucketNumber: 2,
    defaultReplicationFactor: 1,
    bucketCountMax: 4096,
    defaultTimeZone: "UTC",
  });
  const server = new FakeTabletServer(0);
  await coordinator.registerTabletServer(server);
  await coordinator.createDatabase("db", true);
  return {
    coordinator,
    store,
    server,
    async close() {
      await coordinator.autoPartitions.stop();
      await store.close();
    },
  };
}

/** A commit seam that fails the named operations with `code` while `when()` holds. */
function failing(ops: readonly string[], code: string, when: () => boolean = () => true) {
  const state = { failures: 0 };
  const beforeCommit = (op: string): void => {
    if (!ops.includes(op) || !when()) return;
    state.failures++;
    throw Object.assign(new Error(`${code}: injected at commit of ${op}`), { code });
  };
  return { state, beforeCommit };
}

async function rejection(p: Promise<unknown>): Promise<FlussError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isFlussError(err)) throw new Error(`expected a FlussError, got ${String(err)}`);
  return err;
}

const table = { database: "db", table: "t" };
const other = { database: "db", table: "u" };
const plain = descriptor("id BIGINT, v STRING");
const partitioned = descriptor("id BIGINT, dt STRING NOT NULL", { partitionKeys: ["dt"] });

describe("metadata store: failed writes change nothing", () => {
  it("a create whose commit fails is never listed, and the store takes the next write", async () => {
    const dir = await tempDir();
    let broken = true;
    const seam = failing(["put table"], "EIO", () => broken);
    const fx = await start(dir, { beforeCommit: seam.beforeCommit });
    const err = await rejection(fx.coordinator.createTable(table, plain, false));
    expect(err.code).toBe(Errors.STORAGE_EXCEPTION.code);
    expect(await fx.coordinator.tableExists(table)).toBe(false);
    expect(await fx.coordinator.listTables("db")).toEqual([]);
    expect(fx.server.hosted.size).toBe(0); // no tablet server heard of it
    broken = false;
    await fx.coordinator.createTable(table, plain, false);
    expect(await fx.coordinator.listTables("db")).toEqual(["t"]);
    expect(fx.server.hosted.size).toBe(2);
    await fx.close();
    const again = await start(dir);
    expect(await again.coordinator.listTables("db")).toEqual(["t"]);
    const meta = await again.coordinator.getTableMetadata(table);
    expect(meta.buckets.map((b) => b.leader)).toEqual([0, 0]); // stored with its leaders
    await again.close();
  });

  it("a drop whose commit fails keeps the table, its leaders and its data, now and after a restart", async () => {
    const dir = await tempDir();
    let broken = false;
    const seam = failing(["delete table"], "EIO", () => broken);
    const fx = await start(dir, { beforeCommit: seam.beforeCommit });
    await fx.coordinator.createTable(table, plain, false);
    broken = true;
    expect((await rejection(fx.coordinator.dropTable(table, false))).code).toBe(
      Errors.STORAGE_EXCEPTION.code,
    );
    expect(await fx.coordinator.listTables("db")).toEqual(["t"]);
    expect((await fx.coordinator.getTableMetadata(table)).buckets.map((b) => b.leader)).toEqual([0, 0]);
    expect(fx.server.deleted).toEqual([]);
    expect(fx.server.hosted.size).toBe(2);
    await fx.close();
    const again = await start(dir);
    expect(await again.coordinator.listTables("db")).toEqual(["t"]);
    await again.coordinator.dropTable(table, false);
    expect(await again.coordinator.listTables("db")).toEqual([]);
    await again.close();
  });

  it("databases, partitions and ids: a failed write is not visible and the next one succeeds", async () => {
    const dir = await tempDir();
    let failOps: string[] = [];
    const fx = await start(dir, {
      beforeCommit: (op) => {
        if (failOps.includes(op)) throw Object.assign(new Error("EIO: injected"), { code: "EIO" });
      },
    });
    failOps = ["put database"];
    await rejection(fx.coordinator.createDatabase("other", false));
    expect(await fx.coordinator.databaseExists("other")).toBe(false);
    failOps = [];
    await fx.coordinator.createDatabase("other", false);
    failOps = ["delete database"];
    await rejection(fx.coordinator.dropDatabase("other", false, false));
    expect(await fx.coordinator.databaseExists("other")).toBe(true);

    failOps = [];
    await fx.coordinator.createTable(other, partitioned, false);
    failOps = ["put partition"];
    await rejection(fx.coordinator.createPartition(other, { dt: "a" }, false));
    expect(await fx.coordinator.listPartitions(other)).toEqual([]);
    failOps = [];
    const p = await fx.coordinator.createPartition(other, { dt: "a" }, false);
    failOps = ["delete partition"];
    await rejection(fx.coordinator.dropPartition(other, { dt: "a" }, false));
    expect((await fx.coordinator.listPartitions(other)).map((x) => x.partitionId)).toEqual([p.partitionId]);
    expect(fx.server.deleted).toEqual([]);

    failOps = [];
    const w1 = await fx.coordinator.allocateWriterId();
    failOps = ["next id"];
    await rejection(fx.coordinator.allocateWriterId());
    failOps = [];
    expect(await fx.coordinator.allocateWriterId()).toBe(w1 + 1n);
    await fx.close();
  });
});

describe("metadata store: dropping on a full disk", () => {
  it("gives back its reserve to record a drop, and takes the space again once there is room", async () => {
    const dir = await tempDir();
    const reserve = join(dir, "metadata.reserve");
    let full = false;
    // The disk is full until the reserve file is gone.
    const seam = failing(["delete table"], "ENOSPC", () => full && fs.existsSync(reserve));
    const fx = await start(dir, { beforeCommit: seam.beforeCommit });
    expect(fs.statSync(reserve).size).toBe(1024 * 1024);
    await fx.coordinator.createTable(table, plain, false);
    full = true;
    await fx.coordinator.dropTable(table, false);
    expect(seam.state.failures).toBe(1);
    expect(fx.store.stats().reserveReleases).toBe(1);
    expect(await fx.coordinator.tableExists(table)).toBe(false);
    expect(fx.server.deleted.length).toBe(2);
    // The disk here only pretended to be full: the reserve is written again right after the commit.
    expect(fs.statSync(reserve).size).toBe(1024 * 1024);
    expect(fx.store.stats().reservePresent).toBe(true);
    await fx.close();
  });

  it("deletes the data first when even the reserve is not enough, then records the drop", async () => {
    const dir = await tempDir();
    let server: FakeTabletServer | null = null;
    // Full until some data is deleted; no reserve to give back.
    const seam = failing(["delete table"], "ENOSPC", () => (server?.deleted.length ?? 1) === 0);
    const fx = await start(dir, { reservedBytes: 0, beforeCommit: seam.beforeCommit });
    server = fx.server;
    await fx.coordinator.createTable(table, plain, false);
    await fx.coordinator.dropTable(table, false);
    expect(seam.state.failures).toBe(1);
    expect(fx.server.deleted.length).toBe(2);
    expect(await fx.coordinator.tableExists(table)).toBe(false);
    await fx.close();
    const again = await start(dir);
    expect(await again.coordinator.tableExists(table)).toBe(false);
    await again.close();
  });
});

describe("metadata store: migration from metadata.json", () => {
  it("migrates a JSON document at the first open, keeps the file renamed, and does it once", async () => {
    const dir = await tempDir();
    const doc = {
      version: 1,
      counters: { table: "7", partition: "3", writer: "41" },
      databases: [{ name: "db", createdTime: 1, modifiedTime: 1, descriptorJson: "{}" }],
      tables: [
        {
          reg: {
            database: "db",
            table: "events",
            tableId: "7",
            schemaId: 1,
            descriptorJson: JSON.stringify({
              schema: { version: 1, columns: [{ name: "id", data_type: { type: "BIGINT" } }] },
              partition_key: [],
              bucket_key: [],
              bucket_count: 1,
              properties: {},
              custom_properties: {},
            }),
            bucketCount: 1,
            createdTime: 5,
            modifiedTime: 5,
          },
          schemas: [[1, '{"version":1}']],
          assignment: [{ bucket: 0, replicas: [0] }],
          partitions: [
            {
              reg: { name: "x", createdTime: 6, partitionId: "3" },
              assignment: [{ bucket: 0, replicas: [0] }],
            },
          ],
        },
      ],
      leaders: [
        ["7/-/0", { leader: 0, leaderEpoch: 2, isr: [0], coordinatorEpoch: 0, bucketEpoch: 0 }],
        ["7/3/0", { leader: 0, leaderEpoch: 1, isr: [0], coordinatorEpoch: 0, bucketEpoch: 0 }],
      ],
    };
    fs.writeFileSync(join(dir, "metadata.json"), JSON.stringify(doc));
    const store = new LocalMetadataStore(dir);
    await store.open();
    expect(fs.existsSync(join(dir, "metadata.json"))).toBe(false);
    expect(fs.existsSync(join(dir, "metadata.json.migrated"))).toBe(true);
    expect((await store.listTables("db")).map((t) => [t.table, t.tableId])).toEqual([["events", 7n]]);
    expect(await store.getTableById(7n)).toMatchObject({ table: "events", createdTime: 5 });
    expect(await store.getSchema(7n, 1)).toBe('{"version":1}');
    expect(await store.getAssignment(7n, 3n)).toEqual([{ bucket: 0, replicas: [0] }]);
    expect(await store.getPartition(3n)).toEqual({ tableId: 7n, partitionId: 3n, name: "x", createdTime: 6 });
    expect((await store.getLeaderAndIsr({ tableId: 7n, partitionId: null, bucket: 0 }))?.leaderEpoch).toBe(2);
    expect((await store.getLeaderAndIsr({ tableId: 7n, partitionId: 3n, bucket: 0 }))?.leaderEpoch).toBe(1);
    expect(await store.nextId("table")).toBe(8n);
    expect(await store.nextId("writer")).toBe(42n);
    // A crash between the migration's commit and the rename: the next open only renames.
    fs.renameSync(join(dir, "metadata.json.migrated"), join(dir, "metadata.json"));
    await store.close();
    const reopened = new LocalMetadataStore(dir);
    await reopened.open();
    expect(fs.existsSync(join(dir, "metadata.json"))).toBe(false);
    expect(await reopened.nextId("table")).toBe(9n); // not migrated twice (which would reset it to 8)
    await reopened.close();
  });
});

describe("metadata store: migrating what the JSON store wrote", () => {
  it("serves a data directory written by the old store: tables, partitions, leaders, counters", async () => {
    const dir = await tempDir();
    // Written by the JSON store (before this one) for: database shop; shop.orders with 3 buckets;
    // shop.sales partitioned by dt with 2 buckets and partitions 20261126, 20261127; 2 writer ids.
    fs.copyFileSync(join(import.meta.dirname, "fixtures", "metadata-v1.json"), join(dir, "metadata.json"));
    const fx = await start(dir);
    const { coordinator, server } = fx;
    expect((await coordinator.listDatabases()).map((d) => d.name)).toEqual(["db", "shop"]);
    expect(await coordinator.listTables("shop")).toEqual(["orders", "sales"]);
    const orders = await coordinator.getTableMetadata({ database: "shop", table: "orders" });
    expect(orders.buckets.map((b) => [b.bucket, b.leader])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    const sales = { database: "shop", table: "sales" };
    expect((await coordinator.listPartitions(sales)).map((p) => p.partitionName)).toEqual([
      "20261126",
      "20261127",
    ]);
    expect((await coordinator.getTableMetadata(sales)).partitions.every((p) => p.buckets.length === 2)).toBe(
      true,
    );
    expect(server.hosted.size).toBe(3 + 2 * 2); // told about every replica when it registered
    expect(await coordinator.allocateWriterId()).toBe(3n);
    await coordinator.createTable({ database: "shop", table: "more" }, plain, false);
    expect((await coordinator.getTableInfo({ database: "shop", table: "more" })).tableId).toBe(3n);
    await fx.close();
  });
});

describe("metadata store on a really full disk (tmpfs)", () => {
  it("fails writes on a full disk without changing anything, and works again once space is freed", async (ctx) => {
    const tmp = await mountTmpfs(4 * 1024 * 1024);
    if (tmp === null) return ctx.skip();
    try {
      const dir = join(tmp.dir, "coordinator");
      const fx = await start(dir, { reservedBytes: 0 });
      const filler = join(tmp.dir, "filler");
      fillDisk(filler);
      // lmdb reuses free pages of its file first: create until the disk really refuses one.
      const created: string[] = [];
      let refused: { name: string; err: FlussError } | null = null;
      for (let i = 0; i < 5000 && refused === null; i++) {
        const name = `t${String(i).padStart(4, "0")}`;
        try {
          await fx.coordinator.createTable({ database: "db", table: name }, plain, false);
          created.push(name);
        } catch (err) {
          if (!isFlussError(err)) throw err;
          refused = { name, err };
        }
      }
      expect(refused?.err.code).toBe(Errors.STORAGE_EXCEPTION.code);
      expect(await fx.coordinator.listTables("db")).toEqual(created);
      // Still full: further writes fail and change nothing; reads work.
      await rejection(fx.coordinator.createTable({ database: "db", table: refused!.name }, plain, false));
      expect(await fx.coordinator.tableExists({ database: "db", table: refused!.name })).toBe(false);
      freeDisk(filler);
      await fx.coordinator.createTable({ database: "db", table: refused!.name }, plain, false);
      const all = [...created, refused!.name];
      expect(await fx.coordinator.listTables("db")).toEqual(all);
      await fx.close();
      const again = await start(dir, { reservedBytes: 0 });
      expect(await again.coordinator.listTables("db")).toEqual(all);
      await again.close();
    } finally {
      await tmp.unmount();
    }
  });

  it("gives back its reserve when lmdb reports the full disk, once, then refuses cleanly", async (ctx) => {
    const tmp = await mountTmpfs(4 * 1024 * 1024);
    if (tmp === null) return ctx.skip();
    try {
      const fx = await start(join(tmp.dir, "coordinator"));
      expect(fx.store.stats().reservePresent).toBe(true);
      fillDisk(join(tmp.dir, "filler"));
      let refused: FlussError | null = null;
      let created = 0;
      for (let i = 0; i < 20_000 && refused === null; i++) {
        try {
          await fx.coordinator.createTable({ database: "db", table: `r${i}` }, plain, false);
          created++;
        } catch (err) {
          if (!isFlussError(err)) throw err;
          refused = err;
        }
      }
      expect(refused?.code).toBe(Errors.STORAGE_EXCEPTION.code);
      // The reserve was given back exactly once (it cannot come back on the full disk), and the
      // writes it made room for went through.
      expect(fx.store.stats()).toMatchObject({ reserveReleases: 1, reservePresent: false });
      expect((await fx.coordinator.listTables("db")).length).toBe(created);
      await fx.close();
    } finally {
      await tmp.unmount();
    }
  });

  it("records a drop on a full disk thanks to its reserve", async (ctx) => {
    const tmp = await mountTmpfs(4 * 1024 * 1024);
    if (tmp === null) return ctx.skip();
    try {
      const dir = join(tmp.dir, "coordinator");
      const fx = await start(dir);
      for (let i = 0; i < 20; i++)
        await fx.coordinator.createTable({ database: "db", table: `t${i}` }, plain, false);
      fillDisk(join(tmp.dir, "filler"));
      for (let i = 0; i < 20; i++) await fx.coordinator.dropTable({ database: "db", table: `t${i}` }, false);
      expect(await fx.coordinator.listTables("db")).toEqual([]);
      await fx.close();
      const again = await start(dir);
      expect(await again.coordinator.listTables("db")).toEqual([]);
      await again.close();
    } finally {
      await tmp.unmount();
    }
  });
});
