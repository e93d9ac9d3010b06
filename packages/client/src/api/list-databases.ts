// ListDatabases (API 1003).
//   ListDatabasesRequest  { include_summary?: bool }
//   ListDatabasesResponse { database_name: [string]; database_summary: [PbDatabaseSummary] }

import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export async function listDatabases(rpc: RpcCaller, at: Address): Promise<string[]> {
  return (await rpc.request(at, ApiKeys.LIST_DATABASES, {})).databaseName;
}
