// The client side of every RPC the SDK sends, one file per API (request building and response
// mapping, the wire shape in each file's opening comment). Internal to the SDK.

export { createDatabase } from "./create-database.ts";
export { createPartition, pbSpec } from "./create-partition.ts";
export { createTable } from "./create-table.ts";
export { databaseExists } from "./database-exists.ts";
export { dropDatabase } from "./drop-database.ts";
export { dropPartition } from "./drop-partition.ts";
export { dropTable } from "./drop-table.ts";
export { fetchLog } from "./fetch-log.ts";
export { getClusterHealth, getClusterStatus } from "./get-cluster-status.ts";
export { getMetadata, type MetadataResponse } from "./get-metadata.ts";
export { getTableInfo, tableInfoFromPb } from "./get-table-info.ts";
export { getTableSchema } from "./get-table-schema.ts";
export { initWriter } from "./init-writer.ts";
export { listDatabases } from "./list-databases.ts";
export { listOffsets, OFFSET_TYPE } from "./list-offsets.ts";
export { listPartitionInfos } from "./list-partition-infos.ts";
export { listTables } from "./list-tables.ts";
export { lookup } from "./lookup.ts";
export { prefixLookup } from "./prefix-lookup.ts";
export { type BucketBatch, produceLog } from "./produce-log.ts";
export { putKv } from "./put-kv.ts";
export { partitionField, pbPath, type RpcCaller } from "./rpc.ts";
export { type ScanKvCall, type ScanKvPage, scanKv } from "./scan-kv.ts";
export { tableExists } from "./table-exists.ts";
