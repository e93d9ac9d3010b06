// An external reader sees what the union read sees: DuckDB (its Parquet reader; its iceberg
// extension cannot be downloaded offline) reads the data files the current Iceberg snapshot lists
// (from the manifest list and manifests, Avro) minus the rows its equality deletes remove, and
// returns the same rows as fluss-ts's union read at the same snapshot, for a log table and a
// primary-key table with updates and deletes.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { systemClock } from "@fluss-ts/common";
import { LakeTable, TieringService, UnionScanner } from "@fluss-ts/lake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifest, readManifestList } from "../../packages/lake/src/iceberg/lake-table.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const norm = (r: Record<string, unknown>) =>
  JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v));

/** SQL over the snapshot's files: data files minus keys deleted by a later equality delete. */
async function snapshotSql(
  warehouse: string,
  tc: TestCluster,
  name: string,
  columns: string[],
  key: string[],
) {
  const t = await tc.conn.getTable(name);
  const lake = await LakeTable.open(warehouse, t.info, systemClock, false);
  const state = await lake!.state();
  const data: Array<{ path: string; seq: number }> = [];
  const deletes: Array<{ path: string; seq: number }> = [];
  for (const mf of await readManifestList(state!.snapshot["manifest-list"])) {
    for (const e of await readManifest(mf.manifest_path)) {
      const f = { path: e.data_file.file_path, seq: e.sequence_number ?? mf.sequence_number };
      (e.data_file.content === 0 ? data : deletes).push(f);
    }
  }
  const cols = columns.map((c) => `"${c}"`).join(", ");
  const dataSql = data
    .map((f) => `SELECT ${cols}, ${f.seq} AS __seq FROM read_parquet('${f.path}')`)
    .join(" UNION ALL ");
  if (deletes.length === 0)
    return { sql: `SELECT ${cols} FROM (${dataSql})`, snapshotId: state!.snapshot["snapshot-id"] };
  const keys = key.map((k) => `"${k}"`).join(", ");
  const delSql = deletes
    .map((f) => `SELECT ${keys}, ${f.seq} AS __seq FROM read_parquet('${f.path}')`)
    .join(" UNION ALL ");
  const on = key.map((k) => `d."${k}" = x."${k}"`).join(" AND ");
  return {
    sql: `SELECT ${cols} FROM (${dataSql}) x WHERE NOT EXISTS (SELECT 1 FROM (${delSql}) d WHERE ${on} AND d.__seq > x.__seq)`,
    snapshotId: state!.snapshot["snapshot-id"],
  };
}

describe("DuckDB reads the lake", () => {
  let tc: TestCluster;
  let warehouse: string;
  let service: TieringService;
  let duck: DuckDBInstance;
  beforeAll(async () => {
    tc = await startCluster();
    warehouse = await mkdtemp(join(tmpdir(), "fluss-lake-duck-"));
    service = new TieringService({ connection: tc.conn, warehouse });
    duck = await DuckDBInstance.create(":memory:");
  });
  afterAll(async () => {
    duck?.closeSync();
    await service?.stop();
    await tc?.stop();
    await rm(warehouse, { recursive: true, force: true });
  });

  async function duckRows(sql: string): Promise<string[]> {
    const c = await duck.connect();
    try {
      return (await c.runAndReadAll(sql)).getRowObjectsJS().map(norm);
    } finally {
      c.closeSync();
    }
  }

  async function unionRows(name: string, columns: string[]): Promise<string[]> {
    const out: string[] = [];
    const t = await tc.conn.getTable(name);
    for await (const r of new UnionScanner(t, tc.conn.admin, { warehouse, columns })) out.push(norm(r.row));
    return out;
  }

  it("log table: DuckDB over the data files = union read at the same snapshot", async () => {
    await tc.conn.admin.createTable("fluss.clicks", {
      schema: "id BIGINT NOT NULL, url STRING, ms INT, price DECIMAL(10, 2)",
      buckets: 3,
      options: { "table.datalake.enabled": "true" },
    });
    const t = await tc.conn.getTable("fluss.clicks");
    const w = t.newAppendWriter();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) {
        const id = round * 400 + i;
        await w.append({ id: BigInt(id), url: `/p/${id % 17}`, ms: id % 1000, price: "12.50" });
      }
      await w.flush();
      await service.runOnce();
    }
    const { sql } = await snapshotSql(warehouse, tc, "fluss.clicks", ["id", "url", "ms"], []);
    const viaDuck = await duckRows(sql);
    const viaUnion = await unionRows("fluss.clicks", ["id", "url", "ms"]);
    expect(viaDuck.length).toBe(1200);
    expect(viaDuck.sort()).toEqual(viaUnion.sort());
    const prices = await snapshotSql(warehouse, tc, "fluss.clicks", ["price"], []);
    const sum = await duckRows(`SELECT sum(price)::DOUBLE AS s FROM (${prices.sql})`);
    expect(JSON.parse(sum[0]!).s).toBe(15000);
  });

  it("primary-key table: data files minus equality deletes = union read (one row per key)", async () => {
    await tc.conn.admin.createTable("fluss.accounts", {
      schema: "id INT NOT NULL, region STRING NOT NULL, balance BIGINT, PRIMARY KEY (id, region)",
      buckets: 2,
      options: { "table.datalake.enabled": "true" },
    });
    const t = await tc.conn.getTable("fluss.accounts");
    const w = t.newUpsertWriter();
    for (let i = 0; i < 100; i++) await w.upsert({ id: i, region: i % 2 ? "eu" : "us", balance: BigInt(i) });
    await w.flush();
    await service.runOnce();
    for (let i = 0; i < 100; i += 3)
      await w.upsert({ id: i, region: i % 2 ? "eu" : "us", balance: BigInt(1000 + i) });
    for (let i = 1; i < 100; i += 7) await w.delete({ id: i, region: i % 2 ? "eu" : "us" });
    await w.flush();
    await service.runOnce();
    for (let i = 0; i < 100; i += 5)
      await w.upsert({ id: i, region: i % 2 ? "eu" : "us", balance: BigInt(5000 + i) });
    await w.flush();
    await service.runOnce();
    const { sql } = await snapshotSql(
      warehouse,
      tc,
      "fluss.accounts",
      ["id", "region", "balance"],
      ["id", "region"],
    );
    const viaDuck = await duckRows(sql);
    const viaUnion = await unionRows("fluss.accounts", ["id", "region", "balance"]);
    expect(viaDuck.sort()).toEqual(viaUnion.sort());
    const keys = viaDuck.map((r) => JSON.parse(r).id);
    expect(new Set(keys).size).toBe(keys.length);
    // 15 keys deleted, 3 of them (15, 50, 85) written again in the last round.
    expect(keys.length).toBe(100 - 15 + 3);
  });
});
