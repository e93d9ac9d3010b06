// ListTables (API 1008, public): the tables of a database, by name.
//   ListTablesRequest  { database_name: string }
//   ListTablesResponse { table_name: [string] }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function listTablesHandler(c: Coordinator): RequestHandler<typeof ApiKeys.LIST_TABLES> {
  return async (req) => ({ tableName: await c.listTables(req.databaseName) });
}
