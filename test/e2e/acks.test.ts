// Writers with acks 0, 1 and all through a real cluster: every row arrives (acks 0 and 1 answer
// before the high watermark moves, so readers see the rows shortly after the flush), and a request
// with acks the server does not know is refused with INVALID_REQUIRED_ACKS.

import { Errors } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("writer acks end to end", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  for (const acks of [0, 1, "all"] as const) {
    it(`acks=${acks}: every row is stored and readable`, async () => {
      const name = `fluss.acks_${acks}`;
      await tc.conn.admin.createTable(name, { schema: "id BIGINT NOT NULL" });
      const table = await tc.conn.getTable(name);
      const w = table.newAppendWriter(acks === "all" ? { acks } : { acks, idempotence: false });
      for (let i = 0; i < 200; i++) await w.append({ id: BigInt(i) });
      await w.close();
      const ids: bigint[] = [];
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 10_000);
      for await (const r of table.newLogScanner({ from: "earliest", signal: abort.signal })) {
        ids.push(r.row.id as bigint);
        if (ids.length === 200) break;
      }
      clearTimeout(timer);
      expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i)));
    });
  }

  it("refuses acks other than 0, 1 and -1 with INVALID_REQUIRED_ACKS", async () => {
    await tc.conn.admin.createTable("fluss.acks_bad", { schema: "id BIGINT NOT NULL" });
    const table = await tc.conn.getTable("fluss.acks_bad");
    const [host, port] = tc.cluster.tabletServerAddresses[0]!.split(":");
    const c = await RpcConnection.connect({ host: host!, port: Number(port) });
    try {
      await expect(
        c.request(ApiKeys.PRODUCE_LOG, {
          acks: 2,
          tableId: table.info.tableId,
          timeoutMs: 1000,
          bucketsReq: [{ bucketId: 0, records: new Uint8Array(0) }],
        }),
      ).rejects.toMatchObject({ code: Errors.INVALID_REQUIRED_ACKS.code });
    } finally {
      await c.close();
    }
  });
});
