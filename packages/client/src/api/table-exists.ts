// TableExists (API 1010).
//   TableExistsRequest  { table_path: PbTablePath }
//   TableExistsResponse { exists: bool }

import type { TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function tableExists(rpc: RpcCaller, at: Address, path: TablePath): Promise<boolean> {
  return (await rpc.request(at, ApiKeys.TABLE_EXISTS, { tablePath: pbPath(path) })).exists;
}
