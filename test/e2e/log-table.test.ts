import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("log tables end to end through the SDK", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("creates a database and a table, appends rows and scans them back", async () => {
    const admin = tc.conn.admin;
    await admin.createDatabase("shop");
    expect(await admin.listDatabases()).toEqual(["fluss", "shop"]);
    await admin.createTable("shop.orders", {
      schema: "id BIGINT NOT NULL, item STRING, amount DOUBLE, ts TIMESTAMP(3)",
      buckets: 3,
      options: { "table.log.ttl": "3 d" },
    });
    expect(await admin.listTables("shop")).toEqual(["orders"]);
    const table = await tc.conn.getTable("shop.orders");
    expect(table.info.bucketCount).toBe(3);

    const writer = table.newAppendWriter({ lingerMs: 5 });
    const n = 1000;
    for (let i = 0; i < n; i++) {
      await writer.append({
        id: BigInt(i),
        item: `item-${i}`,
        amount: i * 1.5,
        ts: new Date(1_700_000_000_000 + i),
      });
    }
    await writer.close();

    const latest = await admin.listOffsets("shop.orders", "latest");
    let total = 0n;
    for (const v of latest.values()) total += v;
    expect(total).toBe(BigInt(n));

    const seen = new Map<bigint, Record<string, unknown>>();
    for await (const rec of table.newLogScanner({ untilLatest: true })) {
      expect(rec.changeType).toBe("+A");
      seen.set(rec.row.id as bigint, rec.row);
    }
    expect(seen.size).toBe(n);
    expect(seen.get(7n)).toEqual({ id: 7n, item: "item-7", amount: 10.5, ts: new Date(1_700_000_000_007) });
  });

  it("projects columns: only the asked columns come back", async () => {
    const table = await tc.conn.getTable("shop.orders");
    const rows: Record<string, unknown>[] = [];
    for await (const rec of table.newLogScanner({ columns: ["amount", "id"], untilLatest: true }))
      rows.push(rec.row);
    expect(rows.length).toBe(1000);
    expect(Object.keys(rows[0]!)).toEqual(["amount", "id"]);
  });

  it("refuses bad input with typed errors", async () => {
    const admin = tc.conn.admin;
    await expect(admin.createTable("shop.bad", { schema: "id FOO" })).rejects.toMatchObject({
      code: Errors.INVALID_TABLE_EXCEPTION.code,
    });
    await expect(
      admin.createTable("shop.bad", { schema: "id INT", options: { "table.log.nope": "1" } }),
    ).rejects.toMatchObject({ code: Errors.INVALID_CONFIG_EXCEPTION.code });
    await expect(tc.conn.getTable("shop.missing")).rejects.toMatchObject({
      code: Errors.TABLE_NOT_EXIST.code,
    });
    const table = await tc.conn.getTable("shop.orders");
    const writer = table.newAppendWriter();
    await expect(writer.append({ id: 1n, nope: 1 })).rejects.toSatisfy(
      (e: unknown) => isFlussError(e) && e.is(Errors.SCHEMA_MISMATCH) && /nope/.test(e.message),
    );
    await writer.close();
  });

  it("tails new records within milliseconds", async () => {
    await tc.conn.admin.createTable("shop.live", { schema: "id BIGINT" });
    const table = await tc.conn.getTable("shop.live");
    const controller = new AbortController();
    const scanner = table.newLogScanner({ from: "latest", signal: controller.signal });
    const it = scanner[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setTimeout(r, 100));
    const writer = table.newAppendWriter({ lingerMs: 0 });
    const t0 = performance.now();
    await writer.append({ id: 42n });
    await writer.flush();
    const rec = await first;
    const elapsed = performance.now() - t0;
    expect(rec.done).toBe(false);
    expect(rec.value?.row).toEqual({ id: 42n });
    expect(elapsed).toBeLessThan(1000);
    controller.abort();
    await writer.close();
  });
});
