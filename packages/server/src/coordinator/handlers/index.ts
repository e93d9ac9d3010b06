// The coordinator's RPC handlers, one file per API (each opens with its wire shape): DDL, metadata
// and read-only admin for clients; registration, id ranges, ISR changes and controlled shutdown
// for tablet servers (private). Handlers are thin: decode, call the Coordinator, encode.

import { ApiKeys, type RpcServer } from "@fluss-ts/rpc";
import type { Coordinator } from "../coordinator.ts";
import type { HeartbeatRegistry } from "../heartbeat-registry.ts";
import { adjustIsrHandler } from "./adjust-isr.ts";
import { allocateIdRangeHandler } from "./allocate-id-range.ts";
import { controlledShutdownHandler } from "./controlled-shutdown.ts";
import { createDatabaseHandler } from "./create-database.ts";
import { createPartitionHandler } from "./create-partition.ts";
import { createTableHandler } from "./create-table.ts";
import { databaseExistsHandler } from "./database-exists.ts";
import { dropDatabaseHandler } from "./drop-database.ts";
import { dropPartitionHandler } from "./drop-partition.ts";
import { dropTableHandler } from "./drop-table.ts";
import { getClusterHealthHandler } from "./get-cluster-health.ts";
import { getClusterStatusHandler } from "./get-cluster-status.ts";
import { getDatabaseInfoHandler } from "./get-database-info.ts";
import { getFileSystemSecurityTokenHandler } from "./get-filesystem-security-token.ts";
import { getMetadataHandler } from "./get-metadata.ts";
import { getTableInfoHandler } from "./get-table-info.ts";
import { getTableSchemaHandler } from "./get-table-schema.ts";
import { initWriterHandler } from "./init-writer.ts";
import { listDatabasesHandler } from "./list-databases.ts";
import { listPartitionInfosHandler } from "./list-partition-infos.ts";
import { listTablesHandler } from "./list-tables.ts";
import { registerTabletServerHandler } from "./register-tablet-server.ts";
import { tableExistsHandler } from "./table-exists.ts";

/** Every API the coordinator serves; `registry` given: tablet servers register over RPC (no ZooKeeper). */
export function registerCoordinatorHandlers(
  server: RpcServer,
  c: Coordinator,
  registry?: HeartbeatRegistry,
): void {
  server.handle(ApiKeys.CREATE_DATABASE, createDatabaseHandler(c));
  server.handle(ApiKeys.DROP_DATABASE, dropDatabaseHandler(c));
  server.handle(ApiKeys.CREATE_TABLE, createTableHandler(c));
  server.handle(ApiKeys.DROP_TABLE, dropTableHandler(c));
  server.handle(ApiKeys.CREATE_PARTITION, createPartitionHandler(c));
  server.handle(ApiKeys.DROP_PARTITION, dropPartitionHandler(c));
  server.handle(ApiKeys.GET_METADATA, getMetadataHandler(c));
  server.handle(ApiKeys.LIST_PARTITION_INFOS, listPartitionInfosHandler(c));
  server.handle(ApiKeys.INIT_WRITER, initWriterHandler(c));
  server.handle(ApiKeys.LIST_DATABASES, listDatabasesHandler(c));
  server.handle(ApiKeys.DATABASE_EXISTS, databaseExistsHandler(c));
  server.handle(ApiKeys.GET_DATABASE_INFO, getDatabaseInfoHandler(c));
  server.handle(ApiKeys.LIST_TABLES, listTablesHandler(c));
  server.handle(ApiKeys.TABLE_EXISTS, tableExistsHandler(c));
  server.handle(ApiKeys.GET_TABLE_INFO, getTableInfoHandler(c));
  server.handle(ApiKeys.GET_TABLE_SCHEMA, getTableSchemaHandler(c));
  server.handle(ApiKeys.GET_FILESYSTEM_SECURITY_TOKEN, getFileSystemSecurityTokenHandler());
  server.handle(ApiKeys.GET_CLUSTER_HEALTH, getClusterHealthHandler(c));
  server.handle(ApiKeys.GET_CLUSTER_STATUS, getClusterStatusHandler(c));
  server.handle(ApiKeys.ALLOCATE_ID_RANGE, allocateIdRangeHandler(c));
  server.handle(ApiKeys.ADJUST_ISR, adjustIsrHandler(c));
  server.handle(ApiKeys.CONTROLLED_SHUTDOWN, controlledShutdownHandler(c));
  if (registry) {
    server.handle(
      ApiKeys.REGISTER_TABLET_SERVER,
      registerTabletServerHandler(registry, () => c.coordinatorEpoch),
    );
  }
}
