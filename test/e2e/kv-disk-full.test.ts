// A primary-key table filling the disk: `fluss local` runs as its own process with its data
// directory on a small tmpfs (skipped where this process may not mount one). Upserts go until the
// disk is full; the server must stay up, refuse writes with a typed, retriable error, keep
// answering lookups, prefix lookups and snapshot scans with every acknowledged row, and take
// writes again once space is freed — without a restart.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalProcess, startLocalProcess } from "../helpers/process.ts";

const root = mkdtempSync(join(tmpdir(), "fluss-kvfull-"));
const mounted = ((): boolean => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${24 << 20}`, "tmpfs", root], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();

afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", root]);
  rmSync(root, { recursive: true, force: true });
});

const VALUE = "x".repeat(2000);
const ROWS_PER_BATCH = 100;

/** Upsert one batch of rows `[k, k + ROWS_PER_BATCH)` with a fresh writer; the error, or null. */
async function upsertBatch(conn: FlussConnection, k: number): Promise<unknown> {
  const t = await conn.getTable("fluss.full");
  const w = t.newUpsertWriter({ retries: 1, deliveryTimeoutMs: 10_000, lingerMs: 1 });
  try {
    for (let i = k; i < k + ROWS_PER_BATCH; i++) await w.upsert({ k: i, g: i % 4, v: `${i}:${VALUE}` });
    await w.flush();
    return null;
  } catch (err) {
    return err;
  } finally {
    await w.close().catch(() => undefined);
  }
}

describe("a primary-key table on a full disk", () => {
  it.skipIf(!mounted)(
    "the server stays up, refuses writes typed, keeps serving reads, and writes again once space is freed",
    async () => {
      writeFileSync(join(root, "filler"), Buffer.alloc(4 << 20, 1));
      let server: LocalProcess | null = await startLocalProcess(join(root, "data"));
      const conn = await connect({ bootstrap: server.bootstrap });
      try {
        await conn.admin.createTable("fluss.full", {
          schema: "k INT NOT NULL, g INT NOT NULL, v STRING, PRIMARY KEY (g, k)",
          bucketKeys: ["g"],
          buckets: 1,
        });
        let exited: number | null | undefined;
        void server.exited.then((code) => {
          exited = code;
        });
        let acked = 0; // rows [0, acked) are acknowledged
        let refused: unknown = null;
        for (let round = 0; round < 200 && refused === null && exited === undefined; round++) {
          refused = await Promise.race([upsertBatch(conn, acked), server.exited.then(() => "server exited")]);
          if (refused === null) acked += ROWS_PER_BATCH;
        }
        expect(exited, "the server died").toBeUndefined();
        expect(acked).toBeGreaterThan(0);
        expect(isFlussError(refused) && refused.code, String(refused)).toBe(Errors.STORAGE_EXCEPTION.code);
        expect((refused as Error).message).toMatch(/disk full|no space left/i);
        // Still up, and every acknowledged row reads back.
        const t = await conn.getTable("fluss.full");
        const lookuper = t.newLookuper();
        for (const k of [0, acked - 1]) {
          expect(await lookuper.lookup({ g: k % 4, k })).toEqual({ k, g: k % 4, v: `${k}:${VALUE}` });
        }
        const group = await t.newPrefixLookuper(["g"]).lookup({ g: 1 });
        expect(group.length).toBe(acked / 4);
        let scanned = 0;
        for await (const _ of t.newSnapshotScanner()) scanned++;
        expect(scanned).toBeGreaterThanOrEqual(acked);
        expect(exited).toBeUndefined();
        // Space freed: writes are taken again, without a restart.
        rmSync(join(root, "filler"));
        let again: unknown = "not tried";
        for (let attempt = 0; attempt < 20 && again !== null; attempt++) {
          again = await upsertBatch(conn, 1_000_000);
          if (again !== null) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(again).toBeNull();
        expect(await lookuper.lookup({ g: 1_000_000 % 4, k: 1_000_000 })).toEqual({
          k: 1_000_000,
          g: 0,
          v: `1000000:${VALUE}`,
        });
        expect(exited).toBeUndefined();
      } finally {
        await conn.close().catch(() => undefined);
        server?.kill("SIGTERM");
        await server?.exited;
        server = null;
      }
    },
    120_000,
  );
});
