// GetMetadata (API 1012), to any server: the servers of the cluster and the routes of tables and
// partitions (a partition by table path + name, or by id).
//   MetadataRequest  { table_path: [PbTablePath]; partitions_path: [PbPhysicalTablePath {
//                        database_name; table_name; partition_name? }]; partitions_id: [int64] }
//   MetadataResponse { coordinator_server?: PbServerNode; tablet_servers: [PbServerNode];
//                      table_metadata: [PbTableMetadata]; partition_metadata: [PbPartitionMetadata] }

import type { TablePath } from "@fluss-ts/common";
import { ApiKeys, type RespOf } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { pbPath, type RpcCaller } from "./rpc.ts";

export type MetadataResponse = RespOf<typeof ApiKeys.GET_METADATA>;

export function getMetadata(
  rpc: RpcCaller,
  at: Address,
  paths: readonly TablePath[],
  partitions: { paths?: ReadonlyArray<TablePath & { partition: string }>; ids?: readonly bigint[] } = {},
): Promise<MetadataResponse> {
  return rpc.request(at, ApiKeys.GET_METADATA, {
    tablePath: paths.map(pbPath),
    partitionsPath: (partitions.paths ?? []).map((p) => ({ ...pbPath(p), partitionName: p.partition })),
    partitionsId: [...(partitions.ids ?? [])],
  });
}
