// Primary-key tables survive: a snapshot scan returns exactly the current rows; losing the local
// KV directory is repaired from the newest remote snapshot plus the changelog; a kill -9 during an
// upsert load loses no acknowledged upsert and leaves no row half-applied.

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@fluss-ts/client";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster } from "../helpers/cluster.ts";
import { startLocalProcess } from "../helpers/process.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function findDirs(root: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory() && new RegExp(`^${prefix}\\d+$`).test(e.name) && !e.parentPath.includes("remote"))
      out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe("primary-key durability", () => {
  it("scans a consistent snapshot of the current rows, page by page", async () => {
    const tc = await startCluster();
    try {
      await tc.conn.admin.createTable("fluss.kv", {
        schema: "k INT NOT NULL, v STRING, PRIMARY KEY (k)",
        buckets: 3,
      });
      const t = await tc.conn.getTable("fluss.kv");
      const w = t.newUpsertWriter();
      for (let k = 0; k < 500; k++) await w.upsert({ k, v: `a${k}` });
      for (let k = 0; k < 500; k += 2) await w.upsert({ k, v: `b${k}` });
      for (let k = 0; k < 500; k += 5) await w.delete({ k });
      await w.close();
      const scanner = t.newSnapshotScanner({ batchBytes: 1024 });
      const rows = new Map<number, string>();
      for await (const r of scanner) rows.set(r.k as number, r.v as string);
      expect(rows.size).toBe(400);
      for (let k = 0; k < 500; k++) {
        if (k % 5 === 0) expect(rows.has(k)).toBe(false);
        else expect(rows.get(k)).toBe(k % 2 === 0 ? `b${k}` : `a${k}`);
      }
      expect([...scanner.logOffsets.keys()].sort()).toEqual([0, 1, 2]);
      const limited: unknown[] = [];
      for await (const r of t.newSnapshotScanner({ buckets: [0], limit: 3 })) limited.push(r);
      expect(limited.length).toBe(3);
    } finally {
      await tc.stop();
    }
  });

  it("rebuilds a lost KV directory from the newest snapshot and the changelog", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-kvloss-"));
    dirs.push(dir);
    const a = await startCluster({}, dir);
    await a.conn.admin.createTable("fluss.rebuilt", {
      schema: "k INT NOT NULL, v BIGINT, PRIMARY KEY (k)",
      buckets: 2,
    });
    const t = await a.conn.getTable("fluss.rebuilt");
    const w = t.newUpsertWriter();
    for (let k = 0; k < 300; k++) await w.upsert({ k, v: BigInt(k) });
    await w.flush();
    expect(await a.cluster.tabletServers[0]!.tasks.snapshotKvTablets()).toBe(2);
    for (let k = 0; k < 300; k += 3) await w.upsert({ k, v: BigInt(k) * 10n });
    for (let k = 1; k < 300; k += 7) await w.delete({ k });
    await w.close();
    await a.stop({ keepData: true });

    const kvDirs = await findDirs(dir, "kv-");
    expect(kvDirs.length).toBe(2);
    for (const d of kvDirs) await rm(d, { recursive: true, force: true });

    const b = await startCluster({}, dir);
    try {
      const l = (await b.conn.getTable("fluss.rebuilt")).newLookuper();
      for (let k = 0; k < 300; k++) {
        const row = await l.lookup({ k });
        if (k % 7 === 1) expect(row).toBeNull();
        else expect(row).toEqual({ k, v: k % 3 === 0 ? BigInt(k) * 10n : BigInt(k) });
      }
    } finally {
      await b.stop();
    }
  });

  it("keeps every acknowledged upsert and no half-applied row after kill -9", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-kvkill-"));
    dirs.push(dir);
    const server = await startLocalProcess(dir);
    const conn = await connect({ bootstrap: server.bootstrap });
    await conn.admin.createTable("fluss.kv", {
      schema: "k INT NOT NULL, round INT NOT NULL, twice BIGINT NOT NULL, PRIMARY KEY (k)",
      buckets: 2,
    });
    const t = await conn.getTable("fluss.kv");
    const w = t.newUpsertWriter({ lingerMs: 2, batchSizeBytes: 8 * 1024 });
    const keys = 400;
    let acked = -1;
    const killAt = Date.now() + 1500;
    for (let round = 0; ; round++) {
      for (let k = 0; k < keys; k++) await w.upsert({ k, round, twice: BigInt(round * 2) });
      if (Date.now() >= killAt) {
        void w.flush().catch(() => undefined);
        server.kill("SIGKILL");
        break;
      }
      await w.flush();
      acked = round;
    }
    await server.exited;
    await conn.close().catch(() => undefined);
    expect(acked).toBeGreaterThanOrEqual(0);

    const again = await startLocalProcess(dir);
    const c2 = await connect({ bootstrap: again.bootstrap });
    try {
      const t2 = await c2.getTable("fluss.kv");
      let n = 0;
      for await (const r of t2.newSnapshotScanner()) {
        n++;
        expect(r.round as number).toBeGreaterThanOrEqual(acked);
        expect(r.twice).toBe(BigInt((r.round as number) * 2));
      }
      expect(n).toBe(keys);
      const l = t2.newLookuper();
      const sample = await Promise.all([0, 17, 399].map((k) => l.lookup({ k })));
      for (const row of sample) expect((row?.round as number) >= acked).toBe(true);
    } finally {
      await c2.close();
      again.kill("SIGINT");
      await again.exited;
    }
  }, 60_000);
});
