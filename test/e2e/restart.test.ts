// Durability across restarts: a clean stop/start keeps metadata and data; a kill -9 of a child
// `fluss local` loses nothing that was acknowledged (flush mode "always").

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
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

async function countRows(bootstrap: string, table: string): Promise<Set<bigint>> {
  const conn = await connect({ bootstrap });
  try {
    const t = await conn.getTable(table);
    const ids = new Set<bigint>();
    for await (const r of t.newLogScanner({ untilLatest: true })) ids.add(r.row.id as bigint);
    return ids;
  } finally {
    await conn.close();
  }
}

describe("restart", () => {
  it("keeps databases, tables and rows across a clean restart", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-restart-"));
    dirs.push(dir);
    const a = await startCluster({}, dir);
    await a.conn.admin.createDatabase("db1");
    await a.conn.admin.createTable("db1.t", { schema: "id BIGINT NOT NULL, s STRING", buckets: 2 });
    const w = (await a.conn.getTable("db1.t")).newAppendWriter();
    for (let i = 0; i < 500; i++) await w.append({ id: BigInt(i), s: `v${i}` });
    await w.close();
    await a.stop({ keepData: true });

    const b = await startCluster({}, dir);
    expect(await b.conn.admin.listDatabases()).toContain("db1");
    const info = await b.conn.admin.getTableInfo("db1.t");
    expect(info.bucketCount).toBe(2);
    expect((await countRows(b.bootstrap, "db1.t")).size).toBe(500);
    // Appends continue after the old data, not over it.
    const w2 = (await b.conn.getTable("db1.t")).newAppendWriter();
    for (let i = 500; i < 600; i++) await w2.append({ id: BigInt(i), s: `v${i}` });
    await w2.close();
    expect((await countRows(b.bootstrap, "db1.t")).size).toBe(600);
    await b.stop({ keepData: true });
  });

  it("loses no acknowledged row when the server is killed with SIGKILL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-kill-"));
    dirs.push(dir);
    const server = await startLocalProcess(dir);
    const conn = await connect({ bootstrap: server.bootstrap });
    await conn.admin.createTable("fluss.k", { schema: "id BIGINT NOT NULL, pad STRING", buckets: 3 });
    const table = await conn.getTable("fluss.k");
    const acked = new Set<bigint>();
    const writer = table.newAppendWriter({ lingerMs: 2, batchSizeBytes: 16 * 1024 });
    let next = 0n;
    const pad = "x".repeat(100);
    // Write in acknowledged rounds; kill the server while a round is in flight.
    const killAt = Date.now() + 1500;
    let killed = false;
    while (!killed) {
      const round: bigint[] = [];
      for (let i = 0; i < 200; i++) {
        round.push(next);
        await writer.append({ id: next++, pad });
      }
      if (Date.now() >= killAt) {
        const flushing = writer.flush().then(
          () => true,
          () => false,
        );
        server.kill("SIGKILL");
        killed = true;
        if (await Promise.race([flushing, new Promise((r) => setTimeout(() => r(false), 200))])) {
          for (const id of round) acked.add(id);
        }
      } else {
        await writer.flush();
        for (const id of round) acked.add(id);
      }
    }
    await server.exited;
    await conn.close().catch(() => undefined);
    expect(acked.size).toBeGreaterThan(0);

    const again = await startLocalProcess(dir);
    try {
      const ids = await countRows(again.bootstrap, "fluss.k");
      for (const id of acked) expect(ids.has(id)).toBe(true);
      // Nothing that was never written appears.
      for (const id of ids) expect(id < next).toBe(true);
    } finally {
      again.kill("SIGINT");
      await again.exited;
    }
  }, 60_000);

  it("refuses a second cluster on the same data directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-lock-"));
    dirs.push(dir);
    const server = await startLocalProcess(dir);
    try {
      const child = spawn(
        process.execPath,
        ["packages/cli/bin/fluss.ts", "local", "--data-dir", dir, "--port", "0"],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/in use by process/);
    } finally {
      server.kill("SIGINT");
      await server.exited;
    }
  });
});
