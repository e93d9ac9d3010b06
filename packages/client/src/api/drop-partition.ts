// DropPartition (API 1037), to the coordinator.
//   DropPartitionRequest  { table_path: PbTablePath; partition_spec: PbPartitionSpec;
//                           ignore_if_not_exists: bool }
//   DropPartitionResponse {}

import type { PartitionSpec, TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbSpec } from "./create-partition.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export async function dropPartition(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  spec: PartitionSpec,
  ignoreIfNotExists: boolean,
): Promise<void> {
  await rpc.request(at, ApiKeys.DROP_PARTITION, {
    tablePath: pbPath(path),
    partitionSpec: pbSpec(spec),
    ignoreIfNotExists,
  });
}
