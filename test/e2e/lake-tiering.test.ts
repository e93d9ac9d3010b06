// Lake tiering end to end: a local cluster, lake-enabled log, primary-key and partitioned tables
// tiered to an Iceberg warehouse by the tiering service (through the SDK), and union reads that
// return exactly the log (log tables) or the current key state (primary-key tables).

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "@fluss-ts/common";
import { describeLake, TieringService, UnionScanner } from "@fluss-ts/lake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const big = (_k: string, v: unknown) => (typeof v === "bigint" ? Number(v) : v);

async function unionRows(
  tc: TestCluster,
  warehouse: string,
  name: string,
  o: object = {},
): Promise<string[]> {
  const t = await tc.conn.getTable(name);
  const out: string[] = [];
  for await (const r of new UnionScanner(t, tc.conn.admin, { warehouse, ...o }))
    out.push(JSON.stringify(r.row, big));
  return out;
}

describe("lake tiering to Iceberg", () => {
  let tc: TestCluster;
  let warehouse: string;
  let service: TieringService;
  beforeAll(async () => {
    tc = await startCluster();
    warehouse = await mkdtemp(join(tmpdir(), "fluss-lake-"));
    service = new TieringService({ connection: tc.conn, warehouse });
  });
  afterAll(async () => {
    await service?.stop();
    await tc?.stop();
    await rm(warehouse, { recursive: true, force: true });
  });

  it("tiers a log table in rounds and the union read is the whole log, in order per bucket", async () => {
    await tc.conn.admin.createTable("fluss.events", {
      schema: "id BIGINT NOT NULL, name STRING, amount DOUBLE, small TINYINT, ts TIMESTAMP(3)",
      buckets: 2,
      options: { "table.datalake.enabled": "true", "table.datalake.freshness": "1 s" },
    });
    const t = await tc.conn.getTable("fluss.events");
    const w = t.newAppendWriter();
    const expected: string[] = [];
    const row = (i: number) => ({
      id: BigInt(i),
      name: `n${i}`,
      amount: i / 4,
      small: i % 100,
      ts: new Date(1_700_000_000_000 + i),
    });
    for (let i = 0; i < 500; i++) await w.append(row(i));
    await w.flush();
    let st = await service.runOnce();
    expect(st.find((s) => s.table === "fluss.events")?.lastError).toBeNull();
    for (let i = 500; i < 800; i++) await w.append(row(i));
    await w.flush();
    // Not tiered yet: 300 rows come from the log.
    const all = await unionRows(tc, warehouse, "fluss.events");
    expect(all.length).toBe(800);
    const ids = all.map((r) => JSON.parse(r).id).sort((a: number, b: number) => a - b);
    expect(ids).toEqual(Array.from({ length: 800 }, (_, i) => i));
    st = await service.runOnce();
    expect(st.find((s) => s.table === "fluss.events")?.lastResult?.committed).toBe(true);
    for (let i = 0; i < 800; i++) expected.push(JSON.stringify({ id: i, name: `n${i}` }));
    const projected = await unionRows(tc, warehouse, "fluss.events", { columns: ["id", "name"] });
    expect(projected.sort()).toEqual(expected.sort());
    const filtered = await unionRows(tc, warehouse, "fluss.events", { columns: ["id"], filter: "id >= 790" });
    expect(filtered.map((r) => JSON.parse(r).id).sort((a: number, b: number) => a - b)).toEqual([
      790, 791, 792, 793, 794, 795, 796, 797, 798, 799,
    ]);
    // Every record exactly once, lake ones in offset order.
    const sc = new UnionScanner(t, tc.conn.admin, { warehouse });
    const seen: string[] = [];
    for await (const r of sc) seen.push(`${r.bucket}:${r.offset}:${r.source}`);
    expect(new Set(seen).size).toBe(800);
    expect(seen.every((s) => s.endsWith(":lake"))).toBe(true);
    const d = await describeLake(tc.conn.admin, t, warehouse, systemClock);
    expect(d?.lagRecords).toBe(0n);
    expect(d?.totalRecords).toBe(800);
    // The Iceberg layout: version hint, metadata, a snapshot naming the offsets file.
    const meta = join(warehouse, "fluss", "events", "metadata");
    const hint = (await readFile(join(meta, "version-hint.text"), "utf8")).trim();
    const m = JSON.parse(await readFile(join(meta, `v${hint}.metadata.json`), "utf8"));
    const snap = m.snapshots.find(
      (s: { "snapshot-id": number }) => s["snapshot-id"] === m["current-snapshot-id"],
    );
    expect(snap.summary["commit-user"]).toBe("__fluss_lake_tiering");
    const offsets = JSON.parse(await readFile(snap.summary["fluss-offsets"], "utf8"));
    expect(offsets.version).toBe(1);
    expect(offsets.bucket_offsets.reduce((a: number, b: number) => a + b, 0)).toBe(800);
    expect((await readdir(join(warehouse, "fluss", "events", "data"))).sort()).toEqual([
      "__bucket=0",
      "__bucket=1",
    ]);
  });

  it("tiers a primary-key table as its current state (snapshot first, then the changelog with equality deletes)", async () => {
    await tc.conn.admin.createTable("fluss.users", {
      schema: "id BIGINT NOT NULL, name STRING, score INT, PRIMARY KEY (id)",
      buckets: 2,
      options: { "table.datalake.enabled": "true" },
    });
    const t = await tc.conn.getTable("fluss.users");
    const w = t.newUpsertWriter();
    for (let i = 0; i < 50; i++) await w.upsert({ id: BigInt(i), name: `u${i}`, score: i });
    await w.flush();
    await service.runOnce();
    for (let i = 0; i < 10; i++) await w.upsert({ id: BigInt(i), name: `v${i}`, score: 100 + i });
    for (let i = 10; i < 15; i++) await w.delete({ id: BigInt(i) });
    for (let i = 50; i < 55; i++) await w.upsert({ id: BigInt(i), name: `u${i}`, score: i });
    await w.flush();
    await service.runOnce();
    await w.upsert({ id: 0n, name: "again", score: 7 });
    await w.delete({ id: 20n });
    await w.flush();
    const expected = new Map<number, string>();
    for (let i = 0; i < 55; i++)
      expected.set(
        i,
        JSON.stringify({ id: i, name: i < 10 ? `v${i}` : `u${i}`, score: i < 10 ? 100 + i : i }),
      );
    for (let i = 10; i < 15; i++) expected.delete(i);
    expected.set(0, JSON.stringify({ id: 0, name: "again", score: 7 }));
    expected.delete(20);
    const got = await unionRows(tc, warehouse, "fluss.users");
    expect(got.sort()).toEqual([...expected.values()].sort());
    await service.runOnce();
    const sc = new UnionScanner(t, tc.conn.admin, { warehouse });
    const rows: string[] = [];
    for await (const r of sc) {
      expect(r.source).toBe("lake");
      rows.push(JSON.stringify(r.row, big));
    }
    expect(rows.sort()).toEqual([...expected.values()].sort());
  });

  it("maps partitions to Iceberg partitions and reads one partition", async () => {
    await tc.conn.admin.createTable("fluss.sales", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL, v INT",
      partitionKeys: ["dt"],
      buckets: 1,
      options: { "table.datalake.enabled": "true" },
    });
    const t = await tc.conn.getTable("fluss.sales");
    const w = t.newAppendWriter();
    for (let i = 0; i < 60; i++) await w.append({ id: BigInt(i), dt: i % 2 === 0 ? "2026" : "2027", v: i });
    await w.flush();
    await service.runOnce();
    for (let i = 60; i < 70; i++) await w.append({ id: BigInt(i), dt: "2027", v: i });
    await w.flush();
    const one = await unionRows(tc, warehouse, "fluss.sales", { partition: { dt: "2027" }, columns: ["id"] });
    expect(one.map((r) => JSON.parse(r).id).sort((a: number, b: number) => a - b)).toEqual(
      [
        ...Array.from({ length: 30 }, (_, i) => 2 * i + 1),
        ...Array.from({ length: 10 }, (_, i) => 60 + i),
      ].sort((a, b) => a - b),
    );
    expect((await readdir(join(warehouse, "fluss", "sales", "data"))).sort()).toEqual(["dt=2026", "dt=2027"]);
  });
});
