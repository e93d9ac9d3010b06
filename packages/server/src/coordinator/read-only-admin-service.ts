// Read-only admin RPCs, served by every server of the cluster as Fluss's RpcServiceBase does:
// list / exists / info of databases and tables, table schemas, and the file-system security token.
// Fluss's Java client sends these to any tablet server (its AdminReadOnlyGateway), so a tablet
// server that does not advertise them fails `Connection.getTable()` before anything is sent.
// Invariant: nothing here changes metadata; every answer comes from the coordinator's state.

import { descriptorToJson, encodeJson, schemaToJson } from "@fluss-ts/common";
import {
  ApiKeys,
  GetTableSchemaRequestSchema,
  isFieldSet,
  type PbTablePath,
  type RpcServer,
} from "@fluss-ts/rpc";
import type { Coordinator } from "./coordinator.ts";
import { flussDatabaseJson } from "./database-json.ts";

function path(p: PbTablePath | undefined): { database: string; table: string } {
  return { database: p?.databaseName ?? "", table: p?.tableName ?? "" };
}

/**
 * What a Fluss server on a local file system (no remote credentials) answers to
 * GetFileSystemSecurityToken: the scheme "file" and an empty token, no expiry, no extra info.
 */
export const LOCAL_FILESYSTEM_TOKEN = { schema: "file", token: new Uint8Array(0), additionInfo: [] } as const;

export function registerReadOnlyAdminService(server: RpcServer, coordinator: Coordinator): void {
  server.handle(ApiKeys.LIST_DATABASES, async () => ({
    databaseName: (await coordinator.listDatabases()).map((d) => d.name),
  }));
  server.handle(ApiKeys.DATABASE_EXISTS, async (req) => ({
    exists: await coordinator.databaseExists(req.databaseName),
  }));
  server.handle(ApiKeys.GET_DATABASE_INFO, async (req) => {
    const db = await coordinator.getDatabase(req.databaseName);
    return {
      // Rewritten in Fluss's form: databases created before it was stored that way hold "{}".
      databaseJson: encodeJson(flussDatabaseJson(db.descriptorJson)),
      createdTime: BigInt(db.createdTime),
      modifiedTime: BigInt(db.modifiedTime),
    };
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
  server.handle(ApiKeys.GET_FILESYSTEM_SECURITY_TOKEN, async () => ({
    ...LOCAL_FILESYSTEM_TOKEN,
    additionInfo: [],
  }));
}
