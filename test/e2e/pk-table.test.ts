// Primary-key tables end to end through the SDK: upserts, updates, deletes, partial updates,
// lookups, prefix lookups, and the changelog a scanner reads (+I, -U, +U, -D).

import { Errors } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

async function changelog(tc: TestCluster, table: string): Promise<string[]> {
  const t = await tc.conn.getTable(table);
  const out: string[] = [];
  for await (const r of t.newLogScanner({ untilLatest: true })) {
    out.push(`${r.changeType} ${JSON.stringify(r.row, (_k, v) => (typeof v === "bigint" ? Number(v) : v))}`);
  }
  return out;
}

describe("primary-key tables", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("upserts, updates and deletes with the exact changelog, and serves lookups", async () => {
    await tc.conn.admin.createTable("fluss.users", {
      schema: "id BIGINT NOT NULL, name STRING, score INT, PRIMARY KEY (id)",
      buckets: 1,
    });
    const info = await tc.conn.admin.getTableInfo("fluss.users");
    expect(info.descriptor.bucketKeys).toEqual(["id"]);
    const t = await tc.conn.getTable("fluss.users");
    const w = t.newUpsertWriter();
    await w.upsert({ id: 1n, name: "ann", score: 10 });
    await w.upsert({ id: 2n, name: "bob", score: 20 });
    await w.flush();
    await w.upsert({ id: 1n, name: "ann", score: 11 });
    await w.delete({ id: 2n });
    await w.delete({ id: 3n });
    await w.close();
    expect(await changelog(tc, "fluss.users")).toEqual([
      '+I {"id":1,"name":"ann","score":10}',
      '+I {"id":2,"name":"bob","score":20}',
      '-U {"id":1,"name":"ann","score":10}',
      '+U {"id":1,"name":"ann","score":11}',
      '-D {"id":2,"name":"bob","score":20}',
    ]);
    const lookuper = t.newLookuper();
    expect(await lookuper.lookup({ id: 1n })).toEqual({ id: 1n, name: "ann", score: 11 });
    expect(await lookuper.lookup({ id: 2n })).toBeNull();
    // Concurrent lookups coalesce and each gets its own answer.
    const many = await Promise.all([1n, 2n, 1n, 9n].map((id) => lookuper.lookup({ id })));
    expect(many.map((r) => r?.score ?? null)).toEqual([11, null, 11, null]);
  });

  it("applies partial updates: untouched columns keep their values", async () => {
    await tc.conn.admin.createTable("fluss.profiles", {
      schema: "id INT NOT NULL, a STRING, b STRING, PRIMARY KEY (id)",
      buckets: 2,
    });
    const t = await tc.conn.getTable("fluss.profiles");
    const full = t.newUpsertWriter();
    await full.upsert({ id: 1, a: "a1", b: "b1" });
    await full.close();
    const partial = t.newUpsertWriter({ targetColumns: ["id", "b"] });
    await partial.upsert({ id: 1, b: "b2" });
    await partial.upsert({ id: 2, b: "only-b" });
    await expect(partial.upsert({ id: 3, a: "not a target" })).rejects.toMatchObject({
      code: Errors.SCHEMA_MISMATCH.code,
    });
    await partial.close();
    const l = t.newLookuper();
    expect(await l.lookup({ id: 1 })).toEqual({ id: 1, a: "a1", b: "b2" });
    expect(await l.lookup({ id: 2 })).toEqual({ id: 2, a: null, b: "only-b" });
    expect(() => t.newUpsertWriter({ targetColumns: ["b"] })).toThrow(
      /every primary-key column; 'id' is missing/,
    );
  });

  it("serves prefix lookups by a bucket key that is a prefix of the primary key", async () => {
    await tc.conn.admin.createTable("fluss.orders", {
      schema:
        "customer BIGINT NOT NULL, order_id BIGINT NOT NULL, total DOUBLE, PRIMARY KEY (customer, order_id)",
      buckets: 3,
      bucketKeys: ["customer"],
    });
    const t = await tc.conn.getTable("fluss.orders");
    const w = t.newUpsertWriter();
    for (let c = 0n; c < 5n; c++)
      for (let o = 0n; o < 4n; o++) await w.upsert({ customer: c, order_id: o, total: 1.5 });
    await w.delete({ customer: 2n, order_id: 1n });
    await w.close();
    const p = t.newPrefixLookuper(["customer"]);
    const rows = await p.lookup({ customer: 2n });
    expect(rows.map((r) => r.order_id).sort()).toEqual([0n, 2n, 3n]);
    expect(await p.lookup({ customer: 42n })).toEqual([]);
    expect(() => t.newPrefixLookuper(["order_id"])).toThrow(/bucket key/);
  });

  it("refuses invalid definitions and wrong writes with typed errors", async () => {
    const admin = tc.conn.admin;
    await expect(
      admin.createTable("fluss.bad1", {
        schema: "a INT NOT NULL, b INT, PRIMARY KEY (a)",
        bucketKeys: ["b"],
      }),
    ).rejects.toThrow(/bucket keys must be a subset of the primary key/);
    await expect(
      admin.createTable("fluss.bad2", {
        schema: "a INT NOT NULL, b INT, PRIMARY KEY (a)",
        options: { "table.merge-engine": "versioned" },
      }),
    ).rejects.toMatchObject({ code: Errors.INVALID_CONFIG_EXCEPTION.code });
    await expect(
      admin.createTable("fluss.bad3", {
        schema: "a INT, b INT",
        options: { "table.merge-engine": "first_row" },
      }),
    ).rejects.toThrow(/only supported for primary-key tables/);
    await admin.createTable("fluss.first", {
      schema: "a INT NOT NULL, b INT, PRIMARY KEY (a)",
      options: { "table.merge-engine": "first_row", "table.delete.behavior": "DISABLE" },
    });
    const t = await tc.conn.getTable("fluss.first");
    const w = t.newUpsertWriter();
    await w.upsert({ a: 1, b: 1 });
    await w.upsert({ a: 1, b: 2 });
    await w.flush();
    expect(await t.newLookuper().lookup({ a: 1 })).toEqual({ a: 1, b: 1 });
    await w.delete({ a: 1 });
    await expect(w.flush()).rejects.toMatchObject({ code: Errors.DELETION_DISABLED_EXCEPTION.code });
    await expect(w.upsert({ b: 3 })).rejects.toBeDefined();
    const plain = await tc.conn.getTable("fluss.users");
    expect(() => plain.newAppendWriter()).toThrow(/primary key/);
    const missingKey = plain.newUpsertWriter();
    await expect(missingKey.upsert({ name: "no id" })).rejects.toMatchObject({
      code: Errors.SCHEMA_MISMATCH.code,
    });
    await expect(missingKey.upsert({ id: "x" })).rejects.toMatchObject({ code: Errors.SCHEMA_MISMATCH.code });
    await missingKey.close();
  });

  it("assigns auto-increment ids on first insert and keeps them on update", async () => {
    await tc.conn.admin.createTable("fluss.accounts", {
      schema: "email STRING NOT NULL, uid BIGINT, name STRING, PRIMARY KEY (email)",
      buckets: 2,
      options: { "auto-increment.fields": "uid" },
    });
    const t = await tc.conn.getTable("fluss.accounts");
    const w = t.newUpsertWriter({ targetColumns: ["email", "name"] });
    for (const e of ["a@x", "b@x", "c@x"]) await w.upsert({ email: e, name: e.toUpperCase() });
    await w.upsert({ email: "a@x", name: "renamed" });
    await w.close();
    const l = t.newLookuper();
    const rows = await Promise.all(["a@x", "b@x", "c@x"].map((email) => l.lookup({ email })));
    const uids = rows.map((r) => r?.uid as bigint);
    expect(new Set(uids).size).toBe(3);
    expect(uids.every((u) => typeof u === "bigint" && u > 0n)).toBe(true);
    expect(rows[0]).toMatchObject({ email: "a@x", name: "renamed" });
    const again = (await l.lookup({ email: "a@x" }))?.uid;
    expect(again).toBe(uids[0]);
  });

  it("aggregates per column with the aggregation merge engine", async () => {
    await tc.conn.admin.createTable("fluss.agg", {
      schema: "k INT NOT NULL, total BIGINT, hi INT, tags STRING, PRIMARY KEY (k)",
      options: {
        "table.merge-engine": "aggregation",
        "fields.total.agg": "sum",
        "fields.hi.agg": "max",
        "fields.tags.agg": "listagg",
      },
    });
    const t = await tc.conn.getTable("fluss.agg");
    const w = t.newUpsertWriter();
    await w.upsert({ k: 1, total: 5n, hi: 3, tags: "a" });
    await w.upsert({ k: 1, total: 7n, hi: 9, tags: "b" });
    await w.upsert({ k: 1, total: 1n, hi: 4, tags: null });
    await w.close();
    expect(await t.newLookuper().lookup({ k: 1 })).toEqual({ k: 1, total: 13n, hi: 9, tags: "a,b" });
  });
});
