// The coordinator's gateway to one tablet server over RPC (the only implementation outside unit
// tests, `fluss local` included): UpdateMetadata, NotifyLeaderAndIsr and StopReplica in Fluss's
// shapes, queued in order on the server's channel (server-channel.ts) when called. Deleted tables
// and partitions travel as Fluss encodes them (table id -2, partition id -2).

import { errorFromCode, type Scheduler } from "@fluss-ts/common";
import { ApiKeys, isFieldSet, type PbTableBucket, PbTableBucketSchema, RpcConnection } from "@fluss-ts/rpc";
import type { Logger } from "../logging.ts";
import { nodePb, partitionMetadataPb, tableMetadataPb } from "./handlers/wire.ts";
import { type ControlConnection, ServerChannel } from "./server-channel.ts";
import type {
  BucketAnswer,
  MetadataUpdate,
  ReplicaAssignment,
  ServerNode,
  StopReplica,
  TabletServerGateway,
} from "./types.ts";

/** Fluss's markers of a deleted table / partition in UpdateMetadata (TableMetadata.DELETED_TABLE_ID). */
export const DELETED_TABLE_ID = -2n;
export const DELETED_PARTITION_ID = -2n;

function tableBucketPb(r: { tableId: bigint; partitionId: bigint | null; bucket: number }) {
  return {
    tableId: r.tableId,
    ...(r.partitionId === null ? {} : { partitionId: r.partitionId }),
    bucketId: r.bucket,
  };
}

/** Per-bucket answers (table_bucket, error_code?, error_message?) as BucketAnswers. */
function answersOf(
  list: ReadonlyArray<{ tableBucket?: PbTableBucket; errorCode: number; errorMessage: string }>,
): BucketAnswer[] {
  return list.map((r) => {
    const tb = r.tableBucket;
    const partitionId = tb && isFieldSet(tb, PbTableBucketSchema.field.partitionId) ? tb.partitionId : null;
    const ref = { tableId: tb?.tableId ?? -1n, partitionId, bucket: tb?.bucketId ?? -1 };
    return { ref, error: r.errorCode === 0 ? null : errorFromCode(r.errorCode, r.errorMessage) };
  });
}

/** The UpdateMetadata request of an update. */
export function updateMetadataPb(coordinatorEpoch: number, u: MetadataUpdate) {
  return {
    coordinatorServer: nodePb(u.coordinator),
    tabletServers: u.tabletServers.map(nodePb),
    shuttingDownTabletServers: [...(u.shuttingDown ?? [])],
    tableMetadata: u.tables.map((t) =>
      t.kind === "table"
        ? tableMetadataPb(t.info, t.buckets)
        : {
            tablePath: { databaseName: t.path.database, tableName: t.path.table },
            tableId: DELETED_TABLE_ID,
            schemaId: 0,
            tableJson: new Uint8Array(0),
            createdTime: -1n,
            modifiedTime: -1n,
          },
    ),
    partitionMetadata: u.partitions.map((p) =>
      p.kind === "partition"
        ? partitionMetadataPb(p)
        : { tableId: p.tableId, partitionName: p.partitionName, partitionId: DELETED_PARTITION_ID },
    ),
    coordinatorEpoch,
  };
}

export function notifyLeaderAndIsrPb(coordinatorEpoch: number, assignments: readonly ReplicaAssignment[]) {
  return {
    coordinatorEpoch,
    notifyBucketsLeaderReq: assignments.map((a) => ({
      physicalTablePath: {
        databaseName: a.table.path.database,
        tableName: a.table.path.table,
        ...(a.partitionName === null ? {} : { partitionName: a.partitionName }),
      },
      tableBucket: tableBucketPb({ tableId: a.table.tableId, partitionId: a.partitionId, bucket: a.bucket }),
      leader: a.leader,
      leaderEpoch: a.leaderEpoch,
      replicas: [...a.replicas],
      isr: [...a.isr],
      bucketEpoch: a.bucketEpoch,
    })),
  };
}

export function stopReplicaPb(coordinatorEpoch: number, stops: readonly StopReplica[]) {
  return {
    coordinatorEpoch,
    stopReplicasReq: stops.map((s) => ({
      tableBucket: tableBucketPb(s),
      leaderEpoch: s.leaderEpoch,
      delete: s.delete,
      deleteRemote: s.delete,
    })),
  };
}

export class RpcTabletServerGateway implements TabletServerGateway {
  readonly node: ServerNode;
  private readonly channel: ServerChannel;

  constructor(o: {
    node: ServerNode;
    scheduler: Scheduler;
    logger: Logger;
    /** Defaults to a TCP connection to the node. */
    connect?: () => Promise<ControlConnection>;
    requestTimeoutMs?: number;
  }) {
    this.node = o.node;
    const name = `tablet server ${o.node.id} at ${o.node.host}:${o.node.port}`;
    this.channel = new ServerChannel({
      name,
      scheduler: o.scheduler,
      logger: o.logger,
      connect:
        o.connect ??
        (() =>
          RpcConnection.connect({
            host: o.node.host,
            port: o.node.port,
            timers: o.scheduler,
            ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
          })),
    });
  }

  async updateMetadata(coordinatorEpoch: number, update: MetadataUpdate): Promise<void> {
    await this.channel.send(ApiKeys.UPDATE_METADATA, updateMetadataPb(coordinatorEpoch, update));
  }

  async notifyLeaderAndIsr(
    coordinatorEpoch: number,
    assignments: readonly ReplicaAssignment[],
  ): Promise<BucketAnswer[]> {
    const req = notifyLeaderAndIsrPb(coordinatorEpoch, assignments);
    const resp = await this.channel.send(ApiKeys.NOTIFY_LEADER_AND_ISR, req);
    return answersOf(resp.notifyBucketsLeaderResp);
  }

  async stopReplicas(coordinatorEpoch: number, stops: readonly StopReplica[]): Promise<BucketAnswer[]> {
    const resp = await this.channel.send(ApiKeys.STOP_REPLICA, stopReplicaPb(coordinatorEpoch, stops));
    return answersOf(resp.stopReplicasResp);
  }

  close(): void {
    this.channel.close();
  }
}
