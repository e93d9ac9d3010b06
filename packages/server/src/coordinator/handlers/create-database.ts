// CreateDatabase (API 1001, public): create a database.
//   CreateDatabaseRequest  { database_name: string; ignore_if_exists: bool; database_json?: bytes
//                            (Fluss database descriptor JSON: comment, custom properties) }
//   CreateDatabaseResponse {}

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { flussDatabaseJson } from "../database-json.ts";

export function createDatabaseHandler(c: Coordinator): RequestHandler<typeof ApiKeys.CREATE_DATABASE> {
  return async (req) => {
    const json = JSON.stringify(flussDatabaseJson(new TextDecoder().decode(req.databaseJson)));
    await c.createDatabase(req.databaseName, req.ignoreIfExists, json);
    return {};
  };
}
