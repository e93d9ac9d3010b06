// /health and the replication metrics of server processes on a real ZooKeeper (skipped with a
// message when ZooKeeper is not installed, unless FLUSS_REQUIRE_ZOOKEEPER=1): the active
// coordinator and registered tablet servers answer 200, the standby coordinator 503 ("standby");
// the active coordinator's /metrics counts the cluster's buckets and live tablet servers; a
// follower paused past log.replica.max-lag-time is dropped from the ISR (its leader counts an ISR
// shrink and an under-replicated bucket, the coordinator an under-replicated bucket) and taken
// back once resumed (an ISR expansion); once the active coordinator is killed with -9, the standby
// takes over and its /health turns 200.

import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@fluss-ts/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RoleProcess,
  startCoordinatorProcess,
  startZkTabletServerProcess,
} from "../helpers/cluster-processes.ts";
import { ZooKeeperServer, zooKeeperSkipReason } from "../helpers/zookeeper.ts";

const skip = zooKeeperSkipReason();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(skip !== null)(`health of server processes${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let zk: ZooKeeperServer;
  let dir: string;
  const coordinators: RoleProcess[] = [];
  const tablets: RoleProcess[] = [];
  const ports = { c0: 0, c1: 0, ts: [0, 0, 0] };

  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    dir = await mkdtemp(join(tmpdir(), "fluss-health-"));
    const session = ["-c", "zookeeper.client.session-timeout=2 s"];
    const zkArgs = ["--zookeeper-address", zk.address, ...session];
    ports.c0 = await freePort();
    ports.c1 = await freePort();
    for (let i = 0; i < 3; i++) ports.ts[i] = await freePort();
    const metrics = (port: number) => ["-c", `metrics.port=${port}`];
    coordinators.push(await startCoordinatorProcess(join(dir, "c0"), 0, [...zkArgs, ...metrics(ports.c0)]));
    await until("c0 active", async () => (await health(ports.c0)).status === 200);
    coordinators.push(await startCoordinatorProcess(join(dir, "c1"), 0, [...zkArgs, ...metrics(ports.c1)]));
    for (let i = 0; i < 3; i++) {
      // A session long enough that a follower paused past the lag time stays registered (its
      // leader, not the coordinator, drops it from the ISR).
      const lag = ["-c", "log.replica.max-lag-time=2 s", "-c", "zookeeper.client.session-timeout=20 s"];
      const extra = [...metrics(ports.ts[i]!), ...lag];
      tablets.push(await startZkTabletServerProcess(i, join(dir, `ts-${i}`), zk.address, extra));
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of [...tablets, ...coordinators]) await p.kill("SIGTERM");
    await zk?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A tablet server's sample of `name` (NaN when absent). */
  async function tabletMetric(id: number, name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${ports.ts[id]}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}{server="tablet-${id}"}`));
    return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
  }

  it("active coordinator and registered tablet servers 200, standby 503", async () => {
    expect(await health(ports.c0)).toEqual({
      status: 200,
      body: { status: "ok", role: "coordinator", serving: true, registered: true },
    });
    expect(await health(ports.c1)).toMatchObject({
      status: 503,
      body: { status: "unavailable", role: "coordinator", detail: "standby: another coordinator is active" },
    });
    for (const port of ports.ts) {
      await until("a tablet server registered", async () => (await health(port)).status === 200);
      expect((await health(port)).body).toMatchObject({ role: "tablet-server", registered: true });
    }
  });

  it("the active coordinator's /metrics counts buckets and live tablet servers", async () => {
    const conn = await connect({ bootstrap: coordinators[0]!.address });
    try {
      await until(
        "three tablet servers",
        async () => (await conn.admin.clusterStatus()).servers.length === 3,
      );
      await conn.admin.createTable("fluss.t", { schema: "id BIGINT", buckets: 3 });
    } finally {
      await conn.close();
    }
    await until("the cluster gauges", async () => {
      const text = await (await fetch(`http://127.0.0.1:${ports.c0}/metrics`)).text();
      return (
        text.includes('fluss_cluster_buckets{state="ok"} 3') &&
        text.includes('fluss_cluster_tablet_servers{state="alive"} 3')
      );
    });
    const standby = await (await fetch(`http://127.0.0.1:${ports.c1}/metrics`)).text();
    expect(standby).not.toContain("fluss_cluster_buckets{");
  });

  it("a paused follower leaves the ISR and comes back: shrink, under-replicated, expand", {
    timeout: 90_000,
  }, async () => {
    const conn = await connect({ bootstrap: coordinators[0]!.address });
    try {
      const options = { "table.replication.factor": "3" };
      await conn.admin.createTable("fluss.r", { schema: "id BIGINT", buckets: 1, options });
      const w = (await conn.getTable("fluss.r")).newAppendWriter();
      await w.append({ id: 1n });
      await w.flush();
      const bucket = async () =>
        (await conn.admin.clusterStatus()).buckets.find((x) => x.table === "fluss.r")!;
      await until("all three in sync", async () => (await bucket()).isr.length === 3);
      const b = await bucket();
      const leader = b.leader!;
      const follower = b.replicas.find((id) => id !== leader)!;
      const shrinks = await tabletMetric(leader, "fluss_isr_shrinks_total");
      const expands = await tabletMetric(leader, "fluss_isr_expands_total");
      tablets[follower]!.child.kill("SIGSTOP");
      try {
        // Writes keep the leader ahead of the silent follower until it is dropped.
        await until("the ISR shrink", async () => {
          await w.append({ id: 2n });
          await w.flush();
          return (await tabletMetric(leader, "fluss_isr_shrinks_total")) > shrinks;
        });
        expect(await tabletMetric(leader, "fluss_under_replicated_buckets")).toBe(1);
        await until("the coordinator's gauge", async () => {
          const text = await (await fetch(`http://127.0.0.1:${ports.c0}/metrics`)).text();
          return text.includes('fluss_cluster_buckets{state="under_replicated"} 1');
        });
      } finally {
        tablets[follower]!.child.kill("SIGCONT");
      }
      await until(
        "the ISR expansion",
        async () => (await tabletMetric(leader, "fluss_isr_expands_total")) > expands,
      );
      expect(await tabletMetric(leader, "fluss_under_replicated_buckets")).toBe(0);
      await w.close();
    } finally {
      await conn.close();
    }
  });

  it("the standby turns healthy once it takes over from a killed active coordinator", async () => {
    await coordinators[0]!.kill("SIGKILL");
    await until("the standby to take over", async () => (await health(ports.c1)).status === 200);
  });
});
