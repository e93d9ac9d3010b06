// ListPartitionInfos (API 1009): a table's partitions (those matching a partial spec, when given).
//   ListPartitionInfosRequest  { table_path: PbTablePath; partial_partition_spec?: PbPartitionSpec }
//   ListPartitionInfosResponse { partitions_info: [PbPartitionInfo { partition_id: int64;
//                                  partition_spec: PbPartitionSpec; remote_data_dir?: string }] }

import type { PartitionSpec, TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbSpec } from "./create-partition.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function listPartitionInfos(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  partialSpec?: PartitionSpec,
): Promise<Array<{ partitionId: bigint; spec: Record<string, string> }>> {
  const resp = await rpc.request(at, ApiKeys.LIST_PARTITION_INFOS, {
    tablePath: pbPath(path),
    ...(partialSpec ? { partialPartitionSpec: pbSpec(partialSpec) } : {}),
  });
  return resp.partitionsInfo.map((pi) => {
    const spec: Record<string, string> = {};
    for (const kv of pi.partitionSpec?.partitionKeyValues ?? []) spec[kv.key] = kv.value;
    return { partitionId: pi.partitionId, spec };
  });
}
