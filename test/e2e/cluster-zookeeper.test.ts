// A cluster on a real ZooKeeper (Debian's `zookeeper`, started by the test; skipped with a message
// when it is not installed, unless FLUSS_REQUIRE_ZOOKEEPER=1): two coordinators standing for
// election and three tablet servers registered in ZooKeeper, all separate processes. Tables live in
// ZooKeeper; the active coordinator serves them through the same RPC as `fluss local`. When the
// active coordinator is killed with -9, the standby is elected once the old session expires,
// rebuilds its view from ZooKeeper and the registry (every live tablet server is told its replicas
// again), and serves every acknowledged row and the tables created before; a tablet server killed
// with -9 and started again registers anew and serves its data.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RoleProcess,
  startCoordinatorProcess,
  startZkTabletServerProcess,
} from "../helpers/cluster-processes.ts";
import { ZooKeeperServer, zooKeeperSkipReason } from "../helpers/zookeeper.ts";

const skip = zooKeeperSkipReason();
const SESSION = ["-c", "zookeeper.client.session-timeout=2 s"];
const ROWS = 300;

/** GetMetadata of the cluster at `address`, or null while it does not serve (a standby). */
async function servers(address: string): Promise<number[] | null> {
  const [host, port] = address.split(":");
  try {
    const c = await RpcConnection.connect({ host: host!, port: Number(port), connectTimeoutMs: 1000 });
    try {
      const md = await c.request(ApiKeys.GET_METADATA, {}, { timeoutMs: 2000 });
      return md.tabletServers.map((s) => s.nodeId).sort();
    } finally {
      await c.close();
    }
  } catch {
    return null;
  }
}

async function until<T>(what: string, f: () => Promise<T | null | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scanIds(conn: FlussConnection, table: string): Promise<number> {
  const t = await conn.getTable(table);
  let n = 0;
  for await (const _ of t.newLogScanner({ untilLatest: true })) n++;
  return n;
}

describe.skipIf(skip !== null)(`a cluster on ZooKeeper${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let zk: ZooKeeperServer;
  let dir: string;
  const coordinators: RoleProcess[] = [];
  const tablets: RoleProcess[] = [];

  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    dir = await mkdtemp(join(tmpdir(), "fluss-zk-cluster-"));
    const zkArgs = ["--zookeeper-address", zk.address, ...SESSION];
    coordinators.push(await startCoordinatorProcess(join(dir, "c0"), 0, zkArgs));
    await until("the first coordinator to serve", () => servers(coordinators[0]!.address));
    coordinators.push(await startCoordinatorProcess(join(dir, "c1"), 0, zkArgs));
    for (let id = 0; id < 3; id++)
      tablets.push(await startZkTabletServerProcess(id, join(dir, `ts-${id}`), zk.address, SESSION));
    await until("three tablet servers", async () => (await servers(coordinators[0]!.address))?.length === 3);
  }, 120_000);

  afterAll(async () => {
    for (const t of tablets) await t.kill("SIGTERM");
    for (const c of coordinators) await c.kill("SIGTERM");
    await zk?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves tables kept in ZooKeeper; the standby coordinator does not serve", async () => {
    expect(await servers(coordinators[1]!.address)).toBeNull();
    const conn = await connect({ bootstrap: coordinators[0]!.address });
    try {
      await conn.admin.createTable("fluss.events", { schema: "id BIGINT NOT NULL", buckets: 3 });
      const w = (await conn.getTable("fluss.events")).newAppendWriter();
      for (let i = 0; i < ROWS; i++) await w.append({ id: BigInt(i) });
      await w.close();
      expect(await scanIds(conn, "fluss.events")).toBe(ROWS);
    } finally {
      await conn.close();
    }
  });

  it("the standby takes over when the active coordinator is killed, and serves what was there", async () => {
    await coordinators[0]!.kill("SIGKILL");
    const standby = coordinators[1]!.address;
    await until("the standby to serve three servers", async () => (await servers(standby))?.length === 3);
    const conn = await connect({ bootstrap: standby });
    try {
      expect(await conn.admin.listTables("fluss")).toEqual(["events"]);
      expect(await scanIds(conn, "fluss.events")).toBe(ROWS);
      await conn.admin.createTable("fluss.later", {
        schema: "email STRING NOT NULL, uid BIGINT, PRIMARY KEY (email)",
        buckets: 3,
        options: { "auto-increment.fields": "uid" },
      });
      const u = (await conn.getTable("fluss.later")).newUpsertWriter({ targetColumns: ["email"] });
      for (let i = 0; i < 5; i++) await u.upsert({ email: `e${i}` });
      await u.close();
      const l = (await conn.getTable("fluss.later")).newLookuper();
      expect(typeof (await l.lookup({ email: "e3" }))?.uid).toBe("bigint");
    } finally {
      await conn.close();
    }
  });

  it("a tablet server killed with -9 registers again when restarted and serves its data", async () => {
    await tablets[2]!.kill("SIGKILL");
    tablets[2] = await startZkTabletServerProcess(2, join(dir, "ts-2"), zk.address, SESSION);
    const conn = await connect({ bootstrap: coordinators[1]!.address });
    try {
      await until(
        "all rows again",
        async () => (await scanIds(conn, "fluss.events").catch(() => 0)) === ROWS,
      );
    } finally {
      await conn.close();
    }
  });
});
