// /health and the cluster gauges of server processes on a real ZooKeeper (skipped with a message
// when ZooKeeper is not installed, unless FLUSS_REQUIRE_ZOOKEEPER=1): the active coordinator and a
// registered tablet server answer 200, the standby coordinator 503 ("standby"); the active
// coordinator's /metrics counts the cluster's buckets and live tablet servers; once the active
// coordinator is killed with -9, the standby takes over and its /health turns 200.

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
  const procs: RoleProcess[] = [];
  const ports = { c0: 0, c1: 0, ts: 0 };

  beforeAll(async () => {
    zk = await ZooKeeperServer.start();
    dir = await mkdtemp(join(tmpdir(), "fluss-health-"));
    const zkArgs = ["--zookeeper-address", zk.address, "-c", "zookeeper.client.session-timeout=2 s"];
    for (const k of ["c0", "c1", "ts"] as const) ports[k] = await freePort();
    procs.push(
      await startCoordinatorProcess(join(dir, "c0"), 0, [...zkArgs, "-c", `metrics.port=${ports.c0}`]),
    );
    await until("c0 active", async () => (await health(ports.c0)).status === 200);
    procs.push(
      await startCoordinatorProcess(join(dir, "c1"), 0, [...zkArgs, "-c", `metrics.port=${ports.c1}`]),
    );
    procs.push(
      await startZkTabletServerProcess(0, join(dir, "ts-0"), zk.address, [
        ...zkArgs.slice(2),
        "-c",
        `metrics.port=${ports.ts}`,
      ]),
    );
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await p.kill("SIGTERM");
    await zk?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("active coordinator and registered tablet server 200, standby 503", async () => {
    expect(await health(ports.c0)).toEqual({
      status: 200,
      body: { status: "ok", role: "coordinator", serving: true, registered: true },
    });
    expect(await health(ports.c1)).toMatchObject({
      status: 503,
      body: { status: "unavailable", role: "coordinator", detail: "standby: another coordinator is active" },
    });
    await until("the tablet server registered", async () => (await health(ports.ts)).status === 200);
    expect((await health(ports.ts)).body).toMatchObject({ role: "tablet-server", registered: true });
  });

  it("the active coordinator's /metrics counts buckets and live tablet servers", async () => {
    const conn = await connect({ bootstrap: procs[0]!.address });
    try {
      await until(
        "the tablet server joined",
        async () => (await conn.admin.clusterStatus()).servers.length === 1,
      );
      await conn.admin.createTable("fluss.t", { schema: "id BIGINT", buckets: 3 });
    } finally {
      await conn.close();
    }
    await until("the cluster gauges", async () => {
      const text = await (await fetch(`http://127.0.0.1:${ports.c0}/metrics`)).text();
      return (
        text.includes('fluss_cluster_buckets{state="ok"} 3') &&
        text.includes('fluss_cluster_tablet_servers{state="alive"} 1')
      );
    });
    const standby = await (await fetch(`http://127.0.0.1:${ports.c1}/metrics`)).text();
    expect(standby).not.toContain("fluss_cluster_buckets{");
  });

  it("the standby turns healthy once it takes over from a killed active coordinator", async () => {
    await procs[0]!.kill("SIGKILL");
    await until("the standby to take over", async () => (await health(ports.c1)).status === 200);
  });
});
