// The tablet server's replication drivers over real RPC, in a local cluster of two tablet servers
// (log.replica.max-lag-time 1 s, log.replica.min-in-sync-replicas-number 2) with a table of
// replication factor 2:
//  - the leader answers a follower's FetchLog with batches up to its log end and their epoch
//    entries, refuses a follower of an older epoch (FENCED_LEADER_EPOCH) or an offset outside its
//    log (LOG_OFFSET_OUT_OF_RANGE with its log start), and answers OffsetForLeaderEpoch;
//  - a follower that stops fetching (its fetchers closed) is shrunk out of the ISR by the leader's
//    lag check through AdjustIsr, which the coordinator records; below the minimum ISR the high
//    watermark stands still, so an acks=all write waiting for it times out (REQUEST_TIME_OUT,
//    retriable) and later ones are refused up front (NOT_ENOUGH_REPLICAS, retriable);
//  - a follower that fetches up to the leader's log end again is added back (ISR expansion), and
//    acks=all writes complete once its fetches pass them.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBatch, Errors, NO_WRITER_ID, parseSchema } from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../../src/config.ts";
import { LocalCluster } from "../../src/local-cluster.ts";
import { silentLogger } from "../../src/logging.ts";

function batch(): Uint8Array {
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: NO_WRITER_ID,
    batchSequence: -1,
    recordCount: 1,
    lastOffsetDelta: 0,
    body: [new Uint8Array(16).fill(7)],
  });
}

async function until<T>(what: string, f: () => Promise<T | null | false> | T | null | false): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await f();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("replication drivers on a tablet server", () => {
  let dir: string;
  let cluster: LocalCluster;
  let tableId: bigint;
  let leaderId: number;
  let followerId: number;
  let leader: RpcConnection;

  const record = async () =>
    (await cluster.coordinator.coordinator.bucketStates(tableId, null)).leaders.get(0)!;
  const leaderReplica = () =>
    cluster.tabletServers[leaderId]!.replicas.peek({ tableId, partitionId: null, bucket: 0 })!;

  const produce = (timeoutMs = 30_000) =>
    leader.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId,
      timeoutMs,
      bucketsReq: [{ bucketId: 0, records: batch() }],
    });

  const followerFetch = (fetchOffset: bigint, currentLeaderEpoch: number, maxWaitMs = 0) =>
    leader.request(ApiKeys.FETCH_LOG, {
      followerServerId: followerId,
      maxBytes: 1 << 20,
      maxWaitMs,
      minBytes: 1,
      tablesReq: [
        {
          tableId,
          projectionPushdownEnabled: false,
          bucketsReq: [{ bucketId: 0, fetchOffset, maxFetchBytes: 1 << 20, currentLeaderEpoch }],
        },
      ],
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-drivers-"));
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
      "tablet-server.count": "2",
      "log.replica.max-lag-time": "1 s",
      "log.replica.fetch.wait-max-time": "100 ms",
      "log.replica.min-in-sync-replicas-number": "2",
    });
    cluster = await LocalCluster.start({ config, logger: silentLogger });
    const c = cluster.coordinator.coordinator;
    const path = { database: "fluss", table: "t" };
    await c.createTable(
      path,
      {
        schema: parseSchema("id BIGINT"),
        partitionKeys: [],
        bucketKeys: [],
        bucketCount: 1,
        properties: { "table.replication.factor": "2" },
        customProperties: {},
      },
      false,
    );
    tableId = (await c.getTableInfo(path)).tableId;
    const lai = await record();
    leaderId = lai.leader;
    followerId = 1 - leaderId;
    const node = cluster.tabletServers[leaderId]!.node;
    leader = await RpcConnection.connect({ host: node.host, port: node.port });
  });

  afterAll(async () => {
    await leader?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("acks=all writes complete once both replicas have them; the follower copies the same batches", async () => {
    for (let i = 0; i < 5; i++) expect((await produce()).bucketsResp[0]!.errorCode).toBe(0);
    const replica = leaderReplica();
    expect(replica.highWatermark).toBe(5n);
    const follower = cluster.tabletServers[followerId]!.replicas.peek({
      tableId,
      partitionId: null,
      bucket: 0,
    })!;
    expect(follower.log.logEndOffset).toBe(5n);
    const a = await replica.log.read(0n, 1 << 20, 5n);
    const b = await follower.log.read(0n, 1 << 20, 5n);
    expect(Buffer.from(b.records).equals(Buffer.from(a.records))).toBe(true);
  });

  it("answers follower fetches with batches and epoch entries, and refuses wrong epochs and offsets", async () => {
    const epoch = leaderReplica().leaderEpoch;
    const ok = (await followerFetch(3n, epoch)).tablesResp[0]!.bucketsResp[0]!;
    expect(ok.errorCode).toBe(0);
    expect(ok.records.byteLength).toBeGreaterThan(0);
    expect(ok.epochEntries.map((e) => e.epoch)).toEqual([epoch]);
    expect(ok.highWatermark).toBe(5n);
    const older = (await followerFetch(5n, epoch - 1)).tablesResp[0]!.bucketsResp[0]!;
    expect(older.errorCode).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    const newer = (await followerFetch(5n, epoch + 1)).tablesResp[0]!.bucketsResp[0]!;
    expect(newer.errorCode).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);
    const beyond = (await followerFetch(99n, epoch)).tablesResp[0]!.bucketsResp[0]!;
    expect(beyond.errorCode).toBe(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION.code);
    expect(beyond.logStartOffset).toBe(0n);
    const q = await leader.request(ApiKeys.OFFSET_FOR_LEADER_EPOCH, {
      followerServerId: followerId,
      bucketsReq: [{ tableId, bucketId: 0, currentLeaderEpoch: epoch, leaderEpoch: epoch }],
    });
    expect([q.bucketsResp[0]!.leaderEpoch, q.bucketsResp[0]!.endOffset]).toEqual([epoch, 5n]);
  });

  it("a follower that stops fetching is shrunk out of the ISR; writes below min in-sync fail retriably", async () => {
    await cluster.tabletServers[followerId]!.replicas.opts.replication.fetchers.close();
    const waiting = produce(2_000); // waits for the follower, which no longer fetches
    const shrunk = await until("the ISR shrink recorded", async () => {
      const lai = await record();
      return lai.isr.length === 1 ? lai : null;
    });
    expect(shrunk.isr).toEqual([leaderId]);
    await until("the leader told", () => leaderReplica().leader!.isr.length === 1);
    // Below min in-sync the high watermark stands still: the write is not committed and times out
    // (retriable: the writer resends it, deduplicated by its sequence).
    const answer = (await waiting).bucketsResp[0]!;
    expect(answer.errorCode).toBe(Errors.REQUEST_TIME_OUT.code);
    const refused = (await produce()).bucketsResp[0]!;
    expect(refused.errorCode).toBe(Errors.NOT_ENOUGH_REPLICAS_EXCEPTION.code);
  });

  it("a follower fetching up to the log end again is added back; acks=all writes complete", async () => {
    const epoch = leaderReplica().leaderEpoch;
    const before = leaderReplica().log.logEndOffset;
    await followerFetch(before, epoch);
    await until("the ISR expansion recorded", async () => (await record()).isr.length === 2);
    await until("the leader told", () => leaderReplica().leader!.isr.length === 2);
    const written = produce();
    // Stand in for the follower: fetch at the leader's log end once it holds the write.
    await until("the write replicated", async () => {
      const end = leaderReplica().log.logEndOffset;
      if (end === before) return false;
      await followerFetch(end, epoch);
      return leaderReplica().highWatermark === end;
    });
    expect((await written).bucketsResp[0]!.errorCode).toBe(0);
  });
});
