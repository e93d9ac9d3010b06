// GetMetadata (API 1012, public): the cluster's servers and the routes of the tables and
// partitions asked for (a partition by physical path, i.e. table + name, or by id).
//   MetadataRequest  { table_path: [PbTablePath]; partitions_path: [PbPhysicalTablePath {
//                        database_name; table_name; partition_name? }]; partitions_id: [int64] }
//   MetadataResponse { coordinator_server?: PbServerNode { node_id: int32; host: string; port: int32;
//                        listeners?: string; rack?: string }; tablet_servers: [PbServerNode];
//                      table_metadata: [PbTableMetadata { table_path; table_id: int64;
//                        schema_id: int32; table_json: bytes; bucket_metadata: [PbBucketMetadata {
//                          bucket_id: int32; leader_id?: int32 (absent: no live leader);
//                          replica_id: [int32]; leader_epoch?: int32 }];
//                        created_time: int64; modified_time: int64; remote_data_dir?: string }];
//                      partition_metadata: [PbPartitionMetadata { table_id; partition_name;
//                        partition_id; bucket_metadata }] }
// A table's own routes leave out its partitions (asked for apart); a missing table is
// TABLE_NOT_EXIST, a missing partition PARTITION_NOT_EXISTS.

import { Errors, FlussError } from "@fluss-ts/common";
import {
  type ApiKeys,
  isFieldSet,
  type PbPartitionMetadata,
  type PbPhysicalTablePath,
  PbPhysicalTablePathSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { Coordinator, PartitionMetadata } from "../coordinator.ts";
import { nodePb, partitionMetadataPb, pathOf, tableMetadataPb } from "./wire.ts";

/** Partition routes asked for by physical path (table + partition name) and by partition id. */
async function partitionsMetadataPb(
  c: Coordinator,
  paths: readonly PbPhysicalTablePath[],
  ids: readonly bigint[],
): Promise<PbPartitionMetadata[]> {
  const out: PartitionMetadata[] = [];
  const seen = new Set<bigint>();
  for (const p of paths) {
    if (!isFieldSet(p, PbPhysicalTablePathSchema.field.partitionName)) {
      throw new FlussError(
        Errors.PARTITION_NOT_EXISTS,
        `physical table path ${p.databaseName}.${p.tableName} names no partition`,
      );
    }
    const path = { database: p.databaseName, table: p.tableName };
    out.push(...(await c.getPartitionMetadata({ path, names: [p.partitionName] })));
  }
  if (ids.length > 0) out.push(...(await c.getPartitionMetadata({ ids })));
  return out.filter((m) => !seen.has(m.partitionId) && seen.add(m.partitionId)).map(partitionMetadataPb);
}

export function getMetadataHandler(c: Coordinator): RequestHandler<typeof ApiKeys.GET_METADATA> {
  return async (req) => ({
    coordinatorServer: nodePb(c.node),
    tabletServers: c.tabletServers().map(nodePb),
    tableMetadata: await Promise.all(
      req.tablePath.map(async (p) => {
        const md = await c.getTableMetadata(pathOf(p), false);
        return tableMetadataPb(md.info, md.buckets);
      }),
    ),
    partitionMetadata: await partitionsMetadataPb(c, req.partitionsPath, req.partitionsId),
  });
}
