// CreatePartition (API 1036, public): create a partition of a partitioned table.
//   CreatePartitionRequest  { table_path: PbTablePath; partition_spec: PbPartitionSpec {
//                               partition_key_values: [PbKeyValue { key: string; value: string }] };
//                             ignore_if_not_exists: bool (Fluss's name; it means "ignore if it exists") }
//   CreatePartitionResponse {}

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { pathOf, specOfPb } from "./wire.ts";

export function createPartitionHandler(c: Coordinator): RequestHandler<typeof ApiKeys.CREATE_PARTITION> {
  return async (req) => {
    await c.createPartition(pathOf(req.tablePath), specOfPb(req.partitionSpec), req.ignoreIfNotExists);
    return {};
  };
}
