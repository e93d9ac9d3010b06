// The SDK's API end to end: a table defined with defineSchema, created and opened typed (the
// schema checked against the table's), append receipts whose offsets are where a scan finds the
// rows, upsert receipts whose changelog end a changelog reader reaches, and `await using` /
// `using` closing connections, writers and scanners.

import {
  bigint,
  boolean,
  connect,
  decimal,
  defineSchema,
  type FlussConnection,
  int,
  type LogScanner,
  string,
  timestampLtz,
} from "@fluss-ts/client";
import { Errors } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const Orders = defineSchema({
  id: bigint().notNull(),
  item: string(),
  amount: decimal(10, 2),
  paid: boolean().notNull(),
  at: timestampLtz(3),
});

const Users = defineSchema({ id: int(), name: string() }, { primaryKey: ["id"] });

describe("SDK API", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createTable("fluss.orders", { schema: Orders, buckets: 3, bucketKeys: ["id"] });
    await tc.conn.admin.createTable("fluss.users", { schema: Users, buckets: 2 });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("opens a table typed by its defined schema, and refuses one whose schema differs", async () => {
    const orders = await tc.conn.getTable("fluss.orders", Orders);
    expect(orders.info.descriptor.schema.columns.map((c) => c.name)).toEqual([
      "id",
      "item",
      "amount",
      "paid",
      "at",
    ]);
    const err = await tc.conn.getTable("fluss.users", Orders).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Errors.SCHEMA_MISMATCH.code });
    expect((err as Error).message).toMatch(/column 1 is 'id INT NOT NULL', expected 'id BIGINT NOT NULL'/);
    // The type argument alone types the handle without a check.
    const unchecked = await tc.conn.getTable<typeof Orders>("fluss.orders");
    const rows = unchecked.newLogScanner({ untilLatest: true, columns: ["id", "paid"] });
    expectTypeOf(rows).toEqualTypeOf<LogScanner<{ id: bigint; paid: boolean }>>();
    rows.close();
  });

  it("gives each appended row the offset a scan finds it at", async () => {
    const orders = await tc.conn.getTable("fluss.orders", Orders);
    const receipts = [];
    {
      await using w = orders.newAppendWriter({ batchSizeBytes: 1024 });
      for (let i = 0; i < 300; i++) {
        receipts.push(
          await w.append({ id: BigInt(i), item: `item-${i}`, paid: i % 2 === 0, amount: "1.50" }),
        );
      }
    } // closed (flushed) here
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    const where = new Map<bigint, string>();
    for await (const rec of orders.newLogScanner({ untilLatest: true })) {
      expectTypeOf(rec.row.id).toEqualTypeOf<bigint>();
      where.set(rec.row.id, `${rec.bucket}/${rec.offset}`);
    }
    expect(where.size).toBe(300);
    for (const [i, a] of acks.entries()) expect(`${a.bucket}/${a.offset}`).toBe(where.get(BigInt(i)));
    expect(new Set(acks.map((a) => a.bucket)).size).toBe(3);
  });

  it("gives each upsert the changelog end a reader reaches it at", async () => {
    const users = await tc.conn.getTable("fluss.users", Users);
    await using w = users.newUpsertWriter();
    const first = await (await w.upsert({ id: 1, name: "ann" })).acknowledged;
    const second = await (await w.upsert({ id: 1, name: "anna" })).acknowledged; // -U, +U
    expect(second.bucket).toBe(first.bucket);
    expect(second.logEndOffset - first.logEndOffset).toBe(2n);
    const deleted = await (await w.delete({ id: 1 })).acknowledged;
    expect(deleted.logEndOffset - second.logEndOffset).toBe(1n);
    const latest = await tc.conn.admin.listOffsets("fluss.users", "latest", [first.bucket]);
    expect(latest.get(first.bucket)).toBe(deleted.logEndOffset);
    expect(await users.newLookuper().lookup({ id: 1 })).toBeNull();
  });

  it("continues a snapshot with the changes made after it", async () => {
    await tc.conn.admin.createTable("fluss.kv", {
      schema: defineSchema({ k: int(), v: string(), dt: string().notNull() }, { primaryKey: ["k", "dt"] }),
      partitionKeys: ["dt"],
      buckets: 2,
    });
    const kv = await tc.conn.getTable("fluss.kv");
    {
      await using w = kv.newUpsertWriter();
      for (let k = 0; k < 10; k++) for (const dt of ["a", "b"]) await w.upsert({ k, v: "old", dt });
    }
    const snap = kv.newSnapshotScanner();
    let rows = 0;
    for await (const _ of snap) rows++;
    expect(rows).toBe(20);
    const positions = snap.positions();
    expect(positions.buckets.length).toBe(4); // 2 partitions x 2 buckets
    {
      await using w = kv.newUpsertWriter();
      await w.upsert({ k: 1, v: "new", dt: "a" });
      await w.delete({ k: 2, dt: "b" });
    }
    const changes: string[] = [];
    for await (const r of kv.newLogScanner({ from: positions, untilLatest: true })) {
      changes.push(`${r.changeType} ${r.row.k}${r.row.dt}`);
    }
    expect(changes.sort()).toEqual(["+U 1a", "-D 2b", "-U 1a"]);
  });

  it("closes connections and scanners at the end of their scope", async () => {
    let conn: FlussConnection | undefined;
    {
      await using c = await connect({ bootstrap: tc.bootstrap });
      conn = c;
      expect(await c.admin.tableExists("fluss.orders")).toBe(true);
    }
    await expect(conn.admin.listDatabases()).rejects.toMatchObject({ code: Errors.CLIENT_CLOSED.code });
    const orders = await tc.conn.getTable("fluss.orders", Orders);
    let seen = 0;
    {
      using s = orders.newLogScanner({ untilLatest: true });
      for await (const _ of s) if (++seen === 10) break;
    }
    expect(seen).toBe(10);
    // A following scan closed by its scope ends its iteration instead of waiting for rows.
    const follow = orders.newLogScanner({ from: "latest" });
    const done = (async () => {
      for await (const _ of follow) {
        /* nothing arrives */
      }
      return "ended";
    })();
    await new Promise((r) => setTimeout(r, 50));
    follow[Symbol.dispose]();
    expect(await done).toBe("ended");
    // A snapshot scanner closed mid-way closes its server-side scanner and ends.
    const users = await tc.conn.getTable("fluss.users", Users);
    {
      await using w = users.newUpsertWriter();
      for (let i = 0; i < 50; i++) await w.upsert({ id: i, name: `u${i}` });
    }
    const snap = users.newSnapshotScanner({ batchBytes: 64 });
    let n = 0;
    for await (const row of snap) {
      expectTypeOf(row.id).toEqualTypeOf<number>();
      if (++n === 3) await snap[Symbol.asyncDispose]();
    }
    expect(n).toBe(3);
  });
});
