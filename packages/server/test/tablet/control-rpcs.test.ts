// The coordinator's control requests as a tablet server answers them, each sent over a real
// connection to a tablet server on port 0: UpdateMetadata fills the metadata cache GetMetadata is
// answered from (a table id -2 removes a table); NotifyLeaderAndIsr creates a replica as leader
// and answers per bucket (an older leader epoch fenced, a bucket not naming this server, an unknown
// table); StopReplica stops and deletes (an older epoch fenced); a request from an older
// coordinator epoch is refused whole with INVALID_COORDINATOR_EXCEPTION.

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildBatch,
  descriptorToJson,
  Errors,
  encodeJson,
  isFlussError,
  NO_WRITER_ID,
  parseSchema,
} from "@fluss-ts/common";
import { ApiKeys, RpcConnection } from "@fluss-ts/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../../src/config.ts";
import { LocalCluster } from "../../src/local-cluster.ts";
import { silentLogger } from "../../src/logging.ts";

const TABLE_ID = 9_001n;
const path = { databaseName: "fluss", tableName: "pushed" };

function tableJson(): Uint8Array {
  return encodeJson(
    descriptorToJson({
      schema: parseSchema("id BIGINT"),
      partitionKeys: [],
      bucketKeys: [],
      bucketCount: 1,
      properties: {},
      customProperties: {},
    }),
  );
}

function batch(): Uint8Array {
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: NO_WRITER_ID,
    batchSequence: -1,
    recordCount: 1,
    lastOffsetDelta: 0,
    body: [new Uint8Array(16).fill(1)],
  });
}

describe("control requests on a tablet server", () => {
  let dir: string;
  let cluster: LocalCluster;
  let ts: RpcConnection;
  let epoch: number;
  let serverId: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-control-"));
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
    });
    cluster = await LocalCluster.start({ config, logger: silentLogger });
    const node = cluster.tabletServers[0]!.node;
    serverId = node.id;
    ts = await RpcConnection.connect({ host: node.host, port: node.port });
    // Ahead of the real coordinator, so its later messages do not interfere with this test's.
    epoch = cluster.coordinator.coordinator.coordinatorEpoch + 10;
  });

  afterAll(async () => {
    await ts?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const coordinatorNode = () => {
    const c = cluster.coordinator.coordinator.node;
    return { nodeId: c.id, host: c.host, port: c.port };
  };
  const self = () => {
    const n = cluster.tabletServers[0]!.node;
    return { nodeId: n.id, host: n.host, port: n.port };
  };
  const tableMetadata = (tableId: bigint) => ({
    tablePath: path,
    tableId,
    schemaId: 1,
    tableJson: tableId < 0n ? new Uint8Array(0) : tableJson(),
    createdTime: 1n,
    modifiedTime: 1n,
    bucketMetadata:
      tableId < 0n ? [] : [{ bucketId: 0, leaderId: serverId, leaderEpoch: 0, replicaId: [serverId] }],
  });
  const notify = (e: number, leaderEpoch: number, replicas: number[], tableId = TABLE_ID) =>
    ts.request(ApiKeys.NOTIFY_LEADER_AND_ISR, {
      coordinatorEpoch: e,
      notifyBucketsLeaderReq: [
        {
          physicalTablePath: path,
          tableBucket: { tableId, bucketId: 0 },
          leader: serverId,
          leaderEpoch,
          replicas,
          isr: replicas,
          bucketEpoch: 0,
        },
      ],
    });

  it("UpdateMetadata fills the cache GetMetadata answers from", async () => {
    await ts.request(ApiKeys.UPDATE_METADATA, {
      coordinatorServer: coordinatorNode(),
      tabletServers: [self()],
      tableMetadata: [tableMetadata(TABLE_ID)],
      coordinatorEpoch: epoch,
    });
    const md = await ts.request(ApiKeys.GET_METADATA, { tablePath: [path] });
    expect(md.tableMetadata.map((t) => t.tableId)).toEqual([TABLE_ID]);
    expect(md.tableMetadata[0]!.bucketMetadata[0]!.leaderId).toBe(serverId);
    expect(md.tabletServers.map((s) => s.nodeId)).toEqual([serverId]);
  });

  it("NotifyLeaderAndIsr makes this server the leader of a new replica; one answer per bucket", async () => {
    const ok = await notify(epoch, 2, [serverId]);
    expect(ok.notifyBucketsLeaderResp).toHaveLength(1);
    expect(ok.notifyBucketsLeaderResp[0]!.errorCode).toBe(0);
    const produced = await ts.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: TABLE_ID,
      timeoutMs: 5000,
      bucketsReq: [{ bucketId: 0, records: batch() }],
    });
    expect(produced.bucketsResp[0]!.errorCode).toBe(0);
    expect(produced.bucketsResp[0]!.baseOffset).toBe(0n);

    const older = await notify(epoch, 1, [serverId]);
    expect(older.notifyBucketsLeaderResp[0]!.errorCode).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    const notMine = await notify(epoch, 3, [serverId + 100]);
    expect(notMine.notifyBucketsLeaderResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    const unknown = await notify(epoch, 0, [serverId], 424_242n);
    expect(unknown.notifyBucketsLeaderResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
    expect(unknown.notifyBucketsLeaderResp[0]!.tableBucket?.tableId).toBe(424_242n);
  });

  it("refuses every control request of an older coordinator epoch", async () => {
    for (const send of [
      () => notify(epoch - 1, 5, [serverId]),
      () =>
        ts.request(ApiKeys.STOP_REPLICA, {
          coordinatorEpoch: epoch - 1,
          stopReplicasReq: [
            { tableBucket: { tableId: TABLE_ID, bucketId: 0 }, leaderEpoch: 9, delete: true },
          ],
        }),
      () => ts.request(ApiKeys.UPDATE_METADATA, { tabletServers: [], coordinatorEpoch: epoch - 1 }),
    ]) {
      const err = await send().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isFlussError(err) && err.code).toBe(Errors.INVALID_COORDINATOR_EXCEPTION.code);
    }
    // Nothing changed: the replica still takes writes.
    const produced = await ts.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: TABLE_ID,
      timeoutMs: 5000,
      bucketsReq: [{ bucketId: 0, records: batch() }],
    });
    expect(produced.bucketsResp[0]!.baseOffset).toBe(1n);
  });

  it("StopReplica fences an older leader epoch, then stops and deletes the replica", async () => {
    const dataDir = join(dir, `tablet-server-${serverId}`, "fluss", `pushed-${TABLE_ID}`, "log-0");
    expect(existsSync(dataDir)).toBe(true);
    const stop = (leaderEpoch: number) =>
      ts.request(ApiKeys.STOP_REPLICA, {
        coordinatorEpoch: epoch,
        stopReplicasReq: [{ tableBucket: { tableId: TABLE_ID, bucketId: 0 }, leaderEpoch, delete: true }],
      });
    const fenced = await stop(1);
    expect(fenced.stopReplicasResp[0]!.errorCode).toBe(Errors.FENCED_LEADER_EPOCH_EXCEPTION.code);
    expect(existsSync(dataDir)).toBe(true);
    const stopped = await stop(2);
    expect(stopped.stopReplicasResp[0]!.errorCode).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
    const produced = await ts.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: TABLE_ID,
      timeoutMs: 5000,
      bucketsReq: [{ bucketId: 0, records: batch() }],
    });
    expect(produced.bucketsResp[0]!.errorCode).toBe(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code);
  });

  it("a table id -2 in UpdateMetadata removes the table from the cache (GetMetadata then asks the coordinator)", async () => {
    await ts.request(ApiKeys.UPDATE_METADATA, {
      coordinatorServer: coordinatorNode(),
      tabletServers: [self()],
      tableMetadata: [tableMetadata(-2n)],
      coordinatorEpoch: epoch,
    });
    const err = await ts.request(ApiKeys.GET_METADATA, { tablePath: [path] }).then(
      () => null,
      (e: unknown) => e,
    );
    // The coordinator never heard of this table.
    expect(isFlussError(err) && err.code).toBe(Errors.TABLE_NOT_EXIST.code);
  });
});
