// A tablet server's view of the cluster (Fluss's TabletServerMetadataCache), filled by the
// coordinator's UpdateMetadata: the coordinator, the live tablet servers (always replaced in full),
// and tables and partitions with their bucket routes (updated as they change; a table id -2 or a
// partition id -2 removes one, as Fluss encodes deletions). It gives NotifyLeaderAndIsr the table a
// new replica belongs to, tells fetchers where leaders are and leaders which followers may join an
// ISR (live, not shutting down), and answers GetMetadata for the whole cluster. A bucket's leader is
// reported only while that server is live.
// Invariants: an update from an older coordinator epoch is refused (the caller fences first); a
// partition is only kept for a table the cache knows.

import { decodeJson, descriptorFromJson, type TableInfo, tablePathToString } from "@fluss-ts/common";
import {
  isFieldSet,
  type MessageInitShape,
  type MetadataRequest,
  type MetadataResponseSchema,
  type PbBucketMetadata,
  PbBucketMetadataSchema,
  type PbTableMetadata,
  type UpdateMetadataRequest,
} from "@fluss-ts/rpc";
import { nodePb, partitionMetadataPb, tableMetadataPb } from "../coordinator/handlers/wire.ts";
import { DELETED_PARTITION_ID, DELETED_TABLE_ID } from "../coordinator/tablet-server-client.ts";
import type { BucketLocation, ServerNode } from "../coordinator/types.ts";

interface CachedTable {
  readonly info: TableInfo;
  readonly buckets: readonly BucketLocation[];
}

interface CachedPartition {
  readonly tableId: bigint;
  readonly partitionId: bigint;
  readonly partitionName: string;
  readonly buckets: readonly BucketLocation[];
}

function locationsOf(list: readonly PbBucketMetadata[]): BucketLocation[] {
  return list
    .map((b) => ({
      bucket: b.bucketId,
      leader: isFieldSet(b, PbBucketMetadataSchema.field.leaderId) ? b.leaderId : null,
      leaderEpoch: b.leaderEpoch,
      replicas: [...b.replicaId],
    }))
    .sort((a, b) => a.bucket - b.bucket);
}

export function tableInfoFromPb(t: PbTableMetadata): TableInfo {
  const descriptor = descriptorFromJson(decodeJson(t.tableJson));
  return {
    path: { database: t.tablePath?.databaseName ?? "", table: t.tablePath?.tableName ?? "" },
    tableId: t.tableId,
    schemaId: t.schemaId,
    descriptor,
    bucketCount: descriptor.bucketCount ?? 1,
    createdTime: Number(t.createdTime),
    modifiedTime: Number(t.modifiedTime),
  };
}

export class TabletMetadataCache {
  private coordinatorNode: ServerNode | null = null;
  private servers = new Map<number, ServerNode>();
  private shuttingDown = new Set<number>();
  private readonly tables = new Map<bigint, CachedTable>();
  private readonly tableIds = new Map<string, bigint>();
  private readonly partitions = new Map<bigint, CachedPartition>();
  private readonly partitionIds = new Map<string, bigint>();

  get coordinator(): ServerNode | null {
    return this.coordinatorNode;
  }

  liveServers(): ServerNode[] {
    return [...this.servers.values()].sort((a, b) => a.id - b.id);
  }

  /** A live server's address, or undefined. */
  server(id: number): ServerNode | undefined {
    return this.servers.get(id);
  }

  /** Live and not shutting down: a follower a leader may wait for to join its ISR. */
  isEligible(id: number): boolean {
    return this.servers.has(id) && !this.shuttingDown.has(id);
  }

  tableInfo(tableId: bigint): TableInfo | undefined {
    return this.tables.get(tableId)?.info;
  }

  /** Apply an UpdateMetadata (the caller checked its coordinator epoch). */
  apply(req: UpdateMetadataRequest): void {
    if (req.coordinatorServer) {
      const c = req.coordinatorServer;
      this.coordinatorNode = { id: c.nodeId, host: c.host, port: c.port };
    }
    this.servers = new Map(
      req.tabletServers.map((s) => [s.nodeId, { id: s.nodeId, host: s.host, port: s.port }]),
    );
    this.shuttingDown = new Set(req.shuttingDownTabletServers);
    for (const t of req.tableMetadata) {
      const key = tablePathToString({
        database: t.tablePath?.databaseName ?? "",
        table: t.tablePath?.tableName ?? "",
      });
      if (t.tableId === DELETED_TABLE_ID) {
        const id = this.tableIds.get(key);
        if (id !== undefined) this.forgetTable(id);
        continue;
      }
      const previous = this.tableIds.get(key);
      if (previous !== undefined && previous !== t.tableId) this.forgetTable(previous);
      this.tables.set(t.tableId, { info: tableInfoFromPb(t), buckets: locationsOf(t.bucketMetadata) });
      this.tableIds.set(key, t.tableId);
    }
    for (const p of req.partitionMetadata) {
      const nameKey = `${p.tableId}/${p.partitionName}`;
      if (p.partitionId === DELETED_PARTITION_ID) {
        const id = this.partitionIds.get(nameKey);
        if (id !== undefined) this.forgetPartition(id);
        continue;
      }
      if (!this.tables.has(p.tableId)) continue;
      const cached = { tableId: p.tableId, partitionId: p.partitionId, partitionName: p.partitionName };
      this.partitions.set(p.partitionId, { ...cached, buckets: locationsOf(p.bucketMetadata) });
      this.partitionIds.set(nameKey, p.partitionId);
    }
  }

  private forgetTable(tableId: bigint): void {
    const t = this.tables.get(tableId);
    if (!t) return;
    this.tables.delete(tableId);
    this.tableIds.delete(tablePathToString(t.info.path));
    for (const [id, p] of [...this.partitions]) if (p.tableId === tableId) this.forgetPartition(id);
  }

  private forgetPartition(partitionId: bigint): void {
    const p = this.partitions.get(partitionId);
    if (!p) return;
    this.partitions.delete(partitionId);
    this.partitionIds.delete(`${p.tableId}/${p.partitionName}`);
  }

  /** Routes with leaders that are not live left out. */
  private live(buckets: readonly BucketLocation[]): BucketLocation[] {
    return buckets.map((b) =>
      b.leader !== null && !this.servers.has(b.leader) ? { ...b, leader: null } : b,
    );
  }

  /**
   * The answer to GetMetadata from this cache, or null when it does not hold everything asked for
   * (the caller then asks the coordinator, which also says what does not exist).
   */
  answer(req: MetadataRequest): MessageInitShape<typeof MetadataResponseSchema> | null {
    if (!this.coordinatorNode) return null;
    const tables: PbTableMetadata[] = [];
    for (const p of req.tablePath) {
      const id = this.tableIds.get(tablePathToString({ database: p.databaseName, table: p.tableName }));
      const t = id === undefined ? undefined : this.tables.get(id);
      if (!t) return null;
      tables.push(tableMetadataPb(t.info, this.live(t.buckets)));
    }
    const partitions: CachedPartition[] = [];
    for (const p of req.partitionsPath) {
      const tableId = this.tableIds.get(tablePathToString({ database: p.databaseName, table: p.tableName }));
      const id = tableId === undefined ? undefined : this.partitionIds.get(`${tableId}/${p.partitionName}`);
      const cached = id === undefined ? undefined : this.partitions.get(id);
      if (!cached) return null;
      partitions.push(cached);
    }
    for (const id of req.partitionsId) {
      const cached = this.partitions.get(id);
      if (!cached) return null;
      if (!partitions.includes(cached)) partitions.push(cached);
    }
    return {
      coordinatorServer: nodePb(this.coordinatorNode),
      tabletServers: this.liveServers().map(nodePb),
      tableMetadata: tables,
      partitionMetadata: partitions.map((p) => partitionMetadataPb({ ...p, buckets: this.live(p.buckets) })),
    };
  }
}
