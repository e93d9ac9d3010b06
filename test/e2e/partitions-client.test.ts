// Partitioned tables through the SDK: writers route rows to partitions (creating missing ones),
// scans read only matching partitions and pick up new ones while following, lookups and upserts
// of a partitioned primary-key table, and a writer that may not create partitions gets a typed error.

import { Errors, ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("partitioned tables through the SDK", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("routes rows to partitions and prunes scans by partition", async () => {
    await tc.conn.admin.createTable("fluss.events", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL, region STRING NOT NULL, v INT",
      partitionKeys: ["dt", "region"],
      buckets: 2,
    });
    const t = await tc.conn.getTable("fluss.events");
    const w = t.newAppendWriter({ lingerMs: 1 });
    const days = ["20261124", "20261125", "20261126"];
    const regions = ["EU", "US"];
    let id = 0n;
    for (const dt of days)
      for (const region of regions)
        for (let i = 0; i < 10; i++) await w.append({ id: id++, dt, region, v: i });
    await w.close();
    const parts = await tc.conn.admin.listPartitions("fluss.events");
    expect(parts.map((p) => p.name)).toEqual([
      "20261124$EU",
      "20261124$US",
      "20261125$EU",
      "20261125$US",
      "20261126$EU",
      "20261126$US",
    ]);
    const read = async (partitions?: string | Record<string, string>) => {
      const rows: Array<Record<string, unknown>> = [];
      for await (const r of t.newLogScanner({ untilLatest: true, ...(partitions ? { partitions } : {}) })) {
        expect(r.partition).toBe(`${r.row.dt}$${r.row.region}`);
        rows.push(r.row);
      }
      return rows;
    };
    expect((await read()).length).toBe(60);
    const one = await read({ dt: "20261126", region: "EU" });
    expect(one.length).toBe(10);
    expect(one.every((r) => r.dt === "20261126" && r.region === "EU")).toBe(true);
    const ranged = await read("dt >= '20261125' AND region = 'US'");
    expect(ranged.length).toBe(20);
    expect(new Set(ranged.map((r) => r.dt))).toEqual(new Set(["20261125", "20261126"]));
    expect(() => t.newLogScanner({ partitions: "v > 3" })).toThrow(/partition keys/);
  });

  it("picks up a new matching partition while following", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const controller = new AbortController();
    const scanner = t.newLogScanner({
      from: "latest",
      partitions: "region = 'EU'",
      signal: controller.signal,
      discoverPartitionsMs: 100,
    });
    const it = scanner[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setTimeout(r, 300));
    const w = t.newAppendWriter({ lingerMs: 0 });
    await w.append({ id: 1000n, dt: "20261127", region: "US", v: 1 });
    await w.append({ id: 1001n, dt: "20261127", region: "EU", v: 2 });
    await w.close();
    const rec = await first;
    expect(rec.value?.row).toMatchObject({ id: 1001n, dt: "20261127", region: "EU" });
    controller.abort();
  });

  it("refuses a missing partition when the writer may not create one", async () => {
    const t = await tc.conn.getTable("fluss.events");
    const w = t.newAppendWriter({ createMissingPartitions: false });
    await expect(w.append({ id: 1n, dt: "20300101", region: "EU", v: 1 })).rejects.toMatchObject({
      code: Errors.PARTITION_NOT_EXISTS.code,
    });
    await expect(w.append({ id: 1n, dt: "bad/value", region: "EU", v: 1 })).rejects.toMatchObject({
      code: Errors.PARTITION_SPEC_INVALID_EXCEPTION.code,
    });
    await w.close();
  });

  it("upserts and looks up a partitioned primary-key table", async () => {
    await tc.conn.admin.createTable("fluss.kvp", {
      schema:
        "dt STRING NOT NULL, user BIGINT NOT NULL, item BIGINT NOT NULL, n INT, PRIMARY KEY (dt, user, item)",
      partitionKeys: ["dt"],
      bucketKeys: ["user"],
      buckets: 2,
    });
    const t = await tc.conn.getTable("fluss.kvp");
    const w = t.newUpsertWriter();
    for (const dt of ["20261125", "20261126"])
      for (let u = 0n; u < 3n; u++)
        for (let i = 0n; i < 2n; i++) await w.upsert({ dt, user: u, item: i, n: 1 });
    await w.upsert({ dt: "20261126", user: 1n, item: 1n, n: 5 });
    await w.close();
    const l = t.newLookuper();
    expect(await l.lookup({ dt: "20261126", user: 1n, item: 1n })).toEqual({
      dt: "20261126",
      user: 1n,
      item: 1n,
      n: 5,
    });
    expect(await l.lookup({ dt: "20261125", user: 1n, item: 1n })).toEqual({
      dt: "20261125",
      user: 1n,
      item: 1n,
      n: 1,
    });
    expect(await l.lookup({ dt: "20990101", user: 1n, item: 1n })).toBeNull();
    const p = t.newPrefixLookuper(["dt", "user"]);
    expect((await p.lookup({ dt: "20261126", user: 2n })).map((r) => r.item).sort()).toEqual([0n, 1n]);
  });

  it("creates and expires automatic partitions as time moves", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
    const c2 = await startCluster({}, undefined, clock);
    try {
      await c2.conn.admin.createTable("fluss.auto", {
        schema: "id BIGINT, dt STRING NOT NULL",
        partitionKeys: ["dt"],
        options: {
          "table.auto-partition.enabled": "true",
          "table.auto-partition.time-unit": "DAY",
          "table.auto-partition.num-precreate": "2",
          "table.auto-partition.num-retention": "1",
          "table.auto-partition.time-zone": "UTC",
        },
      });
      const names = async () => (await c2.conn.admin.listPartitions("fluss.auto")).map((p) => p.name);
      expect(await names()).toEqual(["20261126", "20261127"]);
      clock.advance(3 * 86_400_000);
      await c2.cluster.coordinator.coordinator.autoPartitions.runOnce();
      // 26 and 27 expired (retention 1 keeps 28 onwards); 28 was never created, no backfill.
      expect(await names()).toEqual(["20261129", "20261130"]);
    } finally {
      await c2.stop();
    }
  });
});

describe("snapshot scans of a partitioned primary-key table", () => {
  it("scans one partition's current rows", async () => {
    const tc = await startCluster();
    try {
      await tc.conn.admin.createTable("fluss.kvs", {
        schema: "dt STRING NOT NULL, k INT NOT NULL, v STRING, PRIMARY KEY (dt, k)",
        partitionKeys: ["dt"],
        buckets: 2,
      });
      const t = await tc.conn.getTable("fluss.kvs");
      const w = t.newUpsertWriter();
      for (const dt of ["a", "b"]) for (let k = 0; k < 20; k++) await w.upsert({ dt, k, v: `${dt}${k}` });
      await w.delete({ dt: "b", k: 3 });
      await w.close();
      const rows: Array<Record<string, unknown>> = [];
      for await (const r of t.newSnapshotScanner({ partitions: { dt: "b" } })) rows.push(r);
      expect(rows.length).toBe(19);
      expect(rows.every((r) => r.dt === "b")).toBe(true);
      // The deprecated single-partition name still works.
      const old: Array<Record<string, unknown>> = [];
      for await (const r of t.newSnapshotScanner({ partition: { dt: "a" } })) old.push(r);
      expect(old.length).toBe(20);
      // No partitions named: every partition; a predicate over partition keys works too.
      const all: Array<Record<string, unknown>> = [];
      for await (const r of t.newSnapshotScanner()) all.push(r);
      expect(all.length).toBe(39);
      const some: Array<Record<string, unknown>> = [];
      for await (const r of t.newSnapshotScanner({ partitions: "dt > 'a'" })) some.push(r);
      expect(some.length).toBe(19);
    } finally {
      await tc.stop();
    }
  });
});
