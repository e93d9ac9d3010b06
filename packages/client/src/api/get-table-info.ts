// GetTableInfo (API 1007): a table's id, schema id, descriptor and times, as a TableInfo.
//   GetTableInfoRequest  { table_path: PbTablePath }
//   GetTableInfoResponse { table_id: int64; schema_id: int32; table_json: bytes; created_time: int64;
//                          modified_time: int64; remote_data_dir?: string }

import { decodeJson, descriptorFromJson, type TableInfo, type TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

/** A TableInfo from the fields Fluss sends it in (GetTableInfo and GetMetadata's table metadata). */
export function tableInfoFromPb(
  path: TablePath,
  tableId: bigint,
  schemaId: number,
  tableJson: Uint8Array,
  createdTime: bigint,
  modifiedTime: bigint,
): TableInfo {
  const descriptor = descriptorFromJson(decodeJson(tableJson));
  return {
    path,
    tableId,
    schemaId,
    descriptor,
    bucketCount: descriptor.bucketCount ?? 1,
    createdTime: Number(createdTime),
    modifiedTime: Number(modifiedTime),
  };
}

export async function getTableInfo(rpc: RpcCaller, at: Address, path: TablePath): Promise<TableInfo> {
  const r = await rpc.request(at, ApiKeys.GET_TABLE_INFO, { tablePath: pbPath(path) });
  return tableInfoFromPb(path, r.tableId, r.schemaId, r.tableJson, r.createdTime, r.modifiedTime);
}
