// GetTableSchema (API 1011, public): a table's schema (the newest, or a given id).
//   GetTableSchemaRequest  { table_path: PbTablePath; schema_id?: int32 }
//   GetTableSchemaResponse { schema_id: int32; schema_json: bytes (Fluss schema JSON) }

import { encodeJson, schemaToJson } from "@fluss-ts/common";
import { type ApiKeys, GetTableSchemaRequestSchema, isFieldSet, type RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf } from "./wire.ts";

export function getTableSchemaHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_TABLE_SCHEMA> {
  return async (req) => {
    const id = isFieldSet(req, GetTableSchemaRequestSchema.field.schemaId) ? req.schemaId : undefined;
    const { schemaId, schema } = await c.getSchema(pathOf(req.tablePath), id);
    return { schemaId, schemaJson: encodeJson(schemaToJson(schema)) };
  };
}
