// ListDatabases (API 1003, public): every database, by name.
//   ListDatabasesRequest  { include_summary?: bool }
//   ListDatabasesResponse { database_name: [string]; database_summary: [PbDatabaseSummary] }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function listDatabasesHandler(c: Coordinator): RequestHandler<typeof ApiKeys.LIST_DATABASES> {
  return async () => ({ databaseName: (await c.listDatabases()).map((d) => d.name) });
}
