// Shapes shared by the coordinator, its helpers and tablet servers: server nodes, what a tablet
// server is told about a replica, the gateway the coordinator reaches a tablet server through (an
// RPC client in every deployment, fakes in unit tests), the metadata it pushes to them, and the
// routes metadata requests answer with.
// Gateway contract: a call is queued for its server when it is made (so calls made in order inside
// the coordinator's serial queue reach the server in that order) and resolves when the server
// answered; a retriable failure is retried by the gateway, so a rejection means the server left
// the cluster, fenced this coordinator, or refused the whole request.

import { descriptorFromJson, type FlussError, type TableInfo } from "@fluss-ts/common";
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
  readonly bucketEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface ReplicaRef {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

/** Stop one replica; `leaderEpoch` fences a stop older than the replica's leadership. */
export interface StopReplica extends ReplicaRef {
  readonly leaderEpoch: number;
  /** Remove its local data (and its remote KV snapshots). */
  readonly delete: boolean;
}

/** One bucket's answer to a NotifyLeaderAndIsr or a StopReplica: null when it went through. */
export interface BucketAnswer {
  readonly ref: ReplicaRef;
  readonly error: FlussError | null;
}

/**
 * Room for primary-key buckets, whose stores hold open files while hosted (open-files.ts): throws
 * BUCKET_MAX_NUM_EXCEPTION when `count` more would not fit. Process-wide in the local cluster.
 */
export interface KvBucketCapacity {
  checkNewKvBuckets(count: number, what: string): void;
}

export interface BucketLocation {
  readonly bucket: number;
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
}

/** A table a tablet server keeps (with its buckets' routes), or one it must forget. */
export type TableUpdate =
  | { readonly kind: "table"; readonly info: TableInfo; readonly buckets: readonly BucketLocation[] }
  | { readonly kind: "deleted"; readonly tableId: bigint; readonly path: TableInfo["path"] };

/** A partition a tablet server keeps (with its buckets' routes), or one it must forget. */
export type PartitionUpdate =
  | ({ readonly kind: "partition" } & PartitionMetadata)
  | {
      readonly kind: "deleted";
      readonly tableId: bigint;
      readonly partitionId: bigint;
      readonly partitionName: string;
    };

/** Fluss's UpdateMetadata: the live servers always in full, tables and partitions as changed. */
export interface MetadataUpdate {
  readonly coordinator: ServerNode;
  readonly tabletServers: readonly ServerNode[];
  /** Ids of those in controlled shutdown (leaders do not wait for them to join an ISR). */
  readonly shuttingDown?: readonly number[];
  readonly tables: readonly TableUpdate[];
  readonly partitions: readonly PartitionUpdate[];
}

/** The coordinator's handle on one tablet server (see the contract at the top). */
export interface TabletServerGateway {
  readonly node: ServerNode;
  updateMetadata(coordinatorEpoch: number, update: MetadataUpdate): Promise<void>;
  /** Host these replicas with this leadership; one answer per bucket. */
  notifyLeaderAndIsr(
    coordinatorEpoch: number,
    assignments: readonly ReplicaAssignment[],
  ): Promise<readonly BucketAnswer[]>;
  /** Stop (and maybe delete) these replicas; one answer per bucket. */
  stopReplicas(coordinatorEpoch: number, replicas: readonly StopReplica[]): Promise<readonly BucketAnswer[]>;
  /** The server left the cluster: fail what is queued for it and drop its connection. */
  close(): void;
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
