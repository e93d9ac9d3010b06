// CreateDatabase (API 1001), to the coordinator.
//   CreateDatabaseRequest  { database_name: string; ignore_if_exists: bool; database_json?: bytes }
//   CreateDatabaseResponse {}

import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export async function createDatabase(
  rpc: RpcCaller,
  at: Address,
  name: string,
  ignoreIfExists: boolean,
): Promise<void> {
  await rpc.request(at, ApiKeys.CREATE_DATABASE, { databaseName: name, ignoreIfExists });
}
