// Remote log tiering through a local cluster with small segments: rounds copy closed segments to
// remote storage and delete local copies beyond table.log.tiered.local-segments; the SDK's scans
// (plain, projected, filtered, from an offset) return exactly the rows they returned before
// tiering; earliest offsets stay the true start; a restart serves remote segments; retention
// expires remote segments; dropping the table deletes its remote data. Run against a local
// directory, and against S3 (moto) when installed (skipped with a message otherwise, unless
// FLUSS_REQUIRE_S3=1). Plus `fluss local` tiering on its own timer.

import fs from "node:fs";
import path from "node:path";
import { ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { hasS3, type S3Server, startS3Server } from "../helpers/s3.ts";

const HOUR = 3_600_000;
const ROWS = 1000;

async function rowsOf(
  tc: TestCluster,
  table: string,
  opts: { columns?: string[]; filter?: string; from?: "earliest" | { offset: bigint } } = {},
): Promise<string[]> {
  const t = await tc.conn.getTable(table);
  const out: string[] = [];
  const scanner = t.newLogScanner({ untilLatest: true, from: opts.from ?? "earliest", ...opts });
  for await (const r of scanner)
    out.push(`${r.offset}:${JSON.stringify(r.row, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
  return out;
}

async function write(tc: TestCluster, table: string, from: number, n: number): Promise<void> {
  const t = await tc.conn.getTable(table);
  const w = t.newAppendWriter({ lingerMs: 0, batchSizeBytes: 2048 });
  for (let i = from; i < from + n; i++) {
    await w.append({ id: BigInt(i), kind: i % 3 === 0 ? "a" : "b", pad: `row-${i}-${"x".repeat(60)}` });
    if (i % 20 === 19) await w.flush();
  }
  await w.close();
}

function tieringSuite(name: string, remoteOptions: () => Record<string, string>): void {
  describe(`remote log tiering through a local cluster (${name})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26));
    let tc: TestCluster;
    const options = () => ({
      "log.segment.file-size": "8kb",
      "remote.log.task-interval-duration": "1 h", // rounds are run by hand below
      "remote.log.task-max-upload-segments": "1000",
      ...remoteOptions(),
    });
    const server = () => tc.cluster.tabletServers[0]!;
    const round = () => server().replicas.remoteLog!.runOnce(server().replicas.all());

    beforeAll(async () => {
      tc = await startCluster(options(), undefined, clock);
    });
    afterAll(async () => {
      await tc?.stop();
    });

    it("tiers closed segments and every scan returns exactly the same rows", async () => {
      await tc.conn.admin.createTable("fluss.tiered", {
        schema: "id BIGINT NOT NULL, kind STRING, pad STRING",
        buckets: 1,
        options: {
          "table.log.ttl": "2 h",
          "table.log.tiered.local-segments": "2",
          "table.log.arrow.compression.type": "NONE",
        },
      });
      await write(tc, "fluss.tiered", 0, ROWS);
      const before = {
        all: await rowsOf(tc, "fluss.tiered"),
        projected: await rowsOf(tc, "fluss.tiered", { columns: ["id"] }),
        filtered: await rowsOf(tc, "fluss.tiered", { filter: "kind = 'a'" }),
        mid: await rowsOf(tc, "fluss.tiered", { from: { offset: 123n } }),
      };
      expect(before.all.length).toBe(ROWS);
      const r = await round();
      expect(r.failedBuckets).toBe(0);
      expect(r.copiedSegments).toBeGreaterThan(5);
      expect(r.deletedLocalSegments).toBe(r.copiedSegments - 1);
      const log = server().replicas.all().next().value!.log;
      expect(log.stats().segments).toBe(2);
      expect(log.localLogStartOffset).toBeGreaterThan(300n);
      expect((await tc.conn.admin.listOffsets("fluss.tiered", "earliest")).get(0)).toBe(0n);
      expect(await rowsOf(tc, "fluss.tiered")).toEqual(before.all);
      expect(await rowsOf(tc, "fluss.tiered", { columns: ["id"] })).toEqual(before.projected);
      expect(await rowsOf(tc, "fluss.tiered", { filter: "kind = 'a'" })).toEqual(before.filtered);
      expect(await rowsOf(tc, "fluss.tiered", { from: { offset: 123n } })).toEqual(before.mid);
    });

    it("serves remote segments after a restart", async () => {
      const before = await rowsOf(tc, "fluss.tiered");
      await tc.stop({ keepData: true });
      tc = await startCluster(options(), tc.dataDir, clock);
      expect(await rowsOf(tc, "fluss.tiered")).toEqual(before);
      await write(tc, "fluss.tiered", ROWS, 100);
      expect((await round()).copiedSegments).toBeGreaterThan(0);
      expect((await rowsOf(tc, "fluss.tiered")).length).toBe(ROWS + 100);
    });

    it("retention deletes remote segments; dropping the table deletes its remote data", async () => {
      clock.advance(3 * HOUR);
      await write(tc, "fluss.tiered", ROWS + 100, 200); // new segments, newer than the TTL
      const r = await round();
      expect(r.expiredRemoteSegments).toBeGreaterThan(0);
      const earliest = (await tc.conn.admin.listOffsets("fluss.tiered", "earliest")).get(0)!;
      // Segments written before the clock moved are gone, except the one that was active then.
      expect(earliest).toBeGreaterThan(BigInt(ROWS / 2));
      expect(earliest).toBeLessThanOrEqual(BigInt(ROWS + 100));
      const rows = await rowsOf(tc, "fluss.tiered");
      expect(rows[0]).toMatch(new RegExp(`^${earliest}:`));
      expect(rows.length).toBe(ROWS + 300 - Number(earliest));
      const table = await tc.conn.getTable("fluss.tiered");
      const prefix = `log/${table.info.tableId}/`;
      const storage = server().replicas.remoteLog!.storage;
      expect((await storage.list(prefix)).length).toBeGreaterThan(0);
      await tc.conn.admin.dropTable("fluss.tiered");
      for (let i = 0; i < 100 && (await storage.list(prefix)).length > 0; i++)
        await new Promise((res) => setTimeout(res, 50));
      expect(await storage.list(prefix)).toEqual([]);
    });
  });
}

tieringSuite("local directory", () => ({}));

describe.skipIf(!hasS3())("on S3", () => {
  let s3: S3Server;
  let bucket = "";
  beforeAll(async () => {
    s3 = await startS3Server();
    bucket = await s3.createBucket();
    process.env.AWS_ACCESS_KEY_ID = "fluss-test";
    process.env.AWS_SECRET_ACCESS_KEY = "fluss-test-secret";
  });
  afterAll(async () => {
    await s3?.stop();
  });
  tieringSuite("S3 (moto)", () => ({
    "remote.data.dir": `s3://${bucket}/cluster`,
    "s3.endpoint": s3.endpoint,
  }));
});

describe("fluss local tiers on its own timer", () => {
  let tc: TestCluster;
  afterAll(async () => {
    await tc?.stop();
  });
  it("copies segments to <data dir>/remote within a few intervals", async () => {
    tc = await startCluster({
      "log.segment.file-size": "8kb",
      "remote.log.task-interval-duration": "200 ms",
    });
    await tc.conn.admin.createTable("fluss.timer", {
      schema: "id BIGINT NOT NULL, kind STRING, pad STRING",
      buckets: 1,
    });
    await write(tc, "fluss.timer", 0, 300);
    const table = await tc.conn.getTable("fluss.timer");
    const manifest = path.join(
      tc.dataDir,
      "remote",
      "log",
      String(table.info.tableId),
      "-",
      "0",
      "manifest.json",
    );
    for (let i = 0; i < 100 && !fs.existsSync(manifest); i++) await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(manifest)).toBe(true);
    expect((await rowsOf(tc, "fluss.timer")).length).toBe(300);
  });
});

describe("primary-key table with tiered changelog", () => {
  let tc: TestCluster;
  afterAll(async () => {
    await tc?.stop();
  });
  it("rebuilds a lost KV store from its snapshot plus a changelog read back from remote segments", async () => {
    const options = { "log.segment.file-size": "8kb", "remote.log.task-interval-duration": "1 h" };
    tc = await startCluster(options);
    await tc.conn.admin.createTable("fluss.pk", {
      schema: "id BIGINT NOT NULL, v STRING, PRIMARY KEY (id)",
      buckets: 1,
      options: { "table.log.arrow.compression.type": "NONE" },
    });
    const t = await tc.conn.getTable("fluss.pk");
    const w = t.newUpsertWriter({ lingerMs: 0, batchSizeBytes: 1024 });
    for (let i = 0; i < 200; i++) {
      await w.upsert({ id: BigInt(i % 50), v: `first-${i}-${"y".repeat(40)}` });
      if (i % 10 === 9) await w.flush();
    }
    const server = tc.cluster.tabletServers[0]!;
    expect(await server.tasks.snapshotKvTablets()).toBe(1);
    for (let i = 0; i < 300; i++) {
      await w.upsert({ id: BigInt(i % 50), v: `second-${i}-${"z".repeat(40)}` });
      if (i % 10 === 9) await w.flush();
    }
    await w.close();
    const r = await server.replicas.remoteLog!.runOnce(server.replicas.all());
    expect(r.deletedLocalSegments).toBeGreaterThan(3);
    const log = server.replicas.all().next().value!.log;
    const snapshotOffset = 200n * 2n; // at least: every upsert after the first 50 wrote -U and +U
    expect(log.localLogStartOffset).toBeGreaterThan(snapshotOffset); // the replay must read remote
    const lookuper = (await tc.conn.getTable("fluss.pk")).newLookuper();
    const want = new Map<bigint, unknown>();
    for (let id = 0n; id < 50n; id++) want.set(id, (await lookuper.lookup({ id }))?.v);
    const dataDir = tc.dataDir;
    await tc.stop({ keepData: true });
    const kvDirs = fs
      .readdirSync(path.join(dataDir, "tablet-server-0", "fluss"))
      .map((d) => path.join(dataDir, "tablet-server-0", "fluss", d, "kv-0"));
    for (const d of kvDirs) fs.rmSync(d, { recursive: true, force: true });
    tc = await startCluster(options, dataDir);
    const again = (await tc.conn.getTable("fluss.pk")).newLookuper();
    for (let id = 0n; id < 50n; id++) expect((await again.lookup({ id }))?.v).toBe(want.get(id));
  });
});
