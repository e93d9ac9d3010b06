// DatabaseExists (API 1004).
//   DatabaseExistsRequest  { database_name: string }
//   DatabaseExistsResponse { exists: bool }

import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export async function databaseExists(rpc: RpcCaller, at: Address, name: string): Promise<boolean> {
  return (await rpc.request(at, ApiKeys.DATABASE_EXISTS, { databaseName: name })).exists;
}
