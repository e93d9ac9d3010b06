// Protobuf shapes the coordinator's handlers (and the messages it sends tablet servers) share:
// table paths, server nodes, bucket routes, table and partition metadata, partition specs.
// Fluss's conventions: a bucket without a live leader carries no leader_id; a table's JSON is its
// Fluss descriptor JSON.

import {
  descriptorToJson,
  Errors,
  encodeJson,
  FlussError,
  type PartitionSpec,
  type TableInfo,
} from "@fluss-ts/common";
import {
  create,
  type PbBucketMetadata,
  PbBucketMetadataSchema,
  type PbPartitionInfo,
  PbPartitionInfoSchema,
  type PbPartitionMetadata,
  PbPartitionMetadataSchema,
  type PbPartitionSpec,
  type PbServerNode,
  PbServerNodeSchema,
  type PbTableMetadata,
  PbTableMetadataSchema,
  type PbTablePath,
} from "@fluss-ts/rpc";
import type { PartitionInfo, PartitionMetadata } from "../partitions.ts";
import type { BucketLocation, ServerNode } from "../types.ts";

export function pathOf(p: PbTablePath | undefined): { database: string; table: string } {
  return { database: p?.databaseName ?? "", table: p?.tableName ?? "" };
}

export function nodePb(n: ServerNode): PbServerNode {
  return create(PbServerNodeSchema, { nodeId: n.id, host: n.host, port: n.port });
}

export function bucketsPb(buckets: readonly BucketLocation[]): PbBucketMetadata[] {
  return buckets.map((b) => {
    const m = create(PbBucketMetadataSchema, { bucketId: b.bucket, replicaId: [...b.replicas] });
    if (b.leader !== null) {
      m.leaderId = b.leader;
      m.leaderEpoch = b.leaderEpoch;
    }
    return m;
  });
}

export function tableMetadataPb(info: TableInfo, buckets: readonly BucketLocation[]): PbTableMetadata {
  return create(PbTableMetadataSchema, {
    tablePath: { databaseName: info.path.database, tableName: info.path.table },
    tableId: info.tableId,
    schemaId: info.schemaId,
    tableJson: encodeJson(descriptorToJson(info.descriptor)),
    createdTime: BigInt(info.createdTime),
    modifiedTime: BigInt(info.modifiedTime),
    bucketMetadata: bucketsPb(buckets),
  });
}

export function partitionMetadataPb(p: PartitionMetadata): PbPartitionMetadata {
  return create(PbPartitionMetadataSchema, {
    tableId: p.tableId,
    partitionName: p.partitionName,
    partitionId: p.partitionId,
    bucketMetadata: bucketsPb(p.buckets),
  });
}

/** A wire partition spec as a spec record; a key given twice is refused. */
export function specOfPb(pb: PbPartitionSpec | undefined): PartitionSpec {
  const spec: Record<string, string> = {};
  for (const kv of pb?.partitionKeyValues ?? []) {
    if (Object.hasOwn(spec, kv.key)) {
      throw new FlussError(
        Errors.PARTITION_SPEC_INVALID_EXCEPTION,
        `partition key '${kv.key}' is given twice`,
      );
    }
    spec[kv.key] = kv.value;
  }
  return spec;
}

export function partitionInfoPb(p: PartitionInfo): PbPartitionInfo {
  return create(PbPartitionInfoSchema, {
    partitionId: p.partitionId,
    partitionSpec: { partitionKeyValues: Object.entries(p.spec).map(([key, value]) => ({ key, value })) },
  });
}
