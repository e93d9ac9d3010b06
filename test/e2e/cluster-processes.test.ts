// A cluster of separate processes — `fluss coordinator` and three `fluss tablet-server`s, each with
// its own data directory, the tablet servers given the coordinator's address (no ZooKeeper) — serves
// through one code path of RPC: tables whose buckets spread over the three servers, writes, scans
// and lookups across them (auto-increment ids come from the coordinator while a server opens a
// replica), metadata answered by a tablet server too. A tablet server killed with -9 and started
// again is told its replicas again and serves every acknowledged row; a coordinator stopped and
// started again is rejoined by the running tablet servers (their heartbeats register them with the
// new run) and fences the old run with a higher coordinator epoch.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { Errors, isFlussError } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RoleProcess,
  startCoordinatorProcess,
  startTabletServerProcess,
} from "../helpers/cluster-processes.ts";

const ROWS = 600;

async function scanIds(conn: FlussConnection, table: string): Promise<bigint[]> {
  const t = await conn.getTable(table);
  const ids: bigint[] = [];
  for await (const r of t.newLogScanner({ untilLatest: true })) ids.push(r.row.id as bigint);
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function metadata(address: string, tables: string[]) {
  const [host, port] = address.split(":");
  const c = await RpcConnection.connect({ host: host!, port: Number(port) });
  try {
    return await c.request(ApiKeys.GET_METADATA, {
      tablePath: tables.map((t) => ({ databaseName: "fluss", tableName: t })),
    });
  } finally {
    await c.close();
  }
}

describe("a cluster of separate processes", () => {
  let dir: string;
  let coordinator: RoleProcess;
  const servers: RoleProcess[] = [];
  let conn: FlussConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-processes-"));
    coordinator = await startCoordinatorProcess(join(dir, "coordinator"));
    for (let id = 0; id < 3; id++)
      servers.push(await startTabletServerProcess(id, join(dir, `ts-${id}`), coordinator.address));
    conn = await connect({ bootstrap: coordinator.address });
  }, 120_000);

  afterAll(async () => {
    await conn?.close();
    for (const s of servers) await s.kill("SIGTERM");
    await coordinator?.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("creates tables over the three servers and writes, scans and looks them up", async () => {
    await conn.admin.createTable("fluss.events", { schema: "id BIGINT NOT NULL, v STRING", buckets: 6 });
    await conn.admin.createTable("fluss.users", {
      schema: "email STRING NOT NULL, uid BIGINT, name STRING, PRIMARY KEY (email)",
      buckets: 3,
      options: { "auto-increment.fields": "uid" },
    });
    const md = await metadata(coordinator.address, ["events", "users"]);
    const leaders = new Set(md.tableMetadata.flatMap((t) => t.bucketMetadata.map((b) => b.leaderId)));
    expect([...leaders].sort()).toEqual([0, 1, 2]);
    expect(md.tabletServers.map((s) => s.nodeId).sort()).toEqual([0, 1, 2]);

    const events = (await conn.getTable("fluss.events")).newAppendWriter();
    for (let i = 0; i < ROWS; i++) await events.append({ id: BigInt(i), v: `v${i}` });
    await events.close();
    const users = (await conn.getTable("fluss.users")).newUpsertWriter({ targetColumns: ["email", "name"] });
    for (let i = 0; i < 30; i++) await users.upsert({ email: `u${i}@x`, name: `n${i}` });
    await users.close();

    expect(await scanIds(conn, "fluss.events")).toEqual(Array.from({ length: ROWS }, (_, i) => BigInt(i)));
    const l = (await conn.getTable("fluss.users")).newLookuper();
    const rows = await Promise.all(Array.from({ length: 30 }, (_, i) => l.lookup({ email: `u${i}@x` })));
    expect(rows.map((r) => r?.name)).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`));
    expect(new Set(rows.map((r) => r?.uid)).size).toBe(30);
  });

  it("answers metadata and admin reads at a tablet server too", async () => {
    const md = await metadata(servers[1]!.address, ["events"]);
    expect(md.tableMetadata[0]!.bucketMetadata).toHaveLength(6);
    const viaTablet = await connect({ bootstrap: servers[2]!.address });
    try {
      expect(await viaTablet.admin.listTables("fluss")).toEqual(["events", "users"]);
      expect(await scanIds(viaTablet, "fluss.events")).toHaveLength(ROWS);
    } finally {
      await viaTablet.close();
    }
  });

  it("a tablet server killed with -9 and started again serves every acknowledged row", async () => {
    await servers[1]!.kill("SIGKILL");
    servers[1] = await startTabletServerProcess(1, join(dir, "ts-1"), coordinator.address);
    const fresh = await connect({ bootstrap: coordinator.address });
    try {
      expect(await scanIds(fresh, "fluss.events")).toEqual(Array.from({ length: ROWS }, (_, i) => BigInt(i)));
      const l = (await fresh.getTable("fluss.users")).newLookuper();
      for (let i = 0; i < 30; i++) expect((await l.lookup({ email: `u${i}@x` }))?.name).toBe(`n${i}`);
    } finally {
      await fresh.close();
    }
  });

  it("a restarted coordinator is rejoined by the running tablet servers and fences its previous run", async () => {
    const port = Number(coordinator.address.split(":")[1]);
    const before = await metadata(coordinator.address, []);
    await coordinator.kill("SIGTERM");
    coordinator = await startCoordinatorProcess(join(dir, "coordinator"), port);
    const fresh = await connect({ bootstrap: coordinator.address });
    try {
      // Heartbeats (every 3 s) register the servers with the new run.
      for (let i = 0; i < 100; i++) {
        const md = await metadata(coordinator.address, []);
        if (md.tabletServers.length === 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await metadata(coordinator.address, [])).tabletServers.map((s) => s.nodeId).sort()).toEqual([
        0, 1, 2,
      ]);
      expect(before.tabletServers).toHaveLength(3);
      // The first run was epoch 1 (a fresh store), this one 2: a request of the first is refused.
      const [host, tsPort] = servers[0]!.address.split(":");
      const ts = await RpcConnection.connect({ host: host!, port: Number(tsPort) });
      const stale = await ts
        .request(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 1, notifyBucketsLeaderReq: [] })
        .then(
          () => null,
          (e: unknown) => e,
        );
      await ts.close();
      expect(isFlussError(stale) && stale.code).toBe(Errors.INVALID_COORDINATOR_EXCEPTION.code);
      await fresh.admin.createTable("fluss.after", { schema: "id BIGINT NOT NULL", buckets: 3 });
      const w = (await fresh.getTable("fluss.after")).newAppendWriter();
      for (let i = 0; i < 10; i++) await w.append({ id: BigInt(i) });
      await w.close();
      expect(await scanIds(fresh, "fluss.after")).toHaveLength(10);
      expect(await scanIds(fresh, "fluss.events")).toHaveLength(ROWS);
    } finally {
      await fresh.close();
    }
  });
});
