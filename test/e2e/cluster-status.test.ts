// `fluss cluster status` and the SDK's admin.clusterStatus / clusterHealth against a local cluster
// of three tablet servers: servers with addresses and liveness, every bucket (of tables and
// partitions) with its leader, epoch, replicas and ISR; once a tablet server stops, it is listed
// as not alive and the buckets it led (one replica each) as offline and leaderless (text,
// --problems and --json), and Fluss's health turns RED.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

async function until(what: string, f: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("fluss cluster status", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster({
      "tablet-server.count": "3",
      "tablet-server.heartbeat-interval": "100",
      "tablet-server.session-timeout": "1000",
    });
    await tc.conn.admin.createTable("fluss.events", { schema: "id BIGINT", buckets: 3 });
    await tc.conn.admin.createTable("fluss.daily", {
      schema: "id BIGINT, dt STRING NOT NULL",
      partitionKeys: ["dt"],
      buckets: 2,
    });
    await tc.conn.admin.createPartition("fluss.daily", { dt: "20261207" });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("lists servers and every bucket with leader, epoch, replicas and ISR", async () => {
    const r = await runCli(["-b", tc.bootstrap, "cluster", "status", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      coordinator: string;
      servers: { id: number; address: string; alive: boolean; replicas: number }[];
      buckets: {
        table: string;
        partition: string | null;
        bucket: number;
        leader: number;
        replicas: number[];
        isr: number[];
        state: string;
      }[];
      bucketCount: number;
      underReplicated: number;
      offline: number;
    };
    expect(s.coordinator).toBe(tc.bootstrap);
    expect(s.servers.map((x) => [x.id, x.address, x.alive])).toEqual(
      tc.cluster.tabletServerAddresses.map((a, i) => [i, a, true]),
    );
    expect(s.servers.reduce((n, x) => n + x.replicas, 0)).toBe(5);
    expect(s.buckets.map((b) => `${b.table}/${b.partition ?? "-"}/${b.bucket}`)).toEqual([
      "fluss.daily/20261207/0",
      "fluss.daily/20261207/1",
      "fluss.events/-/0",
      "fluss.events/-/1",
      "fluss.events/-/2",
    ]);
    for (const b of s.buckets) {
      expect(b.replicas).toEqual([b.leader]);
      expect(b.isr).toEqual([b.leader]);
      expect(b.state).toBe("ok");
    }
    expect([s.bucketCount, s.underReplicated, s.offline]).toEqual([5, 0, 0]);
    expect((await tc.conn.admin.clusterHealth()).status).toBe("GREEN");
  });

  it("a stopped tablet server is not alive and the buckets it led are offline", async () => {
    const before = await tc.conn.admin.clusterStatus();
    const victim = 2;
    const led = before.buckets.filter((b) => b.leader === victim).length;
    expect(led).toBeGreaterThan(0);
    await tc.cluster.tabletServers[victim]!.stop();
    await until("the coordinator to see the server leave", async () => {
      const s = await tc.conn.admin.clusterStatus();
      return s.servers.some((x) => x.id === victim && !x.alive);
    });
    const s = await tc.conn.admin.clusterStatus({ problemsOnly: true });
    expect(s.offline).toBe(led);
    // One replica each: the buckets it led have no other ISR member, so they wait leaderless.
    const ids = (l: typeof s.buckets) => l.map((b) => `${b.tableId}/${b.partitionId}/${b.bucket}`).sort();
    expect(ids(s.buckets)).toEqual(ids(before.buckets.filter((b) => b.leader === victim)));
    expect(s.buckets.every((b) => b.leader === null && b.state === "offline")).toBe(true);
    expect(s.buckets.length).toBe(led);
    expect((await tc.conn.admin.clusterHealth()).status).toBe("RED");

    const text = await runCli(["-b", tc.bootstrap, "cluster", "status", "--problems"]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    expect(lines).toContain(`Servers:      3 (2 alive)`);
    expect(lines.find((l) => /^\s+2\s/.test(l))).toMatch(/^\s+2\s+-\s+no\s+0\s+\d+$/);
    expect(lines).toContain(`Buckets:      5 (0 under-replicated, ${led} offline)`);
    expect(lines.filter((l) => l.trimEnd().endsWith("offline") && !l.startsWith("Buckets"))).toHaveLength(
      led,
    );
  });
});
