// CreatePartition (API 1036), to the coordinator.
//   CreatePartitionRequest  { table_path: PbTablePath; partition_spec: PbPartitionSpec {
//                               partition_key_values: [PbKeyValue { key; value }] };
//                             ignore_if_not_exists: bool (Fluss's name; means "ignore if it exists") }
//   CreatePartitionResponse {}

import type { PartitionSpec, TablePath } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export function pbSpec(spec: PartitionSpec): { partitionKeyValues: Array<{ key: string; value: string }> } {
  return { partitionKeyValues: Object.entries(spec).map(([key, value]) => ({ key, value: String(value) })) };
}

export async function createPartition(
  rpc: RpcCaller,
  at: Address,
  path: TablePath,
  spec: PartitionSpec,
  ignoreIfExists: boolean,
): Promise<void> {
  await rpc.request(at, ApiKeys.CREATE_PARTITION, {
    tablePath: pbPath(path),
    partitionSpec: pbSpec(spec),
    ignoreIfNotExists: ignoreIfExists,
  });
}
