// Partitioned tables over the wire against a real embedded cluster (two tablet servers): create,
// list and drop partitions with raw RPCs, route by partition path and id, write a partition's
// bucket with ProduceLog carrying partition_id and read it back with FetchLog / ListOffsets, check
// a dropped partition's data directory is gone and that partitions survive a restart. Also: an
// auto-partitioned table gets its partitions at CREATE TABLE.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  autoPartitionTime,
  buildArrowLogBatch,
  buildKvRecordBatch,
  decodeArrowLogBatch,
  Errors,
  encodeCompactedRow,
  encodeKey,
  NO_COMPRESSION,
  parseSchema,
  readRows,
} from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const SCHEMA = "id BIGINT, dt STRING, msg STRING";
const tablePath = { databaseName: "shop", tableName: "events" };

async function connectTo(addr: string): Promise<RpcConnection> {
  const [host, port] = addr.split(":");
  return RpcConnection.connect({ host: host!, port: Number(port) });
}

function spec(dt: string) {
  return { partitionKeyValues: [{ key: "dt", value: dt }] };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

describe("partitions over RPC", () => {
  let tc: TestCluster;
  let coord: RpcConnection;
  let tableId: bigint;

  beforeAll(async () => {
    tc = await startCluster({ "tablet-server.count": "2", "default.bucket.number": "2" });
    await tc.conn.admin.createDatabase("shop");
    await tc.conn.admin.createTable("shop.events", { schema: SCHEMA, partitionKeys: ["dt"], buckets: 2 });
    coord = await connectTo(tc.bootstrap);
    const info = await coord.request(ApiKeys.GET_TABLE_INFO, { tablePath });
    tableId = info.tableId;
  });
  afterAll(async () => {
    await coord?.close();
    await tc?.stop();
  });

  async function leaderOf(partitionId: bigint, bucket: number): Promise<RpcConnection> {
    const md = await coord.request(ApiKeys.GET_METADATA, { partitionsId: [partitionId] });
    const b = md.partitionMetadata[0]!.bucketMetadata.find((x) => x.bucketId === bucket)!;
    const node = md.tabletServers.find((s) => s.nodeId === b.leaderId)!;
    return connectTo(`${node.host}:${node.port}`);
  }

  it("creates and lists partitions; duplicates and bad specs are refused with Fluss codes", async () => {
    await coord.request(ApiKeys.CREATE_PARTITION, {
      tablePath,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: false,
    });
    await coord.request(ApiKeys.CREATE_PARTITION, {
      tablePath,
      partitionSpec: spec("20240102"),
      ignoreIfNotExists: false,
    });
    await expect(
      coord.request(ApiKeys.CREATE_PARTITION, {
        tablePath,
        partitionSpec: spec("20240101"),
        ignoreIfNotExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.PARTITION_ALREADY_EXISTS.code });
    await coord.request(ApiKeys.CREATE_PARTITION, {
      tablePath,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: true,
    });
    await expect(
      coord.request(ApiKeys.CREATE_PARTITION, {
        tablePath,
        partitionSpec: spec("2024.01"),
        ignoreIfNotExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.PARTITION_SPEC_INVALID_EXCEPTION.code });
    await expect(
      coord.request(ApiKeys.CREATE_PARTITION, {
        tablePath,
        partitionSpec: { partitionKeyValues: [{ key: "day", value: "1" }] },
        ignoreIfNotExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.PARTITION_SPEC_INVALID_EXCEPTION.code });

    const list = await coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath });
    expect(
      list.partitionsInfo.map((p) => [
        p.partitionId,
        p.partitionSpec?.partitionKeyValues.map((kv) => [kv.key, kv.value]),
      ]),
    ).toEqual([
      [1n, [["dt", "20240101"]]],
      [2n, [["dt", "20240102"]]],
    ]);
    const partial = await coord.request(ApiKeys.LIST_PARTITION_INFOS, {
      tablePath,
      partialPartitionSpec: spec("20240102"),
    });
    expect(partial.partitionsInfo.map((p) => p.partitionId)).toEqual([2n]);
    // Tablet servers answer ListPartitionInfos too.
    const ts = await connectTo(tc.cluster.tabletServerAddresses[1]!);
    expect((await ts.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath })).partitionsInfo.length).toBe(2);
    await ts.close();
  });

  it("routes partitions by path and by id; a missing one is PARTITION_NOT_EXISTS", async () => {
    const md = await coord.request(ApiKeys.GET_METADATA, {
      tablePath: [tablePath],
      partitionsPath: [{ ...tablePath, partitionName: "20240102" }],
      partitionsId: [1n],
    });
    expect(md.tableMetadata[0]!.bucketMetadata).toEqual([]); // routes live in the partitions
    const byName = new Map(md.partitionMetadata.map((p) => [p.partitionName, p]));
    expect([...byName.keys()].sort()).toEqual(["20240101", "20240102"]);
    for (const p of md.partitionMetadata) {
      expect(p.tableId).toBe(tableId);
      expect(p.bucketMetadata.map((b) => b.bucketId).sort()).toEqual([0, 1]);
      for (const b of p.bucketMetadata) expect(b.replicaId).toEqual([b.leaderId]);
    }
    await expect(
      coord.request(ApiKeys.GET_METADATA, { partitionsPath: [{ ...tablePath, partitionName: "19990101" }] }),
    ).rejects.toMatchObject({ code: Errors.PARTITION_NOT_EXISTS.code });
    await expect(coord.request(ApiKeys.GET_METADATA, { partitionsId: [404n] })).rejects.toMatchObject({
      code: Errors.PARTITION_NOT_EXISTS.code,
    });
  });

  it("writes a partition's bucket with ProduceLog (partition_id) and reads it back", async () => {
    const schema = parseSchema(SCHEMA);
    const rows = [0, 1, 2].map((i) => ({ id: BigInt(i), dt: "20240102", msg: `m${i}` }));
    const records = buildArrowLogBatch({ schema, schemaId: 1, rows, compression: NO_COMPRESSION });
    const leader = await leaderOf(2n, 1);
    const produced = await leader.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId,
      timeoutMs: 5000,
      bucketsReq: [{ partitionId: 2n, bucketId: 1, records }],
    });
    expect(produced.bucketsResp[0]).toMatchObject({ partitionId: 2n, bucketId: 1, baseOffset: 0n });
    expect(produced.bucketsResp[0]!.errorCode ?? 0).toBe(0);

    const fetched = await leader.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: 1 << 20,
      maxWaitMs: 0,
      tablesReq: [
        {
          tableId,
          projectionPushdownEnabled: false,
          bucketsReq: [{ partitionId: 2n, bucketId: 1, fetchOffset: 0n, maxFetchBytes: 1 << 20 }],
        },
      ],
    });
    const b = fetched.tablesResp[0]!.bucketsResp[0]!;
    expect(b).toMatchObject({ partitionId: 2n, bucketId: 1, highWatermark: 3n });
    const decoded = decodeArrowLogBatch(b.records, schema.columns, { verifyCrc: true });
    expect(readRows(decoded.recordBatch, schema.columns)).toEqual(rows);

    const offsets = await leader.request(ApiKeys.LIST_OFFSETS, {
      followerServerId: -1,
      offsetType: 1,
      tableId,
      partitionId: 2n,
      bucketId: [1],
    });
    expect(offsets.bucketsResp).toEqual([expect.objectContaining({ bucketId: 1, offset: 3n })]);

    // Without partition_id the bucket is not the partition's: unknown.
    const unpartitioned = await leader.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId,
      timeoutMs: 5000,
      bucketsReq: [{ bucketId: 1, records }],
    });
    expect(unpartitioned.bucketsResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    await leader.close();
  });

  it("drops a partition: gone from lists, routes and disk; writes to it fail", async () => {
    const p1Dirs = async () => {
      const found: string[] = [];
      for (let i = 0; i < 2; i++) {
        const tableDir = join(tc.dataDir, `tablet-server-${i}`, "shop", `events-${tableId}`);
        for (const name of await readdir(tableDir).catch(() => [] as string[])) {
          if (name === "20240101-p1") found.push(join(tableDir, name));
        }
      }
      return found;
    };
    expect((await p1Dirs()).length).toBeGreaterThan(0);
    const leader = await leaderOf(1n, 0);

    await coord.request(ApiKeys.DROP_PARTITION, {
      tablePath,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: false,
    });
    expect(await p1Dirs()).toEqual([]);
    expect(
      (await exists(join(tc.dataDir, "tablet-server-0", "shop", `events-${tableId}`, "20240102-p2"))) ||
        (await exists(join(tc.dataDir, "tablet-server-1", "shop", `events-${tableId}`, "20240102-p2"))),
    ).toBe(true);
    const list = await coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath });
    expect(list.partitionsInfo.map((p) => p.partitionId)).toEqual([2n]);
    await expect(coord.request(ApiKeys.GET_METADATA, { partitionsId: [1n] })).rejects.toMatchObject({
      code: Errors.PARTITION_NOT_EXISTS.code,
    });
    await expect(
      coord.request(ApiKeys.DROP_PARTITION, {
        tablePath,
        partitionSpec: spec("20240101"),
        ignoreIfNotExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.PARTITION_NOT_EXISTS.code });
    await coord.request(ApiKeys.DROP_PARTITION, {
      tablePath,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: true,
    });

    const schema = parseSchema(SCHEMA);
    const records = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows: [{ id: 9n, dt: "20240101", msg: "late" }],
      compression: NO_COMPRESSION,
    });
    const r = await leader.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId,
      timeoutMs: 5000,
      bucketsReq: [{ partitionId: 1n, bucketId: 0, records }],
    });
    expect(r.bucketsResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    await leader.close();
  });

  it("refuses partition calls on a table that is not partitioned", async () => {
    await tc.conn.admin.createTable("shop.plain", { schema: "id BIGINT" });
    const plain = { databaseName: "shop", tableName: "plain" };
    await expect(coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath: plain })).rejects.toMatchObject({
      code: Errors.TABLE_NOT_PARTITIONED_EXCEPTION.code,
    });
    await expect(
      coord.request(ApiKeys.CREATE_PARTITION, {
        tablePath: plain,
        partitionSpec: { partitionKeyValues: [{ key: "id", value: "1" }] },
        ignoreIfNotExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.TABLE_NOT_PARTITIONED_EXCEPTION.code });
  });

  it("gives an auto-partitioned table its partitions at CREATE TABLE", async () => {
    await tc.conn.admin.createTable("shop.auto", {
      schema: "id BIGINT, hour STRING",
      partitionKeys: ["hour"],
      options: {
        "table.auto-partition.enabled": "true",
        "table.auto-partition.time-unit": "HOUR",
        "table.auto-partition.num-precreate": "3",
        "table.auto-partition.time-zone": "UTC",
      },
    });
    const now = Date.now();
    const list = await coord.request(ApiKeys.LIST_PARTITION_INFOS, {
      tablePath: { databaseName: "shop", tableName: "auto" },
    });
    const names = list.partitionsInfo.map((p) => p.partitionSpec!.partitionKeyValues[0]!.value).sort();
    const s = { timeUnit: "HOUR" as const, timeZone: "UTC", timeFormat: null };
    // Tolerate an hour boundary between creation and now.
    const expectedNow = [0, 1, 2].map((k) => autoPartitionTime(s, now, k)!);
    const expectedBefore = [0, 1, 2].map((k) => autoPartitionTime(s, now - 60_000, k)!);
    expect([expectedNow, expectedBefore]).toContainEqual(names);
  });

  it("drops a primary-key table's partition with its KV data and remote KV snapshots", async () => {
    await tc.conn.admin.createTable("shop.users", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL, name STRING",
      primaryKey: ["id", "dt"],
      partitionKeys: ["dt"],
      buckets: 1,
    });
    const users = { databaseName: "shop", tableName: "users" };
    const usersId = (await coord.request(ApiKeys.GET_TABLE_INFO, { tablePath: users })).tableId;
    await coord.request(ApiKeys.CREATE_PARTITION, {
      tablePath: users,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: false,
    });
    const [p] = (await coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath: users })).partitionsInfo;
    const schema = parseSchema("id BIGINT NOT NULL, dt STRING NOT NULL, name STRING", ["id", "dt"]);
    const types = schema.columns.map((c) => c.type);
    // The key of a partitioned primary-key table is the primary key without partition keys.
    const records = buildKvRecordBatch({
      schemaId: 1,
      records: [
        { key: encodeKey([types[0]!], [7n]), row: encodeCompactedRow(types, [7n, "20240101", "ann"]) },
      ],
    });
    const leader = await leaderOf(p!.partitionId, 0);
    const put = await leader.request(ApiKeys.PUT_KV, {
      acks: -1,
      tableId: usersId,
      timeoutMs: 5000,
      bucketsReq: [{ partitionId: p!.partitionId, bucketId: 0, records }],
    });
    expect(put.bucketsResp[0]!.errorCode ?? 0).toBe(0);
    for (const ts of tc.cluster.tabletServers) await ts.tasks.snapshotKvTablets();
    const remoteBucket = join(tc.dataDir, "remote", String(usersId), "20240101", "0");
    expect((await readdir(remoteBucket)).some((n) => n.startsWith("snapshot-"))).toBe(true);

    await coord.request(ApiKeys.DROP_PARTITION, {
      tablePath: users,
      partitionSpec: spec("20240101"),
      ignoreIfNotExists: false,
    });
    expect(await exists(remoteBucket)).toBe(false);
    expect(await exists(join(tc.dataDir, "remote", String(usersId)))).toBe(false);
    for (let i = 0; i < 2; i++) {
      const dir = join(
        tc.dataDir,
        `tablet-server-${i}`,
        "shop",
        `users-${usersId}`,
        `20240101-p${p!.partitionId}`,
      );
      expect(await exists(dir)).toBe(false);
    }
    await leader.close();
  });

  it("keeps partitions and their data across a restart", async () => {
    await coord.close();
    const dataDir = tc.dataDir;
    await tc.stop({ keepData: true });
    tc = await startCluster({ "tablet-server.count": "2", "default.bucket.number": "2" }, dataDir);
    coord = await connectTo(tc.bootstrap);
    const list = await coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath });
    expect(list.partitionsInfo.map((p) => p.partitionId)).toEqual([2n]);
    const leader = await leaderOf(2n, 1);
    const offsets = await leader.request(ApiKeys.LIST_OFFSETS, {
      followerServerId: -1,
      offsetType: 1,
      tableId,
      partitionId: 2n,
      bucketId: [1],
    });
    expect(offsets.bucketsResp[0]).toMatchObject({ bucketId: 1, offset: 3n });
    await leader.close();
    // New partition ids continue after the restart.
    await coord.request(ApiKeys.CREATE_PARTITION, {
      tablePath,
      partitionSpec: spec("20240103"),
      ignoreIfNotExists: false,
    });
    const after = await coord.request(ApiKeys.LIST_PARTITION_INFOS, { tablePath });
    expect(after.partitionsInfo.map((p) => p.partitionId).sort()).toEqual([2n, expect.any(BigInt)]);
    expect(after.partitionsInfo.every((p) => p.partitionId !== 1n)).toBe(true);
  });
});
