// The MetadataStore contract (metadata-store.ts), as tests any implementation must pass: each
// mutation is visible once it resolved and survives a reopen; a refused one changed nothing; reads
// see exactly what was written (descriptor texts byte for byte); drops forget everything under
// them, so a re-created name starts clean; counters start at 1 and concurrent reservations get
// disjoint ranges; tables too large for one ZooKeeper request are still created and dropped whole.
// Run by local-metadata-store.test.ts and zookeeper-metadata-store.test.ts.

import { descriptorToJson, Errors, type FlussError, isFlussError, schemaToJson } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  BucketAssignment,
  BucketLeader,
  LeaderAndIsr,
  MetadataStore,
  PartitionRegistration,
  TableRegistration,
} from "../../src/metadata/metadata-store.ts";
import { descriptor } from "../helpers.ts";

export interface StoreHarness {
  /** A fresh, empty, opened store. */
  create(): Promise<MetadataStore>;
  /** Close `store` and open a new instance over the same durable state. */
  reopen(store: MetadataStore): Promise<MetadataStore>;
  /** Release everything (after all tests). */
  cleanup(): Promise<void>;
}

export async function refusal(p: Promise<unknown>): Promise<FlussError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isFlussError(err)) throw new Error(`expected a FlussError, got ${String(err)}`);
  return err;
}

const lai = (leader: number, leaderEpoch = 0, isr = [leader]): LeaderAndIsr => ({
  leader,
  leaderEpoch,
  isr,
  coordinatorEpoch: 0,
  bucketEpoch: 0,
});

/** A registration the way the coordinator builds one, with its schema JSON. */
export function tableOf(
  database: string,
  table: string,
  tableId: bigint,
  buckets: number,
  opts: { partitionKeys?: string[]; descriptorJson?: string } = {},
): { reg: TableRegistration; schemaJson: string; assignment: BucketAssignment[]; leaders: BucketLeader[] } {
  const d = descriptor(opts.partitionKeys ? "id BIGINT, dt STRING NOT NULL" : "id BIGINT, v STRING", {
    ...(opts.partitionKeys ? { partitionKeys: opts.partitionKeys } : {}),
    buckets,
  });
  const reg: TableRegistration = {
    database,
    table,
    tableId,
    schemaId: 1,
    descriptorJson: opts.descriptorJson ?? JSON.stringify(descriptorToJson(d)),
    bucketCount: buckets,
    createdTime: 1_700_000_000_000,
    modifiedTime: 1_700_000_000_001,
  };
  const partitioned = (opts.partitionKeys ?? []).length > 0;
  const assignment = partitioned
    ? []
    : Array.from({ length: buckets }, (_, b) => ({ bucket: b, replicas: [b % 3, (b + 1) % 3] }));
  const leaders = assignment.map((a) => [a.bucket, lai(a.replicas[0]!)] as const);
  return { reg, schemaJson: JSON.stringify(schemaToJson(d.schema)), assignment, leaders };
}

function partitionOf(tableId: bigint, partitionId: bigint, name: string, buckets: number) {
  const p: PartitionRegistration = { tableId, partitionId, name, createdTime: 1_700_000_000_500 };
  const assignment = Array.from({ length: buckets }, (_, b) => ({ bucket: b, replicas: [b % 2] }));
  const leaders = assignment.map((a) => [a.bucket, lai(a.replicas[0]!, 3)] as const);
  return { p, assignment, leaders };
}

const db = (name: string, descriptorJson = '{"version":1,"custom_properties":{}}') => ({
  name,
  createdTime: 5,
  modifiedTime: 6,
  descriptorJson,
});

export function metadataStoreContract(name: string, harness: () => StoreHarness | null): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let h: StoreHarness | null = null;
    beforeAll(() => {
      h = harness();
    });
    afterAll(async () => {
      await h?.cleanup();
    });
    const fresh = (): Promise<MetadataStore> => h!.create();

    it("databases: create, read back exactly, refuse a duplicate, drop, survive a reopen", async () => {
      let s = await fresh();
      await s.putDatabase(db("a"));
      await s.putDatabase(db("b", '{"version":1,"comment":"hi","custom_properties":{"k":"v"}}'));
      await s.putDatabase(db("c", "{}")); // not Fluss's shape: kept as given
      expect((await refusal(s.putDatabase(db("a", "{}")))).code).toBe(Errors.DATABASE_ALREADY_EXIST.code);
      expect(await s.getDatabase("a")).toEqual(db("a"));
      s = await h!.reopen(s);
      expect((await s.listDatabases()).map((d) => d.name).sort()).toEqual(["a", "b", "c"]);
      expect(await s.getDatabase("b")).toEqual(
        db("b", '{"version":1,"comment":"hi","custom_properties":{"k":"v"}}'),
      );
      expect(await s.getDatabase("c")).toEqual(db("c", "{}"));
      await s.deleteDatabase("a");
      await s.deleteDatabase("nope"); // absent: nothing
      expect(await s.getDatabase("a")).toBeUndefined();
      s = await h!.reopen(s);
      expect((await s.listDatabases()).map((d) => d.name).sort()).toEqual(["b", "c"]);
      await s.close();
    });

    it("tables: stored whole with schema, assignment and leaders; refusals change nothing", async () => {
      let s = await fresh();
      const t = tableOf("db", "t", 7n, 3);
      expect((await refusal(s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders))).code).toBe(
        Errors.DATABASE_NOT_EXIST.code,
      );
      expect(await s.getTableById(7n)).toBeUndefined();
      await s.putDatabase(db("db"));
      await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
      const again = tableOf("db", "t", 8n, 1);
      expect(
        (await refusal(s.putTable(again.reg, again.schemaJson, again.assignment, again.leaders))).code,
      ).toBe(Errors.TABLE_ALREADY_EXIST.code);
      expect(await s.getTableById(8n)).toBeUndefined();
      const odd = tableOf("db", "odd", 9n, 1, { descriptorJson: '{"anything":[1,2]}' });
      await s.putTable(odd.reg, odd.schemaJson, odd.assignment, odd.leaders);
      s = await h!.reopen(s);
      expect(await s.getTable("db", "t")).toEqual(t.reg);
      expect(await s.getTableById(7n)).toEqual(t.reg);
      expect(await s.getTable("db", "odd")).toEqual(odd.reg);
      expect((await s.listTables("db")).map((r) => r.table).sort()).toEqual(["odd", "t"]);
      expect(await s.listTables("nope")).toEqual([]);
      expect(await s.getSchema(7n, 1)).toBe(t.schemaJson);
      expect(await s.getSchema(7n, 2)).toBeUndefined();
      expect(await s.getAssignment(7n, null)).toEqual(t.assignment);
      for (const [bucket, l] of t.leaders) {
        expect(await s.getLeaderAndIsr({ tableId: 7n, partitionId: null, bucket })).toEqual(l);
      }
      expect(await s.getLeaderAndIsr({ tableId: 7n, partitionId: null, bucket: 3 })).toBeUndefined();
      expect((await refusal(s.deleteDatabase("db"))).code).toBe(Errors.DATABASE_NOT_EMPTY.code);
      expect(await s.getDatabase("db")).toBeDefined();
      await s.close();
    });

    it("drops forget everything under a table, and a re-created name starts clean", async () => {
      let s = await fresh();
      await s.putDatabase(db("db"));
      const t = tableOf("db", "p", 11n, 0, { partitionKeys: ["dt"] });
      await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
      const p1 = partitionOf(11n, 21n, "2026", 2);
      await s.putPartition(p1.p, p1.assignment, p1.leaders);
      await s.nextId("auto-increment/11/id", 10);
      await s.deleteTable("db", "p");
      await s.deleteTable("db", "p"); // absent: nothing
      for (const reopened of [false, true]) {
        if (reopened) s = await h!.reopen(s);
        const store = s;
        expect(await store.getTable("db", "p")).toBeUndefined();
        expect(await store.getTableById(11n)).toBeUndefined();
        expect(await store.getSchema(11n, 1)).toBeUndefined();
        expect(await store.getAssignment(11n, null)).toBeUndefined();
        expect(await store.getAssignment(11n, 21n)).toBeUndefined();
        expect(await store.listPartitions(11n)).toEqual([]);
        expect(await store.getPartition(21n)).toBeUndefined();
        expect(await store.getLeaderAndIsr({ tableId: 11n, partitionId: 21n, bucket: 0 })).toBeUndefined();
        expect(await store.listTables("db")).toEqual([]);
      }
      expect((await refusal(s.nextId("auto-increment/11/id"))).code).toBe(Errors.TABLE_NOT_EXIST.code);
      const again = tableOf("db", "p", 12n, 0, { partitionKeys: ["dt"] });
      await s.putTable(again.reg, again.schemaJson, again.assignment, again.leaders);
      expect(await s.listPartitions(12n)).toEqual([]);
      expect(await s.getTable("db", "p")).toEqual(again.reg);
      expect(await s.nextId("auto-increment/12/id")).toBe(1n);
      await s.deleteTable("db", "p");
      await s.deleteDatabase("db");
      expect(await s.listDatabases()).toEqual([]);
      await s.close();
    });

    it("partitions: created with assignment and leaders, refused when taken or orphaned, dropped alone", async () => {
      let s = await fresh();
      await s.putDatabase(db("db"));
      const lone = partitionOf(99n, 31n, "x", 1);
      expect((await refusal(s.putPartition(lone.p, lone.assignment, lone.leaders))).code).toBe(
        Errors.TABLE_NOT_EXIST.code,
      );
      const t = tableOf("db", "p", 30n, 0, { partitionKeys: ["dt"] });
      await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
      const a = partitionOf(30n, 31n, "2026-01", 2);
      const b = partitionOf(30n, 32n, "2026-02", 3);
      await s.putPartition(b.p, b.assignment, b.leaders);
      await s.putPartition(a.p, a.assignment, a.leaders);
      const sameName = partitionOf(30n, 33n, "2026-01", 1);
      const sameId = partitionOf(30n, 31n, "2026-03", 1);
      for (const dup of [sameName, sameId]) {
        expect((await refusal(s.putPartition(dup.p, dup.assignment, dup.leaders))).code).toBe(
          Errors.PARTITION_ALREADY_EXISTS.code,
        );
      }
      expect(await s.getPartition(33n)).toBeUndefined();
      s = await h!.reopen(s);
      expect(await s.listPartitions(30n)).toEqual([a.p, b.p]); // by partition id
      expect(await s.getPartition(32n)).toEqual(b.p);
      expect(await s.getAssignment(30n, 31n)).toEqual(a.assignment);
      expect(await s.getAssignment(30n, 32n)).toEqual(b.assignment);
      expect(await s.getAssignment(99n, 32n)).toBeUndefined(); // another table's id
      expect(await s.getLeaderAndIsr({ tableId: 30n, partitionId: 32n, bucket: 2 })).toEqual(
        b.leaders[2]![1],
      );
      await s.deletePartition(30n, 31n);
      await s.deletePartition(30n, 31n); // absent: nothing
      expect(await s.listPartitions(30n)).toEqual([b.p]);
      expect(await s.getPartition(31n)).toBeUndefined();
      expect(await s.getLeaderAndIsr({ tableId: 30n, partitionId: 31n, bucket: 0 })).toBeUndefined();
      const back = partitionOf(30n, 34n, "2026-01", 1); // the name is free again
      await s.putPartition(back.p, back.assignment, back.leaders);
      expect((await s.listPartitions(30n)).map((p) => p.name)).toEqual(["2026-02", "2026-01"]);
      await s.close();
    });

    it("leadership: many buckets in one write, over tables and partitions; unknown owners refused", async () => {
      let s = await fresh();
      await s.putDatabase(db("db"));
      const t = tableOf("db", "t", 40n, 4);
      const pt = tableOf("db", "p", 41n, 0, { partitionKeys: ["dt"] });
      await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
      await s.putTable(pt.reg, pt.schemaJson, pt.assignment, pt.leaders);
      const part = partitionOf(41n, 42n, "x", 2);
      await s.putPartition(part.p, part.assignment, part.leaders);
      await s.putLeaderAndIsr([
        [{ tableId: 40n, partitionId: null, bucket: 0 }, lai(2, 1, [2, 1])],
        [{ tableId: 40n, partitionId: null, bucket: 3 }, lai(1, 5, [1])],
        [{ tableId: 41n, partitionId: 42n, bucket: 1 }, lai(0, 7, [0, 1])],
        [{ tableId: 41n, partitionId: 42n, bucket: 5 }, lai(4, 0, [4])], // a bucket without a record yet
      ]);
      for (const bad of [
        { tableId: 77n, partitionId: null, bucket: 0 },
        { tableId: 41n, partitionId: 77n, bucket: 0 },
      ]) {
        const err = await refusal(
          s.putLeaderAndIsr([
            [{ tableId: 40n, partitionId: null, bucket: 1 }, lai(9, 9)],
            [bad, lai(1)],
          ]),
        );
        expect([Errors.TABLE_NOT_EXIST.code, Errors.PARTITION_NOT_EXISTS.code]).toContain(err.code);
      }
      s = await h!.reopen(s);
      expect(await s.getLeaderAndIsr({ tableId: 40n, partitionId: null, bucket: 0 })).toEqual(
        lai(2, 1, [2, 1]),
      );
      expect(await s.getLeaderAndIsr({ tableId: 40n, partitionId: null, bucket: 1 })).toEqual(
        t.leaders[1]![1],
      );
      expect(await s.getLeaderAndIsr({ tableId: 40n, partitionId: null, bucket: 3 })).toEqual(lai(1, 5, [1]));
      expect(await s.getLeaderAndIsr({ tableId: 41n, partitionId: 42n, bucket: 1 })).toEqual(
        lai(0, 7, [0, 1]),
      );
      expect(await s.getLeaderAndIsr({ tableId: 41n, partitionId: 42n, bucket: 5 })).toEqual(lai(4, 0, [4]));
      await s.close();
    });

    it("counters: start at 1, never go back, concurrent reservations are disjoint", async () => {
      let s = await fresh();
      expect(await s.nextId("table")).toBe(1n);
      expect(await s.nextId("table", 5)).toBe(2n);
      expect(await s.nextId("writer")).toBe(1n);
      expect(await s.nextId("some/other counter")).toBe(1n);
      const counts = Array.from({ length: 24 }, (_, i) => 1 + (i % 5));
      const firsts = await Promise.all(counts.map((c) => s.nextId("partition", c)));
      const ranges = firsts
        .map((f, i) => [f, f + BigInt(counts[i]!)] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
      expect(ranges[0]![0]).toBe(1n);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
      const end = ranges.at(-1)![1];
      s = await h!.reopen(s);
      expect(await s.nextId("partition")).toBe(end);
      expect(await s.nextId("table")).toBe(7n);
      expect(await s.nextId("some/other counter")).toBe(2n);
      await s.close();
    });

    it("a table with more buckets than one ZooKeeper request holds is created and dropped whole", async () => {
      let s = await fresh();
      await s.putDatabase(db("db"));
      const t = tableOf("db", "big", 50n, 4000);
      await s.putTable(t.reg, t.schemaJson, t.assignment, t.leaders);
      s = await h!.reopen(s);
      expect(await s.getAssignment(50n, null)).toEqual(t.assignment);
      expect(await s.getLeaderAndIsr({ tableId: 50n, partitionId: null, bucket: 3999 })).toEqual(
        t.leaders[3999]![1],
      );
      const moved = t.assignment.map(
        (a) => [{ tableId: 50n, partitionId: null, bucket: a.bucket }, lai(2, 1)] as const,
      );
      await s.putLeaderAndIsr(moved);
      expect(await s.getLeaderAndIsr({ tableId: 50n, partitionId: null, bucket: 2500 })).toEqual(lai(2, 1));
      await s.deleteTable("db", "big");
      expect(await s.getTableById(50n)).toBeUndefined();
      expect(await s.getLeaderAndIsr({ tableId: 50n, partitionId: null, bucket: 0 })).toBeUndefined();
      await s.close();
    }, 120_000);
  });
}
