// A writer that outlives its partition: rows buffered (queued, in flight, or still in the open
// batch) for a partition that is dropped and re-created under the same name go to the new
// partition, each exactly once; rows for a partition dropped for good (by hand, or by an
// automatic partition's retention) fail with PARTITION_NOT_EXISTS on their receipts long before
// the delivery timeout, and the writer goes on with its other partitions.

import type { AppendAck, Table, WriteReceipt } from "@fluss-ts/client";
import { Errors, ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

/** Far beyond every test's own timeout: a row may only fail for a reason of its own. */
const DELIVERY_TIMEOUT_MS = 120_000;

async function partitionId(tc: TestCluster, table: string, name: string): Promise<bigint | undefined> {
  return (await tc.conn.admin.listPartitions(table)).find((p) => p.name === name)?.partitionId;
}

async function readIds(t: Table, partitions: Record<string, string>): Promise<bigint[]> {
  const ids: bigint[] = [];
  for await (const r of t.newLogScanner({ untilLatest: true, partitions })) ids.push(r.row.id as bigint);
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Drop and create again (a writer that may create partitions may have been quicker). */
async function recreate(tc: TestCluster, table: string, spec: Record<string, string>): Promise<void> {
  await tc.conn.admin.dropPartition(table, spec);
  await tc.conn.admin.createPartition(table, spec, { ignoreIfExists: true });
}

describe("a writer whose partition is dropped", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createTable("fluss.moving", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL",
      partitionKeys: ["dt"],
      buckets: 2,
    });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("sends rows for a re-created partition to its new id, each once", async () => {
    const t = await tc.conn.getTable("fluss.moving");
    const w = t.newAppendWriter({ lingerMs: 5, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    for (let i = 0n; i < 50n; i++) await w.append({ id: i, dt: "a" });
    await w.flush();
    const oldId = await partitionId(tc, "fluss.moving", "a");
    await recreate(tc, "fluss.moving", { dt: "a" });
    const newId = await partitionId(tc, "fluss.moving", "a");
    expect(newId).not.toBe(oldId);
    // The writer still knows "a" by its old id: these rows are built for it.
    const receipts = [];
    for (let i = 50n; i < 250n; i++) receipts.push(await w.append({ id: i, dt: "a" }));
    expect(receipts.every((r) => r.partitionId === oldId)).toBe(true);
    await w.flush();
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    expect(new Set(acks.map((a) => a.partitionId))).toEqual(new Set([newId]));
    expect(receipts.every((r) => r.partitionId === newId)).toBe(true);
    const want = Array.from({ length: 200 }, (_, i) => BigInt(i + 50));
    expect(await readIds(t, { dt: "a" })).toEqual(want);
    // The writer goes on in the new partition.
    await (await w.append({ id: 1000n, dt: "a" })).acknowledged;
    await w.close();
    expect((await readIds(t, { dt: "a" })).length).toBe(201);
  });

  it("re-targets batches that are in flight while the partition is dropped and re-created", async () => {
    const t = await tc.conn.getTable("fluss.moving");
    const w = t.newAppendWriter({ lingerMs: 1, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    await (await w.append({ id: 0n, dt: "m" })).acknowledged;
    const oldId = await partitionId(tc, "fluss.moving", "m");
    const receipts: WriteReceipt<AppendAck>[] = [];
    /** The partition id each row's batch was built for. */
    const builtFor: Array<bigint | null> = [];
    let stop = false;
    const writing = (async () => {
      for (let i = 1n; !stop || i < 3000n; i++) {
        const r = await w.append({ id: i, dt: "m" });
        receipts.push(r);
        builtFor.push(r.partitionId);
        if (i % 25n === 0n) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await recreate(tc, "fluss.moving", { dt: "m" });
    const newId = await partitionId(tc, "fluss.moving", "m");
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await writing;
    await w.close();
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    // Rows acknowledged by the old partition went with it; every other row is in the new one, once.
    const inNew = acks
      .map((a, i) => ({ a, id: BigInt(i + 1) }))
      .filter(({ a }) => a.partitionId === newId)
      .map(({ id }) => id);
    expect(inNew.length).toBeGreaterThan(0);
    // Some rows built for the old partition were moved to the new one (not lost with the old).
    expect(acks.some((a, i) => builtFor[i] === oldId && a.partitionId === newId)).toBe(true);
    expect(await readIds(t, { dt: "m" })).toEqual(inNew);
  });

  it("fails rows for a partition dropped for good with PARTITION_NOT_EXISTS, and goes on", async () => {
    const t = await tc.conn.getTable("fluss.moving");
    const w = t.newAppendWriter({ lingerMs: 5, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    for (const dt of ["b", "c"]) await (await w.append({ id: 0n, dt })).acknowledged;
    await tc.conn.admin.dropPartition("fluss.moving", { dt: "b" });
    const gone = [];
    const kept = [];
    for (let i = 1n; i <= 20n; i++) {
      gone.push(await w.append({ id: i, dt: "b" }));
      kept.push(await w.append({ id: i, dt: "c" }));
    }
    const started = Date.now();
    const outcomes = await Promise.allSettled(gone.map((r) => r.acknowledged));
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      if (o.status === "rejected") expect(o.reason.code).toBe(Errors.PARTITION_NOT_EXISTS.code);
    }
    await Promise.all(kept.map((r) => r.acknowledged));
    // Those rows failed on their own: the writer is not failed.
    await (await w.append({ id: 100n, dt: "c" })).acknowledged;
    await w.flush();
    // A later row for "b" resolves the name again (and, as this writer may, creates it anew).
    const again = await (await w.append({ id: 200n, dt: "b" })).acknowledged;
    expect(again.partitionId).toBe(await partitionId(tc, "fluss.moving", "b"));
    await w.close();
    expect(await readIds(t, { dt: "c" })).toEqual([...Array.from({ length: 21 }, (_, i) => BigInt(i)), 100n]);
    expect(await readIds(t, { dt: "b" })).toEqual([200n]);
  });

  it("re-targets upserts of a re-created partition of a primary-key table", async () => {
    await tc.conn.admin.createTable("fluss.moving_kv", {
      schema: "dt STRING NOT NULL, k INT NOT NULL, v STRING, PRIMARY KEY (dt, k)",
      partitionKeys: ["dt"],
      buckets: 2,
    });
    const t = await tc.conn.getTable("fluss.moving_kv");
    const w = t.newUpsertWriter({ lingerMs: 5, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
    for (let k = 0; k < 20; k++) await w.upsert({ dt: "a", k, v: `old${k}` });
    await w.flush();
    await recreate(tc, "fluss.moving_kv", { dt: "a" });
    const receipts = [];
    for (let k = 10; k < 30; k++) receipts.push(await w.upsert({ dt: "a", k, v: `new${k}` }));
    await w.close();
    const newId = await partitionId(tc, "fluss.moving_kv", "a");
    for (const r of receipts) expect((await r.acknowledged).partitionId).toBe(newId);
    const l = t.newLookuper();
    expect(await l.lookup({ dt: "a", k: 0 })).toBeNull();
    for (let k = 10; k < 30; k++) expect((await l.lookup({ dt: "a", k }))?.v).toBe(`new${k}`);
  });
});

describe("a writer to an automatic partition that retention drops", () => {
  it("fails the partition's rows with PARTITION_NOT_EXISTS", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
    const tc = await startCluster({}, undefined, clock);
    try {
      await tc.conn.admin.createTable("fluss.auto", {
        schema: "id BIGINT NOT NULL, dt STRING NOT NULL",
        partitionKeys: ["dt"],
        options: {
          "table.auto-partition.enabled": "true",
          "table.auto-partition.time-unit": "DAY",
          "table.auto-partition.num-precreate": "2",
          "table.auto-partition.num-retention": "1",
          "table.auto-partition.time-zone": "UTC",
        },
      });
      const t = await tc.conn.getTable("fluss.auto");
      const w = t.newAppendWriter({ lingerMs: 5, deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
      for (const dt of ["20261126", "20261127"]) await (await w.append({ id: 1n, dt })).acknowledged;
      clock.advance(86_400_000);
      await tc.cluster.coordinator.coordinator.autoPartitions.runOnce();
      // Retention 1 keeps 20261126 one more day: it is still there.
      await (await w.append({ id: 2n, dt: "20261126" })).acknowledged;
      clock.advance(86_400_000);
      await tc.cluster.coordinator.coordinator.autoPartitions.runOnce();
      expect(await partitionId(tc, "fluss.auto", "20261126")).toBeUndefined();
      const expired = await w.append({ id: 3n, dt: "20261126" });
      await expect(expired.acknowledged).rejects.toMatchObject({ code: Errors.PARTITION_NOT_EXISTS.code });
      await (await w.append({ id: 3n, dt: "20261127" })).acknowledged;
      await expect(w.close()).resolves.toBeUndefined();
    } finally {
      await tc.stop();
    }
  });
});
