// Failover of replicated buckets across separate processes (`fluss coordinator` and three `fluss
// tablet-server`s on loopback, no ZooKeeper: servers heartbeat to the coordinator, session 2 s).
// Every table has table.replication.factor 3 and one bucket; an idempotent writer (acks=all)
// appends all the time and records the offset each acknowledgement named:
//  - kill -9 of the leader: a new leader from the ISR within the session timeout + 1 s; the writer
//    carries on without an error; every acknowledged row is read back exactly once at its offset;
//    the killed server, started again, truncates, catches up and rejoins the ISR;
//  - SIGSTOP of the leader: it loses leadership the same way; after SIGCONT it follows the new
//    leader and rejoins the ISR, its divergent tail (if any) cut;
//  - SIGTERM of the leader (controlled shutdown): leadership moves first, the writer sees no error;
//  - a primary-key table: after kill -9 of its leader, lookups on the new leader return exactly
//    the acknowledged upserts;
//  - at the end, with every server stopped, the replicas of each bucket hold identical bytes below
//    the high watermark.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RoleProcess,
  startCoordinatorProcess,
  startTabletServerProcess,
} from "../helpers/cluster-processes.ts";
import {
  bucketLogDir,
  checkAcknowledged,
  divergentReplicas,
  leadership,
  startWriter,
  until,
} from "../helpers/replication.ts";

const SESSION_MS = 2_000;
const SERVER = [
  "-c",
  "tablet-server.session-timeout=2 s",
  "-c",
  "tablet-server.heartbeat-interval=400 ms",
  "-c",
  "log.replica.fetch.backoff-interval=200 ms",
];

describe("failover of replicated buckets across processes", () => {
  let dir: string;
  let coordinator: RoleProcess;
  const servers: RoleProcess[] = [];
  let conn: FlussConnection;
  const tables = new Map<string, bigint>();

  const startServer = async (id: number) => {
    servers[id] = await startTabletServerProcess(id, join(dir, `ts-${id}`), coordinator.address, SERVER);
    if (conn) {
      await until(`server ${id} registered`, async () => {
        const s = await conn.admin.clusterStatus().catch(() => null);
        return s?.servers.some((x) => x.id === id && x.alive) ?? false;
      });
    }
  };

  async function createTable(name: string, schema: string): Promise<void> {
    await conn.admin.createTable(`fluss.${name}`, {
      schema,
      buckets: 1,
      options: { "table.replication.factor": "3" },
    });
    tables.set(name, (await conn.getTable(`fluss.${name}`)).info.tableId);
    await until("all three in sync", async () => (await leadership(conn, `fluss.${name}`))?.isr.length === 3);
  }

  /** Time from now until the bucket has a live leader other than `old`. */
  async function newLeaderAfter(name: string, old: number): Promise<{ leader: number; ms: number }> {
    const t0 = Date.now();
    const l = await until("a new leader", async () => {
      const x = await leadership(conn, `fluss.${name}`);
      return x && x.leader !== null && x.leader !== old ? x : null;
    });
    return { leader: l.leader!, ms: Date.now() - t0 };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-failover-"));
    coordinator = await startCoordinatorProcess(join(dir, "coordinator"), 0, SERVER);
    for (let id = 0; id < 3; id++) await startServer(id);
    conn = await connect({ bootstrap: coordinator.address, requestTimeoutMs: 4_000 });
  }, 120_000);

  afterAll(async () => {
    await conn?.close();
    for (const s of servers) {
      s?.child.kill("SIGCONT");
      await s?.kill("SIGTERM");
    }
    await coordinator?.kill("SIGTERM");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("kill -9 of the leader: a new leader within the session timeout + 1 s, no acknowledged row lost or duplicated, the old leader rejoins", async () => {
    await createTable("killed", "id BIGINT NOT NULL");
    const table = await conn.getTable("fluss.killed");
    const writer = startWriter(table);
    await until("rows acknowledged", () => writer.acked.size > 500);
    const old = (await leadership(conn, "fluss.killed"))!.leader!;
    await servers[old]!.kill("SIGKILL");
    const elected = await newLeaderAfter("killed", old);
    expect(elected.ms).toBeLessThan(SESSION_MS + 1_000 + 500); // + the heartbeat check interval
    const before = writer.acked.size;
    await until("the writer going on", () => writer.acked.size > before + 500);
    await startServer(old);
    await until("the restarted server back in the ISR", async () => {
      const l = await leadership(conn, "fluss.killed");
      return l?.isr.includes(old) === true && l.isr.length === 3;
    });
    expect(await writer.stop()).toBeNull();
    const check = await checkAcknowledged(table, writer.acked);
    expect(check).toMatchObject({ lost: 0, duplicated: 0, moved: 0 });
    expect(check.rows).toBe(writer.appended());
  });

  it("SIGSTOP of the leader: it loses leadership; after SIGCONT it follows and rejoins the ISR", async () => {
    await createTable("paused", "id BIGINT NOT NULL");
    const table = await conn.getTable("fluss.paused");
    const writer = startWriter(table);
    await until("rows acknowledged", () => writer.acked.size > 500);
    const old = (await leadership(conn, "fluss.paused"))!.leader!;
    servers[old]!.child.kill("SIGSTOP");
    const elected = await newLeaderAfter("paused", old);
    expect(elected.ms).toBeLessThan(SESSION_MS + 1_500);
    const before = writer.acked.size;
    await until("the writer going on", () => writer.acked.size > before + 500);
    servers[old]!.child.kill("SIGCONT");
    await until("the paused server back in the ISR", async () => {
      const l = await leadership(conn, "fluss.paused");
      return l !== null && l.leader !== old && l.isr.length === 3;
    });
    expect(await writer.stop()).toBeNull();
    const check = await checkAcknowledged(table, writer.acked);
    expect(check).toMatchObject({ lost: 0, duplicated: 0, moved: 0 });
    expect(check.rows).toBe(writer.appended());
  });

  it("a primary-key table's new leader answers lookups with exactly the acknowledged upserts", async () => {
    await createTable("users", "id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)");
    const table = await conn.getTable("fluss.users");
    const u = table.newUpsertWriter();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) await u.upsert({ id: BigInt(i), name: `n${i}-r${round}` });
    }
    for (let i = 0; i < 300; i += 7) await u.delete({ id: BigInt(i) });
    await u.flush();
    const old = (await leadership(conn, "fluss.users"))!.leader!;
    await servers[old]!.kill("SIGKILL");
    await newLeaderAfter("users", old);
    const lookuper = table.newLookuper();
    for (let i = 0; i < 300; i++) {
      const row = await lookuper.lookup({ id: BigInt(i) });
      expect(row === null ? null : row.name).toBe(i % 7 === 0 ? null : `n${i}-r2`);
    }
    await u.upsert({ id: 1n, name: "after" });
    await u.close();
    expect((await lookuper.lookup({ id: 1n }))?.name).toBe("after");
    await startServer(old);
  });

  it("SIGTERM of the leader moves leadership first: the writer sees no error", async () => {
    await createTable("stopped", "id BIGINT NOT NULL");
    const table = await conn.getTable("fluss.stopped");
    const writer = startWriter(table);
    await until("rows acknowledged", () => writer.acked.size > 500);
    const old = (await leadership(conn, "fluss.stopped"))!.leader!;
    const exited = servers[old]!.kill("SIGTERM");
    const elected = await newLeaderAfter("stopped", old);
    expect(await exited).toBe(0);
    expect(elected.leader).not.toBe(old);
    const before = writer.acked.size;
    await until("the writer going on", () => writer.acked.size > before + 300);
    expect(await writer.stop()).toBeNull();
    const check = await checkAcknowledged(table, writer.acked);
    expect(check).toMatchObject({ lost: 0, duplicated: 0, moved: 0 });
    await startServer(old);
    await until("back in the ISR", async () => (await leadership(conn, "fluss.stopped"))?.isr.length === 3);
  });

  it("replicas of every bucket hold identical bytes below the high watermark", async () => {
    for (const s of servers) await s.kill("SIGTERM");
    for (const [name, tableId] of tables) {
      const dirs = [0, 1, 2].map((id) => bucketLogDir(join(dir, `ts-${id}`), id, `fluss.${name}`, tableId));
      const r = await divergentReplicas(dirs);
      expect(r.committed).toBeGreaterThan(0n);
      expect(r.divergent, name).toBe(0);
    }
  });
}, 240_000);
