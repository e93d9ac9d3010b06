// RPC handlers of the coordinator: thin translations between protobuf messages and Coordinator
// calls. Also serves GetMetadata (servers, table routes) and InitWriter (writer ids).

import { decodeJson, descriptorFromJson, descriptorToJson, encodeJson, schemaToJson } from "@fluss-ts/common";
import {
  ApiKeys,
  create,
  GetTableSchemaRequestSchema,
  isFieldSet,
  PbBucketMetadataSchema,
  type PbServerNode,
  PbServerNodeSchema,
  type PbTableMetadata,
  PbTableMetadataSchema,
  type PbTablePath,
  type RpcServer,
} from "@fluss-ts/rpc";
import type { Coordinator, ServerNode } from "./coordinator.ts";

function path(p: PbTablePath | undefined): { database: string; table: string } {
  return { database: p?.databaseName ?? "", table: p?.tableName ?? "" };
}

function nodePb(n: ServerNode): PbServerNode {
  return create(PbServerNodeSchema, { nodeId: n.id, host: n.host, port: n.port });
}

async function tableMetadataPb(
  coordinator: Coordinator,
  p: PbTablePath | undefined,
): Promise<PbTableMetadata> {
  const md = await coordinator.getTableMetadata(path(p));
  const info = md.info;
  return create(PbTableMetadataSchema, {
    tablePath: { databaseName: info.path.database, tableName: info.path.table },
    tableId: info.tableId,
    schemaId: info.schemaId,
    tableJson: encodeJson(descriptorToJson(info.descriptor)),
    createdTime: BigInt(info.createdTime),
    modifiedTime: BigInt(info.modifiedTime),
    bucketMetadata: md.buckets.map((b) => {
      const m = create(PbBucketMetadataSchema, { bucketId: b.bucket, replicaId: [...b.replicas] });
      if (b.leader !== null) {
        m.leaderId = b.leader;
        m.leaderEpoch = b.leaderEpoch;
      }
      return m;
    }),
  });
}

/** Register the coordinator's APIs on an RPC server. */
export function registerCoordinatorService(server: RpcServer, coordinator: Coordinator): void {
  server.handle(ApiKeys.CREATE_DATABASE, async (req) => {
    const json = req.databaseJson.byteLength > 0 ? new TextDecoder().decode(req.databaseJson) : "{}";
    await coordinator.createDatabase(req.databaseName, req.ignoreIfExists, json);
    return {};
  });
  server.handle(ApiKeys.DROP_DATABASE, async (req) => {
    await coordinator.dropDatabase(req.databaseName, req.ignoreIfNotExists, req.cascade);
    return {};
  });
  server.handle(ApiKeys.LIST_DATABASES, async () => ({
    databaseName: (await coordinator.listDatabases()).map((d) => d.name),
  }));
  server.handle(ApiKeys.DATABASE_EXISTS, async (req) => ({
    exists: await coordinator.databaseExists(req.databaseName),
  }));
  server.handle(ApiKeys.GET_DATABASE_INFO, async (req) => {
    const db = await coordinator.getDatabase(req.databaseName);
    return {
      databaseJson: new TextEncoder().encode(db.descriptorJson),
      createdTime: BigInt(db.createdTime),
      modifiedTime: BigInt(db.modifiedTime),
    };
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
  server.handle(ApiKeys.LIST_TABLES, async (req) => ({
    tableName: await coordinator.listTables(req.databaseName),
  }));
  server.handle(ApiKeys.TABLE_EXISTS, async (req) => ({
    exists: await coordinator.tableExists(path(req.tablePath)),
  }));
  server.handle(ApiKeys.GET_TABLE_INFO, async (req) => {
    const info = await coordinator.getTableInfo(path(req.tablePath));
    return {
      tableId: info.tableId,
      schemaId: info.schemaId,
      tableJson: encodeJson(descriptorToJson(info.descriptor)),
      createdTime: BigInt(info.createdTime),
      modifiedTime: BigInt(info.modifiedTime),
    };
  });
  server.handle(ApiKeys.GET_TABLE_SCHEMA, async (req) => {
    const id = isFieldSet(req, GetTableSchemaRequestSchema.field.schemaId) ? req.schemaId : undefined;
    const { schemaId, schema } = await coordinator.getSchema(path(req.tablePath), id);
    return { schemaId, schemaJson: encodeJson(schemaToJson(schema)) };
  });
}

/** Metadata and writer ids: served by the coordinator and, in-process, by tablet servers too. */
export function registerMetadataService(server: RpcServer, coordinator: Coordinator): void {
  server.handle(ApiKeys.GET_METADATA, async (req) => ({
    coordinatorServer: nodePb(coordinator.node),
    tabletServers: coordinator.tabletServers().map(nodePb),
    tableMetadata: await Promise.all(req.tablePath.map((p) => tableMetadataPb(coordinator, p))),
  }));
  server.handle(ApiKeys.INIT_WRITER, async () => ({ writerId: await coordinator.allocateWriterId() }));
}
