// DatabaseExists (API 1004, public).
//   DatabaseExistsRequest  { database_name: string }
//   DatabaseExistsResponse { exists: bool }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function databaseExistsHandler(c: Coordinator): RequestHandler<typeof ApiKeys.DATABASE_EXISTS> {
  return async (req) => ({ exists: await c.databaseExists(req.databaseName) });
}
