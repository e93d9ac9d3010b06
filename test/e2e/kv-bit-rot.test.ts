// Bit rot under a running server: bits flip in a primary-key bucket's LMDB data file while the
// cluster serves it. No lookup returns a rotted value: the read that meets the damage fails typed
// (CORRUPT_RECORD_EXCEPTION, retriable), the tablet rebuilds its store from the newest snapshot
// plus the changelog, and the client's retries get the right rows.

import { closeSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startCluster } from "../helpers/cluster.ts";

/** Flip one bit in every copy of `needle` in `file`; returns the copies. */
function rot(file: string, needle: string): number {
  const bytes = readFileSync(file);
  const pattern = Buffer.from(needle);
  const fd = openSync(file, "r+");
  let copies = 0;
  try {
    for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) {
      writeSync(fd, Buffer.from([bytes[at + 2]! ^ 0x04]), 0, 1, at + 2);
      copies++;
    }
  } finally {
    closeSync(fd);
  }
  return copies;
}

function copiesOf(file: string, needle: string): number {
  const bytes = readFileSync(file);
  let copies = 0;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) copies++;
  return copies;
}

function findKvDb(root: string): string {
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory() && e.name === "db" && /kv-0$/.test(e.parentPath) && !e.parentPath.includes("remote"))
      return join(e.parentPath, e.name);
  }
  throw new Error(`no kv store under ${root}`);
}

describe("bit rot in a primary-key bucket", () => {
  it("never serves a rotted value; the store is rebuilt and lookups and scans are right again", async () => {
    const tc = await startCluster();
    try {
      await tc.conn.admin.createTable("fluss.rot", {
        schema: "k INT NOT NULL, v STRING, PRIMARY KEY (k)",
        buckets: 1,
      });
      const t = await tc.conn.getTable("fluss.rot");
      const w = t.newUpsertWriter();
      const value = (k: number, round: number): string => `${round}:NEEDLE:${k}`;
      for (let k = 0; k < 200; k++) await w.upsert({ k, v: value(k, 0) });
      await w.flush();
      expect(await tc.cluster.tabletServers[0]!.tasks.snapshotKvTablets()).toBe(1);
      for (let k = 150; k < 250; k++) await w.upsert({ k, v: value(k, 1) }); // only in the changelog
      await w.close();
      const expected = (k: number): { k: number; v: string } => ({ k, v: value(k, k >= 150 ? 1 : 0) });

      const db = findKvDb(tc.dataDir);
      // Acknowledged upserts reach LMDB through commits pipelined on its write thread: wait (bounded)
      // until the last one landed, so every current value is in the file before it rots.
      const file = join(db, "data.mdb");
      for (let i = 0; i < 100 && copiesOf(file, "NEEDLE") < 250; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(rot(file, "NEEDLE")).toBeGreaterThanOrEqual(250);
      const lookuper = t.newLookuper();
      for (let k = 0; k < 250; k++) expect(await lookuper.lookup({ k })).toEqual(expected(k));
      const rows = new Map<number, string>();
      for await (const r of t.newSnapshotScanner()) rows.set(r.k as number, r.v as string);
      expect(rows.size).toBe(250);
      for (let k = 0; k < 250; k++) expect(rows.get(k)).toBe(expected(k).v);
      expect(readdirSync(join(db, "..")).some((n) => n.startsWith("db.unusable-"))).toBe(true);
    } finally {
      await tc.stop();
    }
  });
});
