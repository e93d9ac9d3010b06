// GetTableSchema (API 1011): the newest schema of a table, or a given id.
//   GetTableSchemaRequest  { table_path: PbTablePath; schema_id?: int32 }
//   GetTableSchemaResponse { schema_id: int32; schema_json: bytes (Fluss schema JSON) }

import { decodeJson, type Schema, schemaFromJson, type TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function getTableSchema(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  schemaId?: number,
): Promise<{ schemaId: number; schema: Schema }> {
  const r = await rpc.request(at, ApiKeys.GET_TABLE_SCHEMA, {
    tablePath: pbPath(path),
    ...(schemaId !== undefined ? { schemaId } : {}),
  });
  return { schemaId: r.schemaId, schema: schemaFromJson(decodeJson(r.schemaJson)) };
}
