// CreateTable (API 1005, public): create a table; answered once its replicas are open (or the
// creation was rolled back and failed: coordinator.ts).
//   CreateTableRequest  { table_path: PbTablePath { database_name: string; table_name: string };
//                         table_json: bytes (Fluss table descriptor JSON); ignore_if_exists: bool }
//   CreateTableResponse {}

import { decodeJson, descriptorFromJson } from "@fluss-ts/common";
import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf } from "./wire.ts";

export function createTableHandler(c: Coordinator): RequestHandler<typeof ApiKeys.CREATE_TABLE> {
  return async (req) => {
    const descriptor = descriptorFromJson(decodeJson(req.tableJson));
    await c.createTable(pathOf(req.tablePath), descriptor, req.ignoreIfExists);
    return {};
  };
}
