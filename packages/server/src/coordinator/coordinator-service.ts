// RPC handlers of the coordinator: thin translations between protobuf messages and Coordinator
// calls. Also serves GetMetadata (servers, table routes, partition routes by name or id),
// ListPartitionInfos, InitWriter and the read-only admin APIs (read-only-admin-service.ts), which
// tablet servers answer too (registerMetadataService).
// A request naming a partition that does not exist fails with PARTITION_NOT_EXISTS.

import {
  decodeJson,
  descriptorFromJson,
  descriptorToJson,
  Errors,
  encodeJson,
  FlussError,
  type PartitionSpec,
} from "@fluss-ts/common";
import {
  ApiKeys,
  create,
  isFieldSet,
  ListPartitionInfosRequestSchema,
  PbBucketMetadataSchema,
  type PbPartitionInfo,
  PbPartitionInfoSchema,
  type PbPartitionMetadata,
  PbPartitionMetadataSchema,
  type PbPartitionSpec,
  type PbPhysicalTablePath,
  PbPhysicalTablePathSchema,
  type PbServerNode,
  PbServerNodeSchema,
  type PbTableMetadata,
  PbTableMetadataSchema,
  type PbTablePath,
  type RpcServer,
} from "@fluss-ts/rpc";
import type {
  BucketLocation,
  Coordinator,
  PartitionInfo,
  PartitionMetadata,
  ServerNode,
} from "./coordinator.ts";
import { flussDatabaseJson } from "./database-json.ts";
import { registerReadOnlyAdminService } from "./read-only-admin-service.ts";

function path(p: PbTablePath | undefined): { database: string; table: string } {
  return { database: p?.databaseName ?? "", table: p?.tableName ?? "" };
}

function nodePb(n: ServerNode): PbServerNode {
  return create(PbServerNodeSchema, { nodeId: n.id, host: n.host, port: n.port });
}

function bucketsPb(buckets: readonly BucketLocation[]) {
  return buckets.map((b) => {
    const m = create(PbBucketMetadataSchema, { bucketId: b.bucket, replicaId: [...b.replicas] });
    if (b.leader !== null) {
      m.leaderId = b.leader;
      m.leaderEpoch = b.leaderEpoch;
    }
    return m;
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

function partitionInfoPb(p: PartitionInfo): PbPartitionInfo {
  return create(PbPartitionInfoSchema, {
    partitionId: p.partitionId,
    partitionSpec: { partitionKeyValues: Object.entries(p.spec).map(([key, value]) => ({ key, value })) },
  });
}

function partitionMetadataPb(p: PartitionMetadata): PbPartitionMetadata {
  return create(PbPartitionMetadataSchema, {
    tableId: p.tableId,
    partitionName: p.partitionName,
    partitionId: p.partitionId,
    bucketMetadata: bucketsPb(p.buckets),
  });
}

/** Partition routes asked for by physical path (table + partition name) and by partition id. */
async function partitionsMetadataPb(
  coordinator: Coordinator,
  paths: readonly PbPhysicalTablePath[],
  ids: readonly bigint[],
): Promise<PbPartitionMetadata[]> {
  const out: PartitionMetadata[] = [];
  const seen = new Set<bigint>();
  for (const p of paths) {
    if (!isFieldSet(p, PbPhysicalTablePathSchema.field.partitionName)) {
      throw new FlussError(
        Errors.PARTITION_NOT_EXISTS,
        `physical table path ${p.databaseName}.${p.tableName} names no partition`,
      );
    }
    const path = { database: p.databaseName, table: p.tableName };
    out.push(...(await coordinator.getPartitionMetadata({ path, names: [p.partitionName] })));
  }
  if (ids.length > 0) out.push(...(await coordinator.getPartitionMetadata({ ids })));
  return out.filter((m) => !seen.has(m.partitionId) && seen.add(m.partitionId)).map(partitionMetadataPb);
}

async function tableMetadataPb(
  coordinator: Coordinator,
  p: PbTablePath | undefined,
): Promise<PbTableMetadata> {
  const md = await coordinator.getTableMetadata(path(p), false);
  const info = md.info;
  return create(PbTableMetadataSchema, {
    tablePath: { databaseName: info.path.database, tableName: info.path.table },
    tableId: info.tableId,
    schemaId: info.schemaId,
    tableJson: encodeJson(descriptorToJson(info.descriptor)),
    createdTime: BigInt(info.createdTime),
    modifiedTime: BigInt(info.modifiedTime),
    bucketMetadata: bucketsPb(md.buckets),
  });
}

/** Register the coordinator's APIs on an RPC server. */
export function registerCoordinatorService(server: RpcServer, coordinator: Coordinator): void {
  server.handle(ApiKeys.CREATE_DATABASE, async (req) => {
    const json = JSON.stringify(flussDatabaseJson(new TextDecoder().decode(req.databaseJson)));
    await coordinator.createDatabase(req.databaseName, req.ignoreIfExists, json);
    return {};
  });
  server.handle(ApiKeys.DROP_DATABASE, async (req) => {
    await coordinator.dropDatabase(req.databaseName, req.ignoreIfNotExists, req.cascade);
    return {};
  });
  server.handle(ApiKeys.CREATE_TABLE, async (req) => {
    const descriptor = descriptorFromJson(decodeJson(req.tableJson));
    await coordinator.createTable(path(req.tablePath), descriptor, req.ignoreIfExists);
    return {};
  });
  server.handle(ApiKeys.DROP_TABLE, async (req) => {
    await coordinator.dropTable(path(req.tablePath), req.ignoreIfNotExists);
    return {};
  });
  server.handle(ApiKeys.CREATE_PARTITION, async (req) => {
    // Fluss names the flag ignore_if_not_exists here; it means "ignore if it exists".
    await coordinator.createPartition(
      path(req.tablePath),
      specOfPb(req.partitionSpec),
      req.ignoreIfNotExists,
    );
    return {};
  });
  server.handle(ApiKeys.DROP_PARTITION, async (req) => {
    await coordinator.dropPartition(path(req.tablePath), specOfPb(req.partitionSpec), req.ignoreIfNotExists);
    return {};
  });
}

/** Metadata and writer ids: served by the coordinator and, in-process, by tablet servers too. */
export function registerMetadataService(server: RpcServer, coordinator: Coordinator): void {
  registerReadOnlyAdminService(server, coordinator);
  server.handle(ApiKeys.GET_METADATA, async (req) => ({
    coordinatorServer: nodePb(coordinator.node),
    tabletServers: coordinator.tabletServers().map(nodePb),
    tableMetadata: await Promise.all(req.tablePath.map((p) => tableMetadataPb(coordinator, p))),
    partitionMetadata: await partitionsMetadataPb(coordinator, req.partitionsPath, req.partitionsId),
  }));
  server.handle(ApiKeys.LIST_PARTITION_INFOS, async (req) => {
    const partial = isFieldSet(req, ListPartitionInfosRequestSchema.field.partialPartitionSpec)
      ? specOfPb(req.partialPartitionSpec)
      : {};
    const partitions = await coordinator.listPartitions(path(req.tablePath), partial);
    return { partitionsInfo: partitions.map(partitionInfoPb) };
  });
  server.handle(ApiKeys.INIT_WRITER, async () => ({ writerId: await coordinator.allocateWriterId() }));
}
