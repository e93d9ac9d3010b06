// ListPartitionInfos (API 1009, public): a table's partitions, optionally those matching a
// partial spec.
//   ListPartitionInfosRequest  { table_path: PbTablePath; partial_partition_spec?: PbPartitionSpec }
//   ListPartitionInfosResponse { partitions_info: [PbPartitionInfo { partition_id: int64;
//                                  partition_spec: PbPartitionSpec; remote_data_dir?: string }] }

import {
  type ApiKeys,
  isFieldSet,
  ListPartitionInfosRequestSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import { partitionInfoPb, pathOf, specOfPb } from "./wire.ts";

export function listPartitionInfosHandler(
  c: Coordinator,
): RequestHandler<typeof ApiKeys.LIST_PARTITION_INFOS> {
  return async (req) => {
    const partial = isFieldSet(req, ListPartitionInfosRequestSchema.field.partialPartitionSpec)
      ? specOfPb(req.partialPartitionSpec)
      : {};
    const partitions = await c.listPartitions(pathOf(req.tablePath), partial);
    return { partitionsInfo: partitions.map(partitionInfoPb) };
  };
}
