// DropPartition (API 1037, public): drop a partition and its data.
//   DropPartitionRequest  { table_path: PbTablePath; partition_spec: PbPartitionSpec;
//                           ignore_if_not_exists: bool }
//   DropPartitionResponse {}

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf, specOfPb } from "./wire.ts";

export function dropPartitionHandler(c: Coordinator): RequestHandler<typeof ApiKeys.DROP_PARTITION> {
  return async (req) => {
    await c.dropPartition(pathOf(req.tablePath), specOfPb(req.partitionSpec), req.ignoreIfNotExists);
    return {};
  };
}
