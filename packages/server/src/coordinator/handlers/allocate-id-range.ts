// AllocateIdRange (API 9001, private, fluss-ts only): a tablet server reserves `count`
// auto-increment ids of a table column while opening a primary-key replica (Fluss's servers take
// them from a ZooKeeper counter). Not queued behind other coordinator work (see coordinator.ts).
//   AllocateIdRangeRequest  { table_id: int64; column_name: string; count: int32 }
//   AllocateIdRangeResponse { first_id: int64 }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";

export function allocateIdRangeHandler(c: Coordinator): RequestHandler<typeof ApiKeys.ALLOCATE_ID_RANGE> {
  return async (req) => ({ firstId: await c.allocateIdRange(req.tableId, req.columnName, req.count) });
}
