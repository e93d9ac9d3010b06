// Garbage on the wire reaches the real cluster: random bytes, a truncated frame, a huge length, an
// unknown API. Each affects only its own connection; the cluster keeps serving everyone else.

import { connect as netConnect, type Socket } from "node:net";
import { Errors } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

function rawSocket(bootstrap: string): Promise<Socket> {
  const [host, port] = bootstrap.split(":");
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: host!, port: Number(port) }, () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    s.on("close", () => {
      clearTimeout(t);
      resolve(true);
    });
    s.on("error", () => undefined);
    s.resume();
  });
}

describe("bad input on the wire", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createTable("fluss.t", { schema: "id BIGINT" });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  const targets = (): string[] => [tc.bootstrap, tc.cluster.tabletServerAddresses[0]!];

  it("closes a connection that sends random bytes or a huge length, and keeps serving", async () => {
    for (const addr of targets()) {
      const junk = await rawSocket(addr);
      const isClosed = closed(junk);
      junk.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]));
      expect(await isClosed).toBe(true);
      const neg = await rawSocket(addr);
      const negClosed = closed(neg);
      neg.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 0, 0]));
      expect(await negClosed).toBe(true);
    }
    expect(await tc.conn.admin.listDatabases()).toContain("fluss");
  });

  it("survives a truncated frame followed by a hang-up", async () => {
    for (const addr of targets()) {
      const s = await rawSocket(addr);
      s.end(Buffer.from([0, 0, 0, 50, 0x03, 0xe9, 0, 0, 0, 0, 0, 1, 0x0a]));
      await closed(s);
    }
    expect(await tc.conn.admin.databaseExists("fluss")).toBe(true);
  });

  it("answers an unknown API with a typed error on a connection that stays usable", async () => {
    const [host, port] = tc.bootstrap.split(":");
    const c = await RpcConnection.connect({ host: host!, port: Number(port) });
    const unknownApi = { ...ApiKeys.DATABASE_EXISTS, key: 1999, name: "NOPE" };
    await expect(c.request(unknownApi, { databaseName: "x" })).rejects.toMatchObject({
      code: Errors.UNSUPPORTED_VERSION.code,
    });
    const ok = await c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "fluss" });
    expect(ok.exists).toBe(true);
    await c.close();
  });

  it("refuses a produce request with a corrupt batch, typed, per bucket", async () => {
    const table = await tc.conn.getTable("fluss.t");
    const [host, port] = tc.cluster.tabletServerAddresses[0]!.split(":");
    const c = await RpcConnection.connect({ host: host!, port: Number(port) });
    const junk = new Uint8Array(64).fill(7);
    const resp = await c.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: table.info.tableId,
      timeoutMs: 1000,
      bucketsReq: [{ bucketId: 0, records: junk }],
    });
    expect(resp.bucketsResp[0]!.errorCode).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    const unknown = await c.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: 999n,
      timeoutMs: 1000,
      bucketsReq: [{ bucketId: 0, records: junk }],
    });
    expect(unknown.bucketsResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    await c.close();
    const w = table.newAppendWriter();
    await w.append({ id: 1n });
    await w.close();
    expect((await tc.conn.admin.listOffsets("fluss.t", "latest")).get(0)).toBe(1n);
  });
});
