// DropDatabase (API 1002, public): drop a database (with cascade, its tables and their data).
//   DropDatabaseRequest  { database_name: string; ignore_if_not_exists: bool; cascade: bool }
//   DropDatabaseResponse {}

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function dropDatabaseHandler(c: Coordinator): RequestHandler<typeof ApiKeys.DROP_DATABASE> {
  return async (req) => {
    await c.dropDatabase(req.databaseName, req.ignoreIfNotExists, req.cascade);
    return {};
  };
}
