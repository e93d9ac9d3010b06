// A real cluster answers a client's mistakes with Fluss wire codes (never a fluss-ts client-side
// code such as INVALID_ARGUMENT 10001, which a Fluss client cannot read), and its RPC resource
// bounds are configured by server options: a started frame that stalls and an idle connection
// are closed (issue 11 items 9 and 16).

import { connect as netConnect, type Socket } from "node:net";
import { Errors, isWireCode } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

function rawSocket(address: string): Promise<Socket> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: host!, port: Number(port) }, () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    s.on("error", () => undefined);
    s.on("close", () => resolve());
    s.resume();
  });
}

async function rpc(address: string): Promise<RpcConnection> {
  const [host, port] = address.split(":");
  return RpcConnection.connect({ host: host!, port: Number(port) });
}

describe("honest errors and connection limits on a real cluster", () => {
  let tc: TestCluster;
  let tablet: RpcConnection;
  let coordinator: RpcConnection;
  beforeAll(async () => {
    tc = await startCluster({ "rpc.request.read-timeout": "200 ms", "connections.max.idle.ms": "1000" });
    await tc.conn.admin.createTable("fluss.logs", { schema: "id BIGINT, name STRING" });
    await tc.conn.admin.createTable("fluss.users", {
      schema: "id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)",
    });
    tablet = await rpc(tc.cluster.tabletServerAddresses[0]!);
    coordinator = await rpc(tc.bootstrap);
  });
  afterAll(async () => {
    await tablet?.close();
    await coordinator?.close();
    await tc?.stop();
  });

  it("answers invalid requests with Fluss codes, per bucket and per request", async () => {
    const logs = (await tc.conn.getTable("fluss.logs")).info;
    const users = (await tc.conn.getTable("fluss.users")).info;
    const offsets = await tablet.request(ApiKeys.LIST_OFFSETS, {
      followerServerId: -1,
      offsetType: 99, // no such offset type
      tableId: logs.tableId,
      bucketId: [0],
    });
    expect(offsets.bucketsResp[0]!.errorCode).toBe(Errors.INVALID_CONFIG_EXCEPTION.code);
    expect(offsets.bucketsResp[0]!.errorMessage).toMatch(/INVALID_ARGUMENT: unknown offset type 99/);

    const fetch = await tablet.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: 1 << 20,
      maxWaitMs: 0,
      tablesReq: [
        {
          tableId: logs.tableId,
          projectionPushdownEnabled: false,
          filterSchemaId: logs.schemaId,
          filterPredicate: { type: 0, leaf: { function: 0, fieldId: 99 } }, // no column has field id 99
          bucketsReq: [{ bucketId: 0, fetchOffset: 0n, maxFetchBytes: 1 << 20 }],
        },
      ],
    });
    const bucket = fetch.tablesResp[0]!.bucketsResp[0]!;
    expect(bucket.errorCode).toBe(Errors.INVALID_SCAN_REQUEST.code);
    expect(bucket.errorMessage).toMatch(/invalid filter/);

    const prefix = await tablet.request(
      ApiKeys.PREFIX_LOOKUP,
      { tableId: users.tableId, bucketsReq: [{ bucketId: 0, keys: [new Uint8Array(0)] }] },
      { apiVersion: 0 },
    );
    expect(isWireCode(prefix.bucketsResp[0]!.errorCode)).toBe(true);
    expect(prefix.bucketsResp[0]!.errorCode).not.toBe(0);

    await expect(
      tablet.request(ApiKeys.LIMIT_SCAN, { tableId: users.tableId, bucketId: 0, limit: 0 }),
    ).rejects.toMatchObject({ code: Errors.INVALID_SCAN_REQUEST.code });

    await expect(
      coordinator.request(ApiKeys.CREATE_TABLE, {
        tablePath: { databaseName: "fluss", tableName: "bad" },
        tableJson: new TextEncoder().encode('{"version": 1}'),
        ignoreIfExists: false,
      }),
    ).rejects.toMatchObject({ code: Errors.INVALID_TABLE_EXCEPTION.code });
  });

  it("closes a connection whose request frame stalls half-way, on every server", async () => {
    for (const address of [tc.bootstrap, tc.cluster.tabletServerAddresses[0]!]) {
      const s = await rawSocket(address);
      const isClosed = closed(s);
      s.write(Buffer.from([0, 0, 0, 100, 0x03, 0xec, 0, 0, 0, 0, 0, 1])); // 100 bytes declared, 8 sent
      await isClosed;
    }
    expect(await tc.conn.admin.databaseExists("fluss")).toBe(true);
  });

  it("closes idle connections (connections.max.idle.ms); the client reconnects on its next call", async () => {
    const s = await rawSocket(tc.cluster.tabletServerAddresses[0]!);
    await closed(s);
    // by now the client's own pooled connections have been idle longer than the limit too
    await new Promise((r) => setTimeout(r, 1100));
    expect(await tc.conn.admin.databaseExists("fluss")).toBe(true);
    const logs = await tc.conn.getTable("fluss.logs");
    const w = logs.newAppendWriter();
    await w.append({ id: 1n, name: "a" });
    await w.close();
    expect((await tc.conn.admin.listOffsets("fluss.logs", "latest")).get(0)).toBe(1n);
  });
});
