// Failover of replicated buckets on a real ZooKeeper (Debian's `zookeeper`, started by the test;
// skipped with a message when it is not installed, unless FLUSS_REQUIRE_ZOOKEEPER=1): a coordinator
// and three tablet servers as separate processes registered in ZooKeeper (session 2 s). A table
// with table.replication.factor 3 under an idempotent acks=all writer: when the leader is killed
// with -9, its ZooKeeper session expires and the coordinator elects a leader from the ISR within
// the session timeout + 1 s; the writer carries on without an error and every acknowledged row is
// read back exactly once at its offset; a paused leader (SIGSTOP) loses its session and leadership
// and, resumed, registers again and rejoins the ISR as a follower; a primary-key table's new leader
// serves exactly the acknowledged upserts.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RoleProcess,
  startCoordinatorProcess,
  startZkTabletServerProcess,
} from "../helpers/cluster-processes.ts";
import { checkAcknowledged, leadership, startWriter, until } from "../helpers/replication.ts";
import { ZooKeeperServer, zooKeeperSkipReason } from "../helpers/zookeeper.ts";

const skip = zooKeeperSkipReason();
const SESSION_MS = 2_000;
const OPTIONS = [
  "-c",
  "zookeeper.client.session-timeout=2 s",
  "-c",
  "log.replica.fetch.backoff-interval=200 ms",
];

describe.skipIf(skip !== null)(
  `failover on ZooKeeper${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    let zk: ZooKeeperServer;
    let dir: string;
    let coordinator: RoleProcess;
    const servers: RoleProcess[] = [];
    let conn: FlussConnection;

    const startServer = async (id: number) => {
      servers[id] = await startZkTabletServerProcess(id, join(dir, `ts-${id}`), zk.address, OPTIONS);
    };

    const allAlive = async () => {
      const s = await conn.admin.clusterStatus().catch(() => null);
      return s !== null && s.servers.filter((x) => x.alive).length === 3;
    };

    async function createTable(name: string, schema: string): Promise<void> {
      await until("three live servers", allAlive);
      await conn.admin.createTable(`fluss.${name}`, {
        schema,
        buckets: 1,
        options: { "table.replication.factor": "3" },
      });
      await until(
        "all three in sync",
        async () => (await leadership(conn, `fluss.${name}`))?.isr.length === 3,
      );
    }

    async function newLeaderAfter(name: string, old: number): Promise<number> {
      const t0 = Date.now();
      const l = await until("a new leader", async () => {
        const x = await leadership(conn, `fluss.${name}`);
        return x && x.leader !== null && x.leader !== old ? x : null;
      });
      // The coordinator learns of the death when ZooKeeper expires the session (its tick is 250 ms).
      expect(Date.now() - t0).toBeLessThan(SESSION_MS + 1_000 + 500);
      return l.leader!;
    }

    beforeAll(async () => {
      zk = await ZooKeeperServer.start();
      dir = await mkdtemp(join(tmpdir(), "fluss-zk-failover-"));
      coordinator = await startCoordinatorProcess(join(dir, "coordinator"), 0, [
        "--zookeeper-address",
        zk.address,
        ...OPTIONS,
      ]);
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
      await zk?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("kill -9 of the leader: its session expires, a new leader is elected, no acknowledged row is lost or duplicated", async () => {
      await createTable("events", "id BIGINT NOT NULL");
      const table = await conn.getTable("fluss.events");
      const writer = startWriter(table);
      await until("rows acknowledged", () => writer.acked.size > 500);
      const old = (await leadership(conn, "fluss.events"))!.leader!;
      await servers[old]!.kill("SIGKILL");
      await newLeaderAfter("events", old);
      const before = writer.acked.size;
      await until("the writer going on", () => writer.acked.size > before + 500);
      await startServer(old);
      await until("the restarted server back in the ISR", async () => {
        const l = await leadership(conn, "fluss.events");
        return l?.isr.includes(old) === true && l.isr.length === 3;
      });
      expect(await writer.stop()).toBeNull();
      const check = await checkAcknowledged(table, writer.acked);
      expect(check).toMatchObject({ lost: 0, duplicated: 0, moved: 0 });
      expect(check.rows).toBe(writer.appended());
    });

    it("a paused leader loses its session and leadership; resumed, it follows and rejoins the ISR", async () => {
      await createTable("paused", "id BIGINT NOT NULL");
      const table = await conn.getTable("fluss.paused");
      const writer = startWriter(table);
      await until("rows acknowledged", () => writer.acked.size > 500);
      const old = (await leadership(conn, "fluss.paused"))!.leader!;
      servers[old]!.child.kill("SIGSTOP");
      await newLeaderAfter("paused", old);
      const before = writer.acked.size;
      await until("the writer going on", () => writer.acked.size > before + 500);
      servers[old]!.child.kill("SIGCONT");
      await until("the resumed server back in the ISR", async () => {
        const l = await leadership(conn, "fluss.paused");
        return l !== null && l.leader !== old && l.isr.length === 3;
      });
      expect(await writer.stop()).toBeNull();
      const check = await checkAcknowledged(table, writer.acked);
      expect(check).toMatchObject({ lost: 0, duplicated: 0, moved: 0 });
    });

    it("a primary-key table's new leader serves exactly the acknowledged upserts", async () => {
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
      const names = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          lookuper.lookup({ id: BigInt(i) }).then((r) => r?.name ?? null),
        ),
      );
      expect(names.filter((n, i) => n !== (i % 7 === 0 ? null : `n${i}-r2`))).toEqual([]);
      await u.close();
    });
  },
  180_000,
);
