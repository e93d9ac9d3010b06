// Recovery: reopen replays the changelog (committed part into the store, the rest back into the
// pre-write buffer); a lost, corrupt or too-new local store is rebuilt from the newest snapshot
// plus the log (or from the whole log); kill -9 of a writer process loses nothing acknowledged and
// applies nothing half.

import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Errors,
  isFlussError,
  makeSchema,
  NO_COMPRESSION,
  nextOffsetOf,
  splitBatches,
} from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import {
  KvTablet,
  LocalRemoteSnapshotStore,
  LogTablet,
  resolveKvOptions,
  type SnapshotTarget,
} from "../../src/index.ts";
import { removeTempDirs, TestClock, tempDir } from "../helpers.ts";
import { del, type Harness, type HarnessOptions, kvBatch, openHarness, upsert } from "./kv-helpers.ts";
import { workloadBatch, workloadModel, workloadProperties, workloadSchema } from "./kv-workload.ts";

afterAll(removeTempDirs);

const schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "s", type: "STRING" },
    { name: "ts", type: "TIMESTAMP(6)" },
    { name: "d", type: "DECIMAL(20, 3)" },
  ],
  ["id"],
);

async function reopen(h: Harness, extra: Partial<HarnessOptions> = {}): Promise<Harness> {
  await h.close();
  return openHarness({ schema: h.schema, dir: h.dir, ...extra });
}

async function withWrites(o: Partial<HarnessOptions> = {}): Promise<Harness> {
  const h = await openHarness({ schema, ...o });
  await h.put([upsert(1, "a", 1_700_000_000_123_456n, "12345678901234567.891"), upsert(2, "b", null, null)]);
  await h.put([upsert(1, "a2", 1_700_000_000_123_457n, "-0.001"), del(2), upsert(3, "c", 5n, "1.000")]);
  return h;
}

describe("reopen", () => {
  it("rebuilds the same rows, byte for byte, and re-stages what was above the high watermark", async () => {
    let h = await withWrites();
    await h.put([upsert(3, "staged", null, null)], { hold: true });
    const committed = h.rows();
    const bytes = await h.kv.limitScan(10);
    h = await reopen(h);
    expect(h.rows()).toEqual(committed);
    expect(await h.kv.limitScan(10)).toEqual(bytes);
    expect(h.get(3)).toEqual([3, "c", 5n, "1.000"]); // the staged update is not visible
    await h.put([upsert(3, "again", null, null)]); // merges against the re-staged value
    expect((await h.changelog(6n)).slice(-4)).toEqual([
      "-U(3, c, 1970-01-01T00:00:00.000Z, 1.000)",
      "+U(3, staged, null, null)",
      "-U(3, staged, null, null)",
      "+U(3, again, null, null)",
    ]);
    expect(h.get(3)).toEqual([3, "again", null, null]);
    expect(h.kv.rowCount).toBe(2n);
    await h.close();
  });

  it("a lost local store is rebuilt from the whole log when no snapshot exists", async () => {
    let h = await withWrites();
    const rows = h.rows();
    await h.close();
    fs.rmSync(h.kvDir, { recursive: true });
    h = await openHarness({ schema, dir: h.dir });
    expect(h.rows()).toEqual(rows);
    expect(h.kv.appliedLogOffset).toBe(h.log.logEndOffset);
    await h.close();
  });

  it("a store left open by an earlier boot (OS crash, unsynced commits) is rebuilt", async () => {
    let h = await withWrites();
    const rows = h.rows();
    await h.close();
    fs.writeFileSync(`${h.kvDir}/OPEN`, "id:some-earlier-boot");
    h = await openHarness({ schema, dir: h.dir });
    expect(h.kv.stats().discardedLocalStore).toMatch(/open when the machine went down/);
    expect(h.rows()).toEqual(rows);
    await h.close();
    expect(fs.existsSync(`${h.kvDir}/OPEN`)).toBe(false); // a clean close removes the marker
  });

  it("a store ahead of its (truncated) log is discarded and rebuilt", async () => {
    let h = await withWrites();
    h.log.truncateTo(2n); // only the first batch remains
    h = await reopen(h);
    expect(h.kv.stats().discardedLocalStore).toMatch(/ahead of its log/);
    expect(h.rows()).toEqual([
      [1, "a", 1_700_000_000_123_456n, "12345678901234567.891"],
      [2, "b", null, null],
    ]);
    await h.close();
  });
});

describe("snapshots", () => {
  async function target(): Promise<SnapshotTarget> {
    const remote = new LocalRemoteSnapshotStore(await tempDir("fluss-remote-"));
    return { remote, scope: { tableId: 42n, partition: null, bucket: 3 }, retained: 2 };
  }

  it("restores a lost store from the newest snapshot plus the log after it", async () => {
    const snapshots = await target();
    let h = await withWrites({ snapshots });
    const s0 = await h.kv.snapshot();
    expect(s0).toMatchObject({ snapshotId: 0, logOffset: 6n, rowCount: 2n });
    expect(await h.kv.snapshot()).toBe(s0); // nothing new: the same snapshot
    await h.put([upsert(4, "d", null, null)]);
    const s1 = await h.kv.snapshot();
    await h.put([upsert(5, "e", null, null), del(1)]);
    const s2 = await h.kv.snapshot();
    await h.put([upsert(6, "f", null, null)]); // only in the log
    expect([s1.snapshotId, s2.snapshotId]).toEqual([1, 2]);
    expect((await snapshots.remote.list(snapshots.scope)).map((m) => m.snapshotId)).toEqual([1, 2]);
    const dirOf = (snapshots.remote as LocalRemoteSnapshotStore).snapshotDir(snapshots.scope, 2);
    expect(dirOf).toMatch(/42\/-\/3\/snapshot-2$/);
    expect(fs.readdirSync(dirOf).sort()).toEqual(["_MANIFEST.json", "data.mdb"]);
    const rows = h.rows();
    await h.close();
    fs.rmSync(h.kvDir, { recursive: true });
    h = await openHarness({ schema, dir: h.dir, snapshots });
    expect(h.kv.latestSnapshot()?.snapshotId).toBe(2);
    expect(h.kv.stats().recoveredRecords).toBe(1); // only the +I of key 6 was replayed
    expect(h.rows()).toEqual(rows);
    expect(h.kv.rowCount).toBe(BigInt(rows.length));
    await h.close();
  });

  it("a corrupt local store is moved aside and restored", async () => {
    const snapshots = await target();
    let h = await withWrites({ snapshots });
    await h.kv.snapshot();
    const rows = h.rows();
    await h.close();
    fs.writeFileSync(`${h.kvDir}/db/data.mdb`, Buffer.alloc(64 * 1024, 0x5a));
    h = await openHarness({ schema, dir: h.dir, snapshots });
    expect(h.kv.stats().discardedLocalStore).toMatch(/does not open/);
    expect(h.rows()).toEqual(rows);
    expect(fs.readdirSync(h.kvDir).some((n) => n.startsWith("db.unusable-"))).toBe(true);
    await h.close();
  });

  it("fails clearly when neither a snapshot nor the whole log can rebuild the store", async () => {
    const dir = await tempDir("fluss-kv-");
    const clock = new TestClock();
    const log = await LogTablet.open({ dir: `${dir}/log`, clock, config: { segmentBytesMax: 1024 } });
    const open = () =>
      KvTablet.open({ dir: `${dir}/kv`, log, schema, schemaId: 1, options: resolveKvOptions({}), clock });
    const kv = await open();
    for (let i = 0; i < 20; i++) {
      await kv.putAsLeader(kvBatch(schema, [upsert(i, "x".repeat(100), null, null)]), null, {
        compression: NO_COMPRESSION,
      });
      log.updateHighWatermark(log.logEndOffset);
    }
    await kv.close();
    clock.advance(10_000);
    expect(log.deleteExpiredSegments(1000)).toBeGreaterThan(0);
    fs.rmSync(`${dir}/kv`, { recursive: true });
    const err = await open().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(err) && err.is(Errors.KV_STORAGE_EXCEPTION)).toBe(true);
    expect((err as Error).message).toMatch(/no usable snapshot and the log starts at [1-9]/);
    await log.close();
  });
});

describe("kill -9", () => {
  it("keeps every acknowledged upsert and applies nothing half", async () => {
    const dir = await tempDir("fluss-kv-crash-");
    const script = fileURLToPath(new URL("../fixtures/kv-crash-writer.ts", import.meta.url));
    const child = spawn(process.execPath, [script, dir, "100000"], { stdio: ["ignore", "pipe", "pipe"] });
    let acked = -1;
    let pending = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", () => resolve());
      child.stdout.on("data", (c: Buffer) => {
        const lines = (pending + c.toString()).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) if (line !== "done") acked = Number(line);
        if (acked >= 150 && child.exitCode === null) child.kill("SIGKILL");
      });
    });
    expect(acked, `writer stderr: ${stderr}`).toBeGreaterThanOrEqual(150);
    const h = await openHarness({
      schema: workloadSchema,
      properties: workloadProperties,
      dir,
      flushMode: "always",
    });
    const applied = await batchesBelow(h, h.kv.appliedLogOffset);
    expect(applied).toBeGreaterThanOrEqual(acked + 1); // every acknowledged batch is in the store
    expect(h.rows()).toEqual(workloadModel(applied)); // exactly those batches, none half
    await h.commit();
    const all = await batchesBelow(h, h.log.logEndOffset);
    expect(h.rows()).toEqual(workloadModel(all));
    await h.put(workloadBatch(all), { writerId: 1n, sequence: all }); // the writer can go on
    expect(h.rows()).toEqual(workloadModel(all + 1));
    await h.close();
  }, 60_000);
});

/** How many log batches end at or below `offset`. */
async function batchesBelow(h: Harness, offset: bigint): Promise<number> {
  const r = await h.log.read(0n, 256 << 20, h.log.logEndOffset);
  return splitBatches(r.records, { verifyCrc: true, allowPartialTail: false }).filter(
    (s) => nextOffsetOf(s.header) <= offset,
  ).length;
}
