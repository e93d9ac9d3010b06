// DropTable (API 1006), to the coordinator.
//   DropTableRequest  { table_path: PbTablePath; ignore_if_not_exists: bool }
//   DropTableResponse {}

import type { TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function dropTable(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  ignoreIfNotExists: boolean,
): Promise<void> {
  await rpc.request(at, ApiKeys.DROP_TABLE, { tablePath: pbPath(path), ignoreIfNotExists });
}
