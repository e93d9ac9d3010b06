// CreateTable (API 1005), to the coordinator; answered once the table's replicas are open.
//   CreateTableRequest  { table_path: PbTablePath { database_name; table_name };
//                         table_json: bytes (Fluss table descriptor JSON); ignore_if_exists: bool }
//   CreateTableResponse {}

import { descriptorToJson, encodeJson, type TableDescriptor, type TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function createTable(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  descriptor: TableDescriptor,
  ignoreIfExists: boolean,
): Promise<void> {
  await rpc.request(at, ApiKeys.CREATE_TABLE, {
    tablePath: pbPath(path),
    tableJson: encodeJson(descriptorToJson(descriptor)),
    ignoreIfExists,
  });
}
