// Log tables filling the disk, for real: `fluss local` runs as its own process with its data
// directory on a 24 MiB tmpfs (skipped where this process may not mount one). Appends go until the
// disk is full: they fail with a typed, retriable STORAGE_EXCEPTION while reads of acknowledged
// rows go on; dropping a table frees its space and writes resume without a restart (a retrying
// writer's pending rows go through on their own); a clean stop on the full disk exits 0, and a
// restart on it succeeds with every acknowledged row readable, as does one after a kill -9.

import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { Errors, isFlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { type LocalProcess, startLocalProcess } from "../helpers/process.ts";
import { mountTmpfs } from "../helpers/tmpfs.ts";

const PAD = 1000;
const ROWS_PER_ROUND = 200;
const ROUNDS_MAX = 1000;
const SCHEMA = "id BIGINT NOT NULL, pad STRING";
const TABLE_OPTIONS = { "table.log.arrow.compression.type": "NONE" };

/** A pad that does not compress, different per row. */
function pad(id: number): string {
  let x = (id * 2654435761) >>> 0 || 1;
  let s = "";
  for (let i = 0; i < PAD; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode(97 + ((x >>> 0) % 26));
  }
  return s;
}

/** Append rows [from, from + count) with a writer that does not retry; the error, or null. */
async function appendRound(
  conn: FlussConnection,
  table: string,
  from: number,
  count: number,
): Promise<unknown> {
  const w = (await conn.getTable(table)).newAppendWriter({ retries: 0, lingerMs: 1 });
  try {
    for (let i = from; i < from + count; i++) await w.append({ id: BigInt(i), pad: pad(i) });
    await w.flush();
    return null;
  } catch (err) {
    return err;
  } finally {
    await w.close().catch(() => undefined);
  }
}

/** Append rounds until one fails; returns the rows acknowledged and the failure. */
async function appendUntilFull(
  conn: FlussConnection,
  table: string,
  from: number,
): Promise<{ acked: number; error: unknown }> {
  let next = from;
  for (let round = 0; round < ROUNDS_MAX; round++) {
    const error = await appendRound(conn, table, next, ROWS_PER_ROUND);
    if (error !== null) return { acked: next - from, error };
    next += ROWS_PER_ROUND;
  }
  throw new Error(`the disk did not fill after ${ROUNDS_MAX} rounds`);
}

async function ids(conn: FlussConnection, table: string): Promise<Set<bigint>> {
  const t = await conn.getTable(table);
  const out = new Set<bigint>();
  for await (const r of t.newLogScanner({ untilLatest: true })) out.add(r.row.id as bigint);
  return out;
}

function range(from: number, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => BigInt(from + i));
}

function expectStorageException(err: unknown): void {
  expect(isFlussError(err), `expected a FlussError, got ${String(err)}`).toBe(true);
  if (!isFlussError(err)) return;
  expect(err.code).toBe(Errors.STORAGE_EXCEPTION.code);
  expect(err.retriable).toBe(true);
}

describe("log tables on a full disk", () => {
  it("refuses appends typed, keeps serving reads, frees space on drop, stops with 0 and restarts on the full disk", async (ctx) => {
    const tmp = await mountTmpfs(24 * 1024 * 1024);
    if (tmp === null) return ctx.skip();
    const dataDir = join(tmp.dir, "data");
    const args = ["--config", "log.segment.file-size=1mb"];
    let server: LocalProcess | null = await startLocalProcess(dataDir, args);
    let conn: FlussConnection | null = await connect({ bootstrap: server.bootstrap });
    try {
      await conn.admin.createTable("fluss.bulk", { schema: SCHEMA, buckets: 1, options: TABLE_OPTIONS });
      await conn.admin.createTable("fluss.events", { schema: SCHEMA, buckets: 1, options: TABLE_OPTIONS });
      // ~10 MiB that a drop can give back later.
      for (let i = 0; i < 50; i++)
        expect(await appendRound(conn, "fluss.bulk", i * ROWS_PER_ROUND, ROWS_PER_ROUND)).toBeNull();

      // Fill the disk through the other table.
      const first = await appendUntilFull(conn, "fluss.events", 0);
      if (process.env.FLUSS_TEST_VERBOSE)
        console.log(`full after ${first.acked} rows: ${String(first.error)}`);
      expectStorageException(first.error);
      expect(first.acked).toBeGreaterThan(0);
      // Reads of acknowledged rows go on (only whole rounds were acknowledged: a failed round's
      // earlier batches may be in the log too, so look for the acknowledged ones).
      let seen = await ids(conn, "fluss.events");
      for (const id of range(0, first.acked)) expect(seen.has(id)).toBe(true);
      expect((await ids(conn, "fluss.bulk")).size).toBe(50 * ROWS_PER_ROUND);
      // Still full: another append fails the same way.
      expectStorageException(await appendRound(conn, "fluss.events", 1_000_000, ROWS_PER_ROUND));

      // A writer that retries (the default) waits out the full disk...
      const patient = (await conn.getTable("fluss.events")).newAppendWriter({ lingerMs: 1 });
      for (let i = 2_000_000; i < 2_000_000 + 50; i++) await patient.append({ id: BigInt(i), pad: pad(i) });
      const patientFlushed = patient.flush();
      // ...until a drop frees the space: then its rows go through, without any restart.
      await conn.admin.dropTable("fluss.bulk");
      await patientFlushed;
      await patient.close();
      const resumed = await appendRound(conn, "fluss.events", 3_000_000, ROWS_PER_ROUND);
      expect(resumed).toBeNull();
      seen = await ids(conn, "fluss.events");
      for (const id of [...range(2_000_000, 50), ...range(3_000_000, ROWS_PER_ROUND)])
        expect(seen.has(id)).toBe(true);

      // Full again, then a clean stop: exit code 0.
      const second = await appendUntilFull(conn, "fluss.events", 4_000_000);
      expectStorageException(second.error);
      const acked = [
        ...range(0, first.acked),
        ...range(2_000_000, 50),
        ...range(3_000_000, ROWS_PER_ROUND),
        ...range(4_000_000, second.acked),
      ];
      await conn.close();
      conn = null;
      server.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      server = null;

      // A restart on the still-full disk succeeds and serves every acknowledged row.
      server = await startLocalProcess(dataDir, args);
      conn = await connect({ bootstrap: server.bootstrap });
      seen = await ids(conn, "fluss.events");
      for (const id of acked) expect(seen.has(id)).toBe(true);
      expect(await conn.admin.tableExists("fluss.bulk")).toBe(false);
      expectStorageException(await appendRound(conn, "fluss.events", 5_000_000, ROWS_PER_ROUND));
      await conn.close();
      conn = null;

      // A crash on the full disk: the next start recovers (index entries that do not fit are skipped).
      server.kill("SIGKILL");
      await server.exited;
      server = await startLocalProcess(dataDir, args);
      conn = await connect({ bootstrap: server.bootstrap });
      seen = await ids(conn, "fluss.events");
      for (const id of acked) expect(seen.has(id)).toBe(true);
      await conn.close();
      conn = null;
      server.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      server = null;
    } finally {
      await conn?.close().catch(() => undefined);
      if (server !== null) {
        server.kill("SIGKILL");
        await server.exited;
      }
      await tmp.unmount();
    }
  }, 120_000);
});
