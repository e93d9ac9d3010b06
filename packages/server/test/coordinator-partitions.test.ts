// The coordinator's partitions: create / drop / list / route, their errors, replicas told to
// tablet servers (and re-announced at registration), drops deleting data, and table validation of
// partitioned tables. Fake tablet servers; metadata in a LocalMetadataStore in a temp directory.
import { type ErrorKind, Errors, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { type CoordinatorFixture, descriptor, startCoordinator } from "./helpers.ts";

const path = { database: "db", table: "events" };

async function kindOf(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isFlussError(err)) return { kind: err.kind.name, message: err.message };
    throw err;
  }
  throw new Error("expected a FlussError");
}

async function expectError(p: Promise<unknown>, kind: ErrorKind, text?: string): Promise<void> {
  const e = await kindOf(p);
  expect(e.kind).toBe(kind.name);
  if (text !== undefined) expect(e.message).toContain(text);
}

describe("coordinator partitions", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  async function createEvents(partitionCountMax?: number): Promise<bigint> {
    fx = await startCoordinator({ servers: 2, ...(partitionCountMax ? { partitionCountMax } : {}) });
    await fx.coordinator.createTable(
      path,
      descriptor("id BIGINT, region STRING, dt STRING", { partitionKeys: ["region", "dt"], buckets: 3 }),
      false,
    );
    return (await fx.coordinator.getTableInfo(path)).tableId;
  }

  it("creates partitions with their own buckets, ids and leaders, and tells the hosting servers", async () => {
    const tableId = await createEvents();
    const md0 = await fx.coordinator.getTableMetadata(path);
    expect(md0.buckets).toEqual([]); // a partitioned table's buckets belong to its partitions
    expect(md0.partitions).toEqual([]);

    const p1 = await fx.coordinator.createPartition(path, { dt: "20240101", region: "eu" }, false);
    const p2 = await fx.coordinator.createPartition(path, { region: "us", dt: "20240101" }, false);
    expect(p1).toEqual({
      partitionId: 1n,
      partitionName: "eu$20240101",
      spec: { region: "eu", dt: "20240101" },
    });
    expect(p2.partitionId).toBe(2n);

    const md = await fx.coordinator.getTableMetadata(path);
    expect(md.partitions.map((p) => [p.partitionName, p.partitionId, p.buckets.length])).toEqual([
      ["eu$20240101", 1n, 3],
      ["us$20240101", 2n, 3],
    ]);
    for (const p of md.partitions) for (const b of p.buckets) expect(b.leader).toBe(b.replicas[0]);
    // Every bucket of every partition is hosted by the server the assignment names.
    const hosted = fx.servers.flatMap((s) => [...s.hosted.values()]);
    expect(hosted.length).toBe(6);
    for (const a of hosted) {
      expect(a.table.tableId).toBe(tableId);
      expect(a.partitionName).toBe(a.partitionId === 1n ? "eu$20240101" : "us$20240101");
    }
    expect(new Set(hosted.map((a) => a.leader)).size).toBe(2); // spread over both servers

    const byName = await fx.coordinator.getPartitionMetadata({ path, names: ["us$20240101"] });
    const byId = await fx.coordinator.getPartitionMetadata({ ids: [2n] });
    expect(byName).toEqual(byId);
    expect(byId[0]).toMatchObject({ tableId, partitionId: 2n, partitionName: "us$20240101" });
  });

  it("lists partitions, optionally filtered by a partial spec", async () => {
    await createEvents();
    for (const [region, dt] of [
      ["eu", "1"],
      ["eu", "2"],
      ["us", "1"],
    ] as const) {
      await fx.coordinator.createPartition(path, { region, dt }, false);
    }
    const names = async (partial?: Record<string, string>) =>
      (await fx.coordinator.listPartitions(path, partial)).map((p) => p.partitionName);
    expect(await names()).toEqual(["eu$1", "eu$2", "us$1"]);
    expect(await names({ region: "eu" })).toEqual(["eu$1", "eu$2"]);
    expect(await names({ dt: "1" })).toEqual(["eu$1", "us$1"]);
    expect(await names({ region: "eu", dt: "2" })).toEqual(["eu$2"]);
    expect(await names({ region: "asia" })).toEqual([]);
    await expectError(
      fx.coordinator.listPartitions(path, { city: "x" }),
      Errors.PARTITION_SPEC_INVALID_EXCEPTION,
    );
  });

  it("answers with Fluss's error kinds", async () => {
    await createEvents(2);
    const c = fx.coordinator;
    await c.createPartition(path, { region: "eu", dt: "1" }, false);
    await expectError(
      c.createPartition(path, { region: "eu", dt: "1" }, false),
      Errors.PARTITION_ALREADY_EXISTS,
      "partition 'region=eu/dt=1' already exists for table db.events",
    );
    expect((await c.createPartition(path, { region: "eu", dt: "1" }, true)).partitionId).toBe(1n);
    await expectError(
      c.createPartition(path, { region: "eu" }, false),
      Errors.PARTITION_SPEC_INVALID_EXCEPTION,
    );
    await expectError(
      c.createPartition(path, { region: "e.u", dt: "1" }, false),
      Errors.PARTITION_SPEC_INVALID_EXCEPTION,
      "the partition value e.u is invalid",
    );
    await expectError(
      c.createPartition(path, { region: "__eu", dt: "1" }, false),
      Errors.PARTITION_SPEC_INVALID_EXCEPTION,
      "'__' is not allowed as prefix",
    );
    await c.createPartition(path, { region: "us", dt: "1" }, false);
    await expectError(
      c.createPartition(path, { region: "asia", dt: "1" }, false),
      Errors.PARTITION_MAX_NUM_EXCEPTION,
      "max.partition.num 2",
    );
    await expectError(
      c.dropPartition(path, { region: "asia", dt: "1" }, false),
      Errors.PARTITION_NOT_EXISTS,
      "partition 'region=asia/dt=1' does not exist for table db.events",
    );
    await c.dropPartition(path, { region: "asia", dt: "1" }, true);
    await c.dropPartition(path, { region: "__x", dt: "1" }, true); // the reserved prefix may be named on drop
    await expectError(c.getPartitionMetadata({ path, names: ["nope$1"] }), Errors.PARTITION_NOT_EXISTS);
    await expectError(c.getPartitionMetadata({ ids: [99n] }), Errors.PARTITION_NOT_EXISTS, "partition id 99");
    await expectError(
      c.createPartition({ database: "db", table: "missing" }, { region: "eu", dt: "1" }, false),
      Errors.TABLE_NOT_EXIST,
    );

    await c.createTable({ database: "db", table: "plain" }, descriptor("id BIGINT"), false);
    const plain = { database: "db", table: "plain" };
    await expectError(c.createPartition(plain, { id: "1" }, false), Errors.TABLE_NOT_PARTITIONED_EXCEPTION);
    await expectError(c.dropPartition(plain, { id: "1" }, false), Errors.TABLE_NOT_PARTITIONED_EXCEPTION);
    await expectError(c.listPartitions(plain), Errors.TABLE_NOT_PARTITIONED_EXCEPTION);
  });

  it("drops a partition: forgotten first, then its replicas stop with their data deleted", async () => {
    const tableId = await createEvents();
    await fx.coordinator.createPartition(path, { region: "eu", dt: "1" }, false);
    const keep = await fx.coordinator.createPartition(path, { region: "us", dt: "1" }, false);
    await fx.coordinator.dropPartition(path, { region: "eu", dt: "1" }, false);
    expect((await fx.coordinator.listPartitions(path)).map((p) => p.partitionName)).toEqual(["us$1"]);
    const deleted = fx.servers.flatMap((s) => s.deleted);
    expect(deleted.map((r) => [r.tableId, r.partitionId]).sort()).toEqual([
      [tableId, 1n],
      [tableId, 1n],
      [tableId, 1n],
    ]);
    expect(fx.servers.flatMap((s) => s.partitionsOf(tableId))).toEqual(expect.arrayContaining(["us$1"]));
    expect(await fx.store.getAssignment(tableId, 1n)).toBeUndefined();
    expect(await fx.store.getLeaderAndIsr({ tableId, partitionId: 1n, bucket: 0 })).toBeUndefined();
    expect(await fx.store.getPartition(keep.partitionId)).toBeDefined();
  });

  it("drops every partition's replicas with the table", async () => {
    const tableId = await createEvents();
    await fx.coordinator.createPartition(path, { region: "eu", dt: "1" }, false);
    await fx.coordinator.createPartition(path, { region: "us", dt: "1" }, false);
    await fx.coordinator.dropTable(path, false);
    expect(fx.servers.every((s) => s.hosted.size === 0)).toBe(true);
    expect(fx.servers.flatMap((s) => s.deleted).length).toBe(6);
    expect(await fx.store.getPartition(1n)).toBeUndefined();
    expect(await fx.store.listPartitions(tableId)).toEqual([]);
  });

  it("re-announces partition replicas to a tablet server that registers again (restart)", async () => {
    const tableId = await createEvents();
    await fx.coordinator.createPartition(path, { region: "eu", dt: "1" }, false);
    await fx.coordinator.createTable(
      { database: "db", table: "plain" },
      descriptor("id BIGINT", { buckets: 2 }),
      false,
    );
    const before = fx.servers.map((s) => [...s.hosted.keys()].sort());
    fx = await fx.restart();
    const after = fx.servers.map((s) => [...s.hosted.keys()].sort());
    expect(after).toEqual(before);
    expect(fx.servers.flatMap((s) => s.partitionsOf(tableId))).toContain("eu$1");
    // Ids continue after a restart.
    expect((await fx.coordinator.createPartition(path, { region: "us", dt: "1" }, false)).partitionId).toBe(
      2n,
    );
  });
});

describe("validation of partitioned tables at create", () => {
  let fx: CoordinatorFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it("refuses bad partition keys and bucket keys, accepts good ones", async () => {
    fx = await startCoordinator();
    const c = fx.coordinator;
    const create = (name: string, d: ReturnType<typeof descriptor>) =>
      c.createTable({ database: "db", table: name }, d, false);
    await expectError(
      create("t1", descriptor("id BIGINT", { partitionKeys: ["dt"] })),
      Errors.INVALID_TABLE_EXCEPTION,
      "partition key column 'dt' does not exist",
    );
    await expectError(
      create("t2", descriptor("id BIGINT, dt STRING", { partitionKeys: ["dt", "dt"] })),
      Errors.INVALID_TABLE_EXCEPTION,
      "repeated",
    );
    await expectError(
      create("t3", descriptor("id BIGINT, amount DECIMAL(10, 2)", { partitionKeys: ["amount"] })),
      Errors.INVALID_TABLE_EXCEPTION,
      "partition key 'amount' has type DECIMAL(10, 2)",
    );
    await expectError(
      create("t4", descriptor("id BIGINT, dt STRING", { partitionKeys: ["dt"], bucketKeys: ["id", "dt"] })),
      Errors.INVALID_TABLE_EXCEPTION,
      "must not include partition key column(s) [dt]",
    );
    await expectError(
      create("t5", descriptor("id BIGINT NOT NULL, dt STRING, PRIMARY KEY (id)", { partitionKeys: ["dt"] })),
      Errors.INVALID_TABLE_EXCEPTION,
      "among the primary key",
    );
    await expectError(
      create("t6", descriptor("id BIGINT", { options: { "table.auto-partition.enabled": "true" } })),
      Errors.INVALID_CONFIG_EXCEPTION,
      "needs a partitioned table",
    );
    await expectError(
      create(
        "t7",
        descriptor("id BIGINT, dt STRING", {
          partitionKeys: ["dt"],
          options: { "table.auto-partition.time-unit": "WEEK" },
        }),
      ),
      Errors.INVALID_CONFIG_EXCEPTION,
      "allowed: HOUR, DAY, MONTH, QUARTER, YEAR",
    );
    // Accepted: a PK table partitioned by a primary-key column, bucketed by the rest of the key.
    await create(
      "ok_pk",
      descriptor("id BIGINT NOT NULL, dt STRING NOT NULL, v STRING, PRIMARY KEY (id, dt)", {
        partitionKeys: ["dt"],
      }),
    );
    const pk = await c.getTableInfo({ database: "db", table: "ok_pk" });
    expect(pk.descriptor.bucketKeys).toEqual(["id"]);
    for (const type of ["INT", "DATE", "TIMESTAMP_LTZ(3)", "BYTES", "BOOLEAN", "TIME", "DOUBLE", "CHAR(2)"]) {
      await create(
        `ok_${type.replace(/\W/g, "")}`,
        descriptor(`id BIGINT, p ${type}`, { partitionKeys: ["p"] }),
      );
    }
    // Several keys with auto partitioning: num-precreate is stored as 0.
    await create(
      "ok_multi",
      descriptor("id BIGINT, region STRING, dt STRING", {
        partitionKeys: ["region", "dt"],
        options: { "table.auto-partition.enabled": "true", "table.auto-partition.key": "dt" },
      }),
    );
    const multi = await c.getTableInfo({ database: "db", table: "ok_multi" });
    expect(multi.descriptor.properties["table.auto-partition.num-precreate"]).toBe("0");
  });
});
