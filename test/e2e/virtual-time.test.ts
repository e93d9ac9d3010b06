// A local cluster (coordinator and tablet servers over RPC) on virtual time: every server timer runs
// on the injected Scheduler and reads the injected Clock, so a test moves time instead of waiting.
// A fetch long poll waits exactly its max wait of virtual time (and returns at once when data
// arrives); a tablet server that stops heartbeating is taken out of the cluster exactly when its
// session timeout has passed on the virtual clock, while the one that heartbeats stays.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBatch, ManualClock, ManualScheduler, NO_WRITER_ID, parseSchema } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { applyServerOptions, defaultServerConfig, LocalCluster, silentLogger } from "@fluss-ts/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const realPause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function batch(): Uint8Array {
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: NO_WRITER_ID,
    batchSequence: -1,
    recordCount: 1,
    lastOffsetDelta: 0,
    body: [new Uint8Array(8).fill(3)],
  });
}

describe("a local cluster on virtual time", () => {
  let dir: string;
  let cluster: LocalCluster;
  let scheduler: ManualScheduler;
  let tableId: bigint;
  let leader: RpcConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-virtual-"));
    scheduler = new ManualScheduler(new ManualClock(1_000_000));
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
      "tablet-server.count": "2",
      "tablet-server.heartbeat-interval": "1 s",
      "tablet-server.session-timeout": "5 s",
    });
    cluster = await LocalCluster.start({ config, logger: silentLogger, clock: scheduler.clock, scheduler });
    const c = cluster.coordinator.coordinator;
    const path = { database: "fluss", table: "t" };
    const descriptor = {
      schema: parseSchema("id BIGINT"),
      partitionKeys: [],
      bucketKeys: [],
      bucketCount: 1,
      properties: {},
      customProperties: {},
    };
    await c.createTable(path, descriptor, false);
    const md = await c.getTableMetadata(path);
    tableId = md.info.tableId;
    const node = cluster.tabletServers.find((t) => t.node.id === md.buckets[0]!.leader)!.node;
    leader = await RpcConnection.connect({ host: node.host, port: node.port });
  });

  afterAll(async () => {
    await leader?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const fetch = (offset: bigint) =>
    leader.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: 1 << 20,
      maxWaitMs: 10_000,
      minBytes: 1,
      tablesReq: [
        {
          tableId,
          projectionPushdownEnabled: false,
          bucketsReq: [{ bucketId: 0, fetchOffset: offset, maxFetchBytes: 1 << 20 }],
        },
      ],
    });

  it("a fetch long poll waits exactly its max wait of virtual time", async () => {
    let done = false;
    const f = fetch(0n).then((r) => {
      done = true;
      return r;
    });
    await realPause(100);
    scheduler.advance(9_999);
    await realPause(100);
    expect(done).toBe(false);
    scheduler.advance(1);
    const r = await f;
    expect(r.tablesResp[0]!.bucketsResp[0]!.records.byteLength).toBe(0);
  });

  it("a parked fetch returns as soon as data is committed, with no time passing", async () => {
    const f = fetch(0n);
    await realPause(50);
    const p = await leader.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId,
      timeoutMs: 1000,
      bucketsReq: [{ bucketId: 0, records: batch() }],
    });
    expect(p.bucketsResp[0]!.errorCode).toBe(0);
    const r = await f;
    expect(r.tablesResp[0]!.bucketsResp[0]!.records.byteLength).toBeGreaterThan(0);
  });

  it("a tablet server that stops heartbeating leaves exactly at the session timeout", async () => {
    const c = cluster.coordinator.coordinator;
    expect(c.tabletServers().map((s) => s.id)).toEqual([0, 1]);
    await cluster.tabletServers[1]!.link.stop();
    // Step through virtual time, letting real RPC (server 0's heartbeats) run between steps.
    for (let t = 0; t < 4_500; t += 250) {
      scheduler.advance(250);
      await realPause(10);
    }
    expect(c.tabletServers().map((s) => s.id)).toEqual([0, 1]);
    for (let t = 0; t < 2_000; t += 250) {
      scheduler.advance(250);
      await realPause(10);
    }
    expect(c.tabletServers().map((s) => s.id)).toEqual([0]);
  });
});
