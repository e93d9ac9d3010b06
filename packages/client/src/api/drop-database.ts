// DropDatabase (API 1002), to the coordinator.
//   DropDatabaseRequest  { database_name: string; ignore_if_not_exists: bool; cascade: bool }
//   DropDatabaseResponse {}

import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export async function dropDatabase(
  rpc: RpcCaller,
  at: Address,
  name: string,
  o: { ignoreIfNotExists: boolean; cascade: boolean },
): Promise<void> {
  await rpc.request(at, ApiKeys.DROP_DATABASE, { databaseName: name, ...o });
}
