// The private requests tablet servers send the coordinator, each over a real connection to a
// coordinator on port 0: RegisterTabletServer (a join is told the metadata; a silent server is
// forgotten after the session timeout; a new incarnation joins again), AllocateIdRange (disjoint
// ranges), AdjustIsr (Fluss's checks per bucket; accepted changes recorded with a bumped bucket
// epoch) and ControlledShutdown (the buckets still led; no new bucket goes to that server).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errors, isFlussError, parseSchema, type TableDescriptor } from "@fluss-ts/common";
import { ApiKeys, RpcConnection, RpcServer } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../../src/config.ts";
import { LocalCluster } from "../../src/local-cluster.ts";
import { silentLogger } from "../../src/logging.ts";

function descriptor(buckets: number): TableDescriptor {
  return {
    schema: parseSchema("id BIGINT"),
    partitionKeys: [],
    bucketKeys: [],
    bucketCount: buckets,
    properties: {},
    customProperties: {},
  };
}

/** A stand-in tablet server that records the coordinator's control requests. */
async function fakeTabletServer() {
  const seen: string[] = [];
  const server = new RpcServer({ port: 0 });
  server.handle(ApiKeys.UPDATE_METADATA, (req) => {
    seen.push(`update:${req.tabletServers.map((s) => s.nodeId).join(",")}`);
    return {};
  });
  server.handle(ApiKeys.NOTIFY_LEADER_AND_ISR, (req) => {
    seen.push(`notify:${req.notifyBucketsLeaderReq.length}`);
    return {
      notifyBucketsLeaderResp: req.notifyBucketsLeaderReq.map((b) => ({ tableBucket: b.tableBucket! })),
    };
  });
  server.handle(ApiKeys.STOP_REPLICA, (req) => ({
    stopReplicasResp: req.stopReplicasReq.map((s) => ({ tableBucket: s.tableBucket! })),
  }));
  const addr = await server.listen();
  return { server, seen, addr };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe("tablet-server requests on the coordinator", () => {
  let dir: string;
  let cluster: LocalCluster;
  let coord: RpcConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-coord-rpc-"));
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
      "tablet-server.count": "2",
      "tablet-server.heartbeat-interval": "50 ms",
      "tablet-server.session-timeout": "400 ms",
    });
    cluster = await LocalCluster.start({ config, logger: silentLogger });
    const c = cluster.coordinator.coordinator.node;
    coord = await RpcConnection.connect({ host: c.host, port: c.port });
  });

  afterAll(async () => {
    await coord?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const liveIds = async () =>
    (await coord.request(ApiKeys.GET_METADATA, {})).tabletServers.map((s) => s.nodeId).sort();

  it("RegisterTabletServer: a join is told the metadata, a silent server expires, a new incarnation joins again", async () => {
    const fake = await fakeTabletServer();
    try {
      const register = (incarnation: bigint) =>
        coord.request(ApiKeys.REGISTER_TABLET_SERVER, {
          tabletServer: { nodeId: 7, host: fake.addr.host, port: fake.addr.port },
          incarnation,
        });
      const r = await register(1n);
      expect(r.coordinatorEpoch).toBe(cluster.coordinator.coordinator.coordinatorEpoch);
      expect(r.heartbeatIntervalMs).toBe(50);
      expect(r.sessionTimeoutMs).toBe(400);
      expect(await liveIds()).toEqual([0, 1, 7]);
      expect(fake.seen[0]).toBe("update:0,1,7");
      // Heartbeats of the same incarnation are not joins.
      await register(1n);
      expect(fake.seen.filter((s) => s.startsWith("update:0,1,7"))).toHaveLength(1);
      // Silent past the session timeout: forgotten.
      for (let i = 0; i < 100 && (await liveIds()).includes(7); i++)
        await new Promise((res) => setTimeout(res, 20));
      expect(await liveIds()).toEqual([0, 1]);
      // A restart (new incarnation) joins again and is told the metadata again.
      await register(2n);
      expect(await liveIds()).toEqual([0, 1, 7]);
      expect(fake.seen.filter((s) => s === "update:0,1,7").length).toBeGreaterThanOrEqual(2);
    } finally {
      await fake.server.close();
    }
    // Gone again before the next tests (new buckets must land on the real servers).
    for (let i = 0; i < 100 && (await liveIds()).includes(7); i++)
      await new Promise((res) => setTimeout(res, 20));
    expect(await liveIds()).toEqual([0, 1]);
  });

  it("AllocateIdRange reserves disjoint ranges and refuses a bad count or an unknown table", async () => {
    const c = cluster.coordinator.coordinator;
    const path = { database: "fluss", table: "ids" };
    await c.createTable(path, descriptor(1), false);
    const tableId = (await c.getTableInfo(path)).tableId;
    const range = (columnName: string, count: number, id = tableId) =>
      coord.request(ApiKeys.ALLOCATE_ID_RANGE, { tableId: id, columnName, count });
    const a = await range("id", 100);
    const b = await range("id", 100);
    expect(b.firstId).toBe(a.firstId + 100n);
    expect((await range("other", 1)).firstId).toBe(1n);
    expect(isFlussError(await failure(range("id", 0)))).toBe(true);
    const unknown = await failure(range("id", 1, 987_654n));
    expect(isFlussError(unknown) && unknown.code).toBe(Errors.TABLE_NOT_EXIST.code);
  });

  it("AdjustIsr records an accepted ISR with a bumped bucket epoch and refuses stale or wrong requests per bucket", async () => {
    const c = cluster.coordinator.coordinator;
    const path = { database: "fluss", table: "isr" };
    await c.createTable(path, descriptor(1), false);
    const tableId = (await c.getTableInfo(path)).tableId;
    const leader = (await c.getTableMetadata(path)).buckets[0]!.leader!;
    const adjust = (o: {
      server?: number;
      leaderEpoch?: number;
      bucketEpoch?: number;
      isr?: number[];
      bucket?: number;
    }) =>
      coord.request(ApiKeys.ADJUST_ISR, {
        serverId: o.server ?? leader,
        tablesReq: [
          {
            tableId,
            bucketsReq: [
              {
                bucketId: o.bucket ?? 0,
                leaderEpoch: o.leaderEpoch ?? 0,
                newIsr: o.isr ?? [leader],
                coordinatorEpoch: c.coordinatorEpoch,
                bucketEpoch: o.bucketEpoch ?? 0,
              },
            ],
          },
        ],
      });
    // A one-replica bucket: its ISR [leader] is what is recorded, so this is answered as a retry of
    // a change already made (the current record, bucket epoch unchanged), not refused.
    const ok = (await adjust({})).tablesResp[0]!.bucketsResp[0]!;
    expect(ok.errorCode).toBe(0);
    expect([ok.leaderId, ok.leaderEpoch, ok.bucketEpoch, ok.isr]).toEqual([leader, 0, 0, [leader]]);
    const code = async (o: Parameters<typeof adjust>[0]) =>
      (await adjust(o)).tablesResp[0]!.bucketsResp[0]!.errorCode;
    expect(await code({ server: 1 - leader })).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(await code({ isr: [1 - leader] })).toBe(Errors.INELIGIBLE_REPLICA_EXCEPTION.code);
    expect(await code({ isr: [leader, 1 - leader] })).toBe(Errors.INELIGIBLE_REPLICA_EXCEPTION.code);
    expect(await code({ leaderEpoch: 5 })).toBe(Errors.INVALID_COORDINATOR_EXCEPTION.code);
    expect(await code({ bucket: 9 })).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    const stored = await c.getTableMetadata(path);
    expect(stored.buckets[0]!.leaderEpoch).toBe(0);
  });

  it("ControlledShutdown lists the buckets a server still leads and no new bucket goes to it", async () => {
    const c = cluster.coordinator.coordinator;
    const beforePath = { database: "fluss", table: "before" };
    await c.createTable(beforePath, descriptor(4), false);
    const tableId = (await c.getTableInfo(beforePath)).tableId;
    const ledBy0 = (await c.getTableMetadata(beforePath)).buckets
      .filter((b) => b.leader === 0)
      .map((b) => b.bucket);
    expect(ledBy0.length).toBeGreaterThan(0);
    const resp = await coord.request(ApiKeys.CONTROLLED_SHUTDOWN, {
      tabletServerId: 0,
      tabletServerEpoch: -1,
    });
    const remaining = resp.remainingLeaderBuckets.filter((b) => b.tableId === tableId).map((b) => b.bucketId);
    expect(remaining.sort()).toEqual(ledBy0);
    await c.createTable({ database: "fluss", table: "after" }, descriptor(4), false);
    const after = (await c.getTableMetadata({ database: "fluss", table: "after" })).buckets;
    expect(after.map((b) => b.leader)).toEqual([1, 1, 1, 1]);
  });
});
