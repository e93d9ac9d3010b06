// 10,000 tables through a local cluster, then a restart with them. Creating a table must cost the
// same at 10,000 tables as at 10 (the metadata store writes entries, not one document holding
// everything): the test compares the bytes this process writes per create (Linux /proc/self/io
// wchar: store pages, plus the constant RPC traffic) early and late, not times. Times are logged.
// Most tables are partitioned with no partitions yet, so they have no buckets: 10,000 one-bucket
// log tables would hold 30,000 open files (3 per segment), over this machine's file limit — a
// tablet-server matter, not the metadata store's. A few log tables carry rows across the restart.

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const TABLES = 10_000;
const WINDOW = 100;
const LOG_TABLES = ["t00000", "t05000", "t09999"];

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Bytes this process has passed to write(2) and friends so far; null off Linux. */
function bytesWritten(): number | null {
  try {
    const m = /^wchar:\s+(\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function name(i: number): string {
  return `t${String(i).padStart(5, "0")}`;
}

interface Window {
  readonly bytesPerCreate: number | null;
  readonly msPerCreate: number;
}

describe("many tables", () => {
  it("creates 10,000 tables at a constant cost per table and restarts with all of them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fluss-many-"));
    dirs.push(dir);
    let cluster: TestCluster | null = await startCluster({}, dir);
    try {
      await cluster.conn.admin.createDatabase("many");
      const windows: Window[] = [];
      let windowStart = { bytes: bytesWritten(), ms: performance.now() };
      const t0 = performance.now();
      for (let i = 0; i < TABLES; i++) {
        const n = name(i);
        const isLog = LOG_TABLES.includes(n);
        await cluster.conn.admin.createTable(`many.${n}`, {
          schema: isLog ? "id BIGINT NOT NULL, s STRING" : "id BIGINT NOT NULL, dt STRING NOT NULL",
          buckets: 1,
          ...(isLog ? {} : { partitionKeys: ["dt"] }),
        });
        // Windows: creates 11-110 (10 to 110 tables) and the last 100 (9,900 to 10,000).
        if (i === 10 || i === TABLES - WINDOW) windowStart = { bytes: bytesWritten(), ms: performance.now() };
        if (i === 10 + WINDOW - 1 || i === TABLES - 1) {
          const bytes = bytesWritten();
          windows.push({
            bytesPerCreate:
              bytes === null || windowStart.bytes === null ? null : (bytes - windowStart.bytes) / WINDOW,
            msPerCreate: (performance.now() - windowStart.ms) / WINDOW,
          });
        }
      }
      const createMs = performance.now() - t0;
      const [early, late] = windows as [Window, Window];
      console.log(
        `created ${TABLES} tables in ${(createMs / 1000).toFixed(1)} s; per create at ~10 tables: ` +
          `${early.msPerCreate.toFixed(2)} ms, ${early.bytesPerCreate?.toFixed(0) ?? "?"} B written; ` +
          `at ~10,000 tables: ${late.msPerCreate.toFixed(2)} ms, ${late.bytesPerCreate?.toFixed(0) ?? "?"} B written`,
      );
      if (early.bytesPerCreate !== null && late.bytesPerCreate !== null) {
        // A B-tree one or two levels deeper writes a few more pages, never 1,000 times more (the
        // whole-document store wrote about 500 B per existing table on every create).
        expect(late.bytesPerCreate).toBeLessThan(3 * early.bytesPerCreate);
      }
      const writer = (await cluster.conn.getTable("many.t05000")).newAppendWriter();
      for (let i = 0; i < 100; i++) await writer.append({ id: BigInt(i), s: `row ${i}` });
      await writer.close();
      await cluster.stop({ keepData: true });
      cluster = null;

      const t1 = performance.now();
      cluster = await startCluster({}, dir);
      const tables = await cluster.conn.admin.listTables("many");
      const restartMs = performance.now() - t1;
      console.log(`restart with ${TABLES} tables and listing them: ${(restartMs / 1000).toFixed(1)} s`);
      expect(tables.length).toBe(TABLES);
      expect(new Set(tables)).toEqual(new Set(Array.from({ length: TABLES }, (_, i) => name(i))));
      expect((await cluster.conn.admin.getTableInfo("many.t09998")).descriptor.partitionKeys).toEqual(["dt"]);
      const scanned = new Set<bigint>();
      const t = await cluster.conn.getTable("many.t05000");
      for await (const r of t.newLogScanner({ untilLatest: true })) scanned.add(r.row.id as bigint);
      expect(scanned.size).toBe(100);
      // New tables still get fresh ids after the restart.
      await cluster.conn.admin.createTable("many.after", { schema: "id BIGINT NOT NULL", buckets: 1 });
      const ids = new Set([
        (await cluster.conn.admin.getTableInfo("many.after")).tableId,
        (await cluster.conn.admin.getTableInfo("many.t09999")).tableId,
      ]);
      expect(ids.size).toBe(2);
    } finally {
      await cluster?.stop({ keepData: true });
    }
  }, 240_000);
});
