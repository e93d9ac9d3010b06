// What Fluss's own clients (pyfluss, fluss-rs, the Java client) need from the server, checked
// over raw RPCs against an embedded cluster so `npm test` covers it without those clients (the
// real clients run in `npm run test:interop`): fetch offset -2 means "from the log start"; a table
// created without `table.statistics.columns` (as Fluss clients create tables) gets magic v0
// batches from the SDK writer, while the SDK's own tables carry statistics (v1).

import { decodeArrowLogBatch, encodeJson, parseSchema, readRows, schemaToJson } from "@fluss-ts/common";
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
