// What Fluss's own clients (pyfluss, fluss-rs, the Java client) need from the server, checked
// over raw RPCs against an embedded cluster so `npm test` covers it without those clients (the
// real clients run in `npm run test:interop`): tablet servers answer the read-only admin APIs and
// the file-system security token, as Fluss's do; table and database JSON are Fluss's; fetch offset
// -2 means "from the log start"; a table created without `table.statistics.columns` (as Fluss
// clients create tables) gets magic v0 batches from the SDK writer, while the SDK's own tables carry
// statistics (v1).

import {
  decodeArrowLogBatch,
  decodeJson,
  encodeJson,
  parseSchema,
  readRows,
  schemaToJson,
} from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const SCHEMA = "id BIGINT, msg STRING";

async function connectTo(addr: string): Promise<RpcConnection> {
  const [host, port] = addr.split(":");
  return RpcConnection.connect({ host: host!, port: Number(port) });
}

describe("what Fluss clients need from the server", () => {
  let tc: TestCluster;
  let coord: RpcConnection;
  let tablet: RpcConnection;

  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createDatabase("compat");
    coord = await connectTo(tc.bootstrap);
    tablet = await connectTo(tc.cluster.tabletServerAddresses[0]!);
  });
  afterAll(async () => {
    await coord?.close();
    await tablet?.close();
    await tc?.stop();
  });

  async function tableId(name: string): Promise<bigint> {
    const info = await coord.request(ApiKeys.GET_TABLE_INFO, {
      tablePath: { databaseName: "compat", tableName: name },
    });
    return info.tableId;
  }

  async function appendWithSdk(name: string, rows: number): Promise<void> {
    const writer = (await tc.conn.getTable(`compat.${name}`)).newAppendWriter();
    for (let i = 0; i < rows; i++) await writer.append({ id: BigInt(i), msg: `m${i}` });
    await writer.flush();
    await writer.close();
  }

  async function fetch(id: bigint, fetchOffset: bigint) {
    const resp = await tablet.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: 1 << 20,
      maxWaitMs: 0,
      tablesReq: [
        {
          tableId: id,
          projectionPushdownEnabled: false,
          bucketsReq: [{ bucketId: 0, fetchOffset, maxFetchBytes: 1 << 20 }],
        },
      ],
    });
    return resp.tablesResp[0]!.bucketsResp[0]!;
  }

  it("tablet servers serve every read-only admin API (Fluss's AdminReadOnlyGateway)", async () => {
    await tc.conn.admin.createTable("compat.meta", { schema: SCHEMA, buckets: 2, comment: "hi" });
    const versions = await tablet.request(ApiKeys.API_VERSIONS, {
      clientSoftwareName: "test",
      clientSoftwareVersion: "0",
    });
    const keys = versions.apiVersions.map((v) => v.apiKey);
    for (const key of [1003, 1004, 1007, 1008, 1010, 1011, 1025, 1035]) expect(keys).toContain(key);

    const tablePath = { databaseName: "compat", tableName: "meta" };
    expect((await tablet.request(ApiKeys.LIST_DATABASES, {})).databaseName).toContain("compat");
    expect((await tablet.request(ApiKeys.DATABASE_EXISTS, { databaseName: "compat" })).exists).toBe(true);
    expect((await tablet.request(ApiKeys.LIST_TABLES, { databaseName: "compat" })).tableName).toContain(
      "meta",
    );
    expect((await tablet.request(ApiKeys.TABLE_EXISTS, { tablePath })).exists).toBe(true);
    const info = await tablet.request(ApiKeys.GET_TABLE_INFO, { tablePath });
    expect(info.tableId).toBe(await tableId("meta"));
    const json = decodeJson(info.tableJson) as Record<string, unknown>;
    expect(json.bucket_key).toEqual([]);
    expect(json.bucket_count).toBe(2);
    expect(json.comment).toBe("hi");
    const schema = await tablet.request(ApiKeys.GET_TABLE_SCHEMA, { tablePath });
    expect(schema.schemaId).toBe(info.schemaId);
    const token = await tablet.request(ApiKeys.GET_FILESYSTEM_SECURITY_TOKEN, {});
    expect(token.schema).toBe("file");
    expect(token.token.byteLength).toBe(0);
    await expect(
      tablet.request(ApiKeys.GET_TABLE_INFO, { tablePath: { databaseName: "compat", tableName: "nope" } }),
    ).rejects.toMatchObject({ code: 7 });
  });

  it("answers GetDatabaseInfo with Fluss's database JSON, on the coordinator and tablet servers", async () => {
    // The SDK sends no database JSON at all (Fluss's clients send their own serde's output).
    await tc.conn.admin.createDatabase("compat_db");
    for (const conn of [coord, tablet]) {
      const db = await conn.request(ApiKeys.GET_DATABASE_INFO, { databaseName: "compat_db" });
      expect(decodeJson(db.databaseJson)).toEqual({ version: 1, custom_properties: {} });
    }
    await coord.request(ApiKeys.CREATE_DATABASE, {
      databaseName: "compat_db2",
      ignoreIfExists: false,
      databaseJson: encodeJson({ version: 1, comment: "c", custom_properties: { k: "v" } }),
    });
    const db = await tablet.request(ApiKeys.GET_DATABASE_INFO, { databaseName: "compat_db2" });
    expect(decodeJson(db.databaseJson)).toEqual({ version: 1, comment: "c", custom_properties: { k: "v" } });
  });

  it("fetch offset -2 (Fluss's EARLIEST_OFFSET) reads from the log start", async () => {
    await tc.conn.admin.createTable("compat.earliest", { schema: SCHEMA, buckets: 1 });
    await appendWithSdk("earliest", 5);
    const b = await fetch(await tableId("earliest"), -2n);
    expect(b.errorCode ?? 0).toBe(0);
    expect(b.highWatermark).toBe(5n);
    expect(b.logStartOffset).toBe(0n);
    const decoded = decodeArrowLogBatch(b.records, parseSchema(SCHEMA).columns, { verifyCrc: true });
    expect(decoded.header.baseOffset).toBe(0n);
    expect(readRows(decoded.recordBatch, parseSchema(SCHEMA).columns).map((r) => r.id)).toEqual([
      0n,
      1n,
      2n,
      3n,
      4n,
    ]);
    // Any other negative offset is still out of range.
    expect((await fetch(await tableId("earliest"), -3n)).errorCode).toBe(19);
  });

  it("writes magic v0 batches to a table created without statistics, as Fluss clients create them", async () => {
    const tableJson = {
      version: 1,
      schema: schemaToJson(parseSchema(SCHEMA)),
      partition_key: [],
      bucket_key: [],
      bucket_count: 1,
      properties: {},
      custom_properties: {},
    };
    await coord.request(ApiKeys.CREATE_TABLE, {
      tablePath: { databaseName: "compat", tableName: "plain" },
      tableJson: encodeJson(tableJson),
      ignoreIfExists: false,
    });
    await appendWithSdk("plain", 3);
    const b = await fetch(await tableId("plain"), 0n);
    expect(b.records[12]).toBe(0); // the magic byte
  });

  it("writes magic v1 batches (statistics) to the log tables the SDK creates, v0 when told 'none'", async () => {
    await tc.conn.admin.createTable("compat.sdk", { schema: SCHEMA, buckets: 1 });
    await tc.conn.admin.createTable("compat.sdk_none", {
      schema: SCHEMA,
      buckets: 1,
      options: { "table.statistics.columns": "none" },
    });
    const info = await tc.conn.admin.getTableInfo("compat.sdk");
    expect(info.descriptor.properties["table.statistics.columns"]).toBe("*");
    await appendWithSdk("sdk", 3);
    await appendWithSdk("sdk_none", 3);
    expect((await fetch(await tableId("sdk"), 0n)).records[12]).toBe(1);
    expect((await fetch(await tableId("sdk_none"), 0n)).records[12]).toBe(0);
  });
});
