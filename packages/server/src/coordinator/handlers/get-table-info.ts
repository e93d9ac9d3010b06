// GetTableInfo (API 1007, public): a table's id, schema id, descriptor and times.
//   GetTableInfoRequest  { table_path: PbTablePath }
//   GetTableInfoResponse { table_id: int64; schema_id: int32; table_json: bytes; created_time: int64;
//                          modified_time: int64; remote_data_dir?: string }

import { descriptorToJson, encodeJson } from "@fluss-ts/common";
import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf } from "./wire.ts";

export function getTableInfoHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_TABLE_INFO> {
  return async (req) => {
    const info = await c.getTableInfo(pathOf(req.tablePath));
    return {
      tableId: info.tableId,
      schemaId: info.schemaId,
      tableJson: encodeJson(descriptorToJson(info.descriptor)),
      createdTime: BigInt(info.createdTime),
      modifiedTime: BigInt(info.modifiedTime),
    };
  };
}
