// DropTable (API 1006, public): drop a table with its partitions and data.
//   DropTableRequest  { table_path: PbTablePath; ignore_if_not_exists: bool }
//   DropTableResponse {}

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf } from "./wire.ts";

export function dropTableHandler(c: Coordinator): RequestHandler<typeof ApiKeys.DROP_TABLE> {
  return async (req) => {
    await c.dropTable(pathOf(req.tablePath), req.ignoreIfNotExists);
    return {};
  };
}
