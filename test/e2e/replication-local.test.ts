// Replication in one process (`fluss local --tablet-servers 3`, the same RPC path as separate
// processes): a table with table.replication.factor 3 has every bucket on three servers; acks=all
// writes are acknowledged once the in-sync replicas have them, and the replicas hold identical log
// bytes below the high watermark; a leader that stops (controlled shutdown) hands leadership to an
// in-sync follower first, and the writer carries on without an error, nothing lost or duplicated;
// a primary-key table's new leader rebuilds its state from the replicated changelog and its lookups
// return exactly the acknowledged upserts.

import type { Table } from "@fluss-ts/client";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const OPTIONS = {
  "tablet-server.count": "3",
  "tablet-server.heartbeat-interval": "500 ms",
  "tablet-server.session-timeout": "3 s",
};

async function until<T>(
  what: string,
  f: () => Promise<T | null | false> | T | null | false,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LeaderAndIsr {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
}

function record(tc: TestCluster, tableId: bigint, bucket: number): Promise<LeaderAndIsr | undefined> {
  return tc.cluster.coordinator.coordinator.bucketStates(tableId, null).then((s) => s.leaders.get(bucket));
}

/** Each live server's log bytes of a bucket below `end`. */
async function replicaBytes(
  tc: TestCluster,
  tableId: bigint,
  bucket: number,
  end: bigint,
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const ts of tc.cluster.tabletServers) {
    const r = ts.replicas.peek({ tableId, partitionId: null, bucket });
    if (!r || r.log.logEndOffset < end) continue;
    const read = await r.log.read(0n, 256 * 1024 * 1024, end);
    out.push(Buffer.from(read.records));
  }
  return out;
}

async function scanIds(table: Table): Promise<bigint[]> {
  const ids: bigint[] = [];
  for await (const r of table.newLogScanner({ untilLatest: true })) ids.push(r.row.id as bigint);
  return ids;
}

describe("replication in a local cluster of three tablet servers", () => {
  let tc: TestCluster | undefined;
  afterEach(async () => {
    await tc?.stop();
    tc = undefined;
  });

  it("RF 3: acks=all rows reach every in-sync replica; replicas hold identical bytes below the high watermark", async () => {
    tc = await startCluster(OPTIONS);
    await tc.conn.admin.createTable("fluss.events", {
      schema: "id BIGINT NOT NULL, v STRING",
      buckets: 3,
      options: { "table.replication.factor": "3" },
    });
    const table = await tc.conn.getTable("fluss.events");
    const w = table.newAppendWriter();
    for (let i = 0; i < 3000; i++) await w.append({ id: BigInt(i), v: `value-${i}` });
    await w.close();
    const tableId = table.info.tableId;
    let total = 0;
    for (let b = 0; b < 3; b++) {
      const lai = await record(tc, tableId, b);
      expect([...(lai?.isr ?? [])].sort()).toEqual([0, 1, 2]);
      const leader = tc.cluster.tabletServers[lai!.leader]!.replicas.peek({
        tableId,
        partitionId: null,
        bucket: b,
      })!;
      const hw = leader.highWatermark;
      expect(hw).toBe(leader.log.logEndOffset);
      const copies = await until("three full copies", async () => {
        const c = await replicaBytes(tc!, tableId, b, hw);
        return c.length === 3 ? c : null;
      });
      total += Number(hw);
      expect(copies[1]!.equals(copies[0]!)).toBe(true);
      expect(copies[2]!.equals(copies[0]!)).toBe(true);
    }
    expect(total).toBe(3000); // every row is in some bucket's compared bytes
    const ids = await scanIds(table);
    expect(ids).toHaveLength(3000);
    expect(new Set(ids).size).toBe(3000);
  });

  it("partitioned RF 3 tables replicate each partition's buckets; dropping one deletes every replica", async () => {
    tc = await startCluster(OPTIONS);
    await tc.conn.admin.createTable("fluss.daily", {
      schema: "id BIGINT NOT NULL, dt STRING NOT NULL",
      partitionKeys: ["dt"],
      buckets: 2,
      options: { "table.replication.factor": "3" },
    });
    const table = await tc.conn.getTable("fluss.daily");
    const w = table.newAppendWriter();
    for (let i = 0; i < 600; i++)
      await w.append({ id: BigInt(i), dt: i % 2 === 0 ? "2024-01-01" : "2024-01-02" });
    await w.close();
    const partitions = await tc.conn.admin.listPartitions("fluss.daily");
    expect(partitions).toHaveLength(2);
    for (const p of partitions) {
      for (let b = 0; b < 2; b++) {
        const id = { tableId: table.info.tableId, partitionId: p.partitionId, bucket: b };
        const ends = await until("three copies", () => {
          const e = tc!.cluster.tabletServers.map((ts) => ts.replicas.peek(id)?.log.logEndOffset ?? -1n);
          return e.every((x) => x === e[0]) ? e : null;
        });
        expect(ends).toHaveLength(3);
      }
    }
    expect(await scanIds(table)).toHaveLength(600);
    await tc.conn.admin.dropTable("fluss.daily");
    for (const ts of tc.cluster.tabletServers) expect([...ts.replicas.all()]).toHaveLength(0);
  });

  it("a leader that stops hands over first: the writer carries on with no error, nothing lost or duplicated", async () => {
    tc = await startCluster(OPTIONS);
    await tc.conn.admin.createTable("fluss.moves", {
      schema: "id BIGINT NOT NULL",
      buckets: 1,
      options: { "table.replication.factor": "3" },
    });
    const table = await tc.conn.getTable("fluss.moves");
    const tableId = table.info.tableId;
    const before = (await record(tc, tableId, 0))!;
    const w = table.newAppendWriter();
    let written = 0;
    const writing = (async () => {
      for (; written < 4000; written++) {
        await w.append({ id: BigInt(written) });
        if (written % 200 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await w.flush();
    })();
    await until("some rows written", () => written > 1000);
    await tc.cluster.tabletServers[before.leader]!.stop();
    const after = (await record(tc, tableId, 0))!;
    expect(after.leader).not.toBe(before.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    await writing;
    await w.close();
    const ids = await scanIds(table);
    expect(ids).toHaveLength(4000);
    expect(new Set(ids).size).toBe(4000);
  });

  it("a primary-key table's new leader serves exactly the acknowledged upserts", async () => {
    tc = await startCluster(OPTIONS);
    await tc.conn.admin.createTable("fluss.users", {
      schema: "id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)",
      buckets: 2,
      options: { "table.replication.factor": "3" },
    });
    const table = await tc.conn.getTable("fluss.users");
    const u = table.newUpsertWriter();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 500; i++) await u.upsert({ id: BigInt(i), name: `n${i}-r${round}` });
    }
    for (let i = 0; i < 500; i += 5) await u.delete({ id: BigInt(i) });
    await u.flush();
    const before = (await record(tc, table.info.tableId, 0))!;
    await tc.cluster.tabletServers[before.leader]!.stop();
    const lookuper = table.newLookuper();
    for (let i = 0; i < 500; i++) {
      const row = await lookuper.lookup({ id: BigInt(i) });
      if (i % 5 === 0) expect(row).toBeNull();
      else expect(row?.name).toBe(`n${i}-r2`);
    }
    await u.upsert({ id: 1n, name: "after" });
    await u.close();
    expect((await lookuper.lookup({ id: 1n }))?.name).toBe("after");
  });

  it("a new primary-key leader whose high watermark lagged still serves every committed upsert", async () => {
    tc = await startCluster(OPTIONS);
    await tc.conn.admin.createTable("fluss.lagging", {
      schema: "id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)",
      buckets: 1,
      options: { "table.replication.factor": "3" },
    });
    const table = await tc.conn.getTable("fluss.lagging");
    const u = table.newUpsertWriter();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3000; i++)
        await u.upsert({ id: BigInt(i), name: `v${i}-${round}-${"x".repeat(100)}` });
    }
    await u.flush();
    const tableId = table.info.tableId;
    const before = (await record(tc, tableId, 0))!;
    // The followers have every record but (as after a restart) a high watermark far behind: the
    // new leader recovers its state from a changelog it must stage, then commit as its high
    // watermark catches up.
    for (const ts of tc.cluster.tabletServers) {
      if (ts.node.id !== before.leader)
        ts.replicas.peek({ tableId, partitionId: null, bucket: 0 })!.log.updateHighWatermark(0n);
    }
    await tc.cluster.tabletServers[before.leader]!.stop();
    const lookuper = table.newLookuper();
    const names = await Promise.all(
      Array.from({ length: 3000 }, (_, i) => lookuper.lookup({ id: BigInt(i) }).then((r) => r?.name)),
    );
    expect(names.filter((n, i) => n !== `v${i}-9-${"x".repeat(100)}`)).toEqual([]);
    await u.close();
  });
});
