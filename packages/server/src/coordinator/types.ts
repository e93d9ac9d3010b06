// Shapes shared by the coordinator, its helpers and tablet servers: server nodes, what a tablet
// server is told about a replica, the gateway the coordinator reaches a tablet server through, and
// the routes metadata requests answer with.

import { descriptorFromJson, type TableInfo } from "@fluss-ts/common";
import type { TableRegistration } from "../metadata/metadata-store.ts";
import type { PartitionMetadata } from "./partitions.ts";

export interface ServerNode {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** What the coordinator tells a tablet server about one replica. */
export interface ReplicaAssignment {
  readonly table: TableInfo;
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly bucket: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface ReplicaRef {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

/**
 * Room for primary-key buckets, whose stores hold open files while hosted (open-files.ts): throws
 * BUCKET_MAX_NUM_EXCEPTION when `count` more would not fit. Process-wide in the local cluster.
 */
export interface KvBucketCapacity {
  checkNewKvBuckets(count: number, what: string): void;
}

/** The coordinator's handle on one tablet server (in-process call or RPC). */
export interface TabletServerGateway {
  readonly node: ServerNode;
  /** Host these replicas with this leadership; one answer per bucket (null error: done). */
  notifyLeaderAndIsr(
    assignments: readonly ReplicaAssignment[],
  ): Promise<ReadonlyArray<{ readonly ref: ReplicaRef; readonly error: Error | null }>>;
  stopReplicas(replicas: readonly ReplicaRef[], deleteData: boolean): Promise<void>;
}

export interface BucketLocation {
  readonly bucket: number;
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
}

export interface TableMetadata {
  readonly info: TableInfo;
  /** Buckets of a non-partitioned table (none for a partitioned one: see `partitions`). */
  readonly buckets: readonly BucketLocation[];
  /** Routes of every partition of a partitioned table, by name. */
  readonly partitions: readonly PartitionMetadata[];
}

export function tableInfoOf(reg: TableRegistration): TableInfo {
  const descriptor = descriptorFromJson(JSON.parse(reg.descriptorJson));
  return {
    path: { database: reg.database, table: reg.table },
    tableId: reg.tableId,
    schemaId: reg.schemaId,
    descriptor,
    bucketCount: reg.bucketCount,
    createdTime: reg.createdTime,
    modifiedTime: reg.modifiedTime,
  };
}
