// ListTables (API 1008).
//   ListTablesRequest  { database_name: string }
//   ListTablesResponse { table_name: [string] }

import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export async function listTables(rpc: RpcCaller, at: Address, database: string): Promise<string[]> {
  return (await rpc.request(at, ApiKeys.LIST_TABLES, { databaseName: database })).tableName;
}
