// TableExists (API 1010, public).
//   TableExistsRequest  { table_path: PbTablePath }
//   TableExistsResponse { exists: bool }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf } from "./wire.ts";

export function tableExistsHandler(c: Coordinator): RequestHandler<typeof ApiKeys.TABLE_EXISTS> {
  return async (req) => ({ exists: await c.tableExists(pathOf(req.tablePath)) });
}
