// Public entry of @fluss-ts/server: the local cluster, server roles, config and logging.
export * from "./config.ts";
export { Coordinator } from "./coordinator/coordinator.ts";
export { CoordinatorServer, DEFAULT_DATABASE } from "./coordinator/coordinator-server.ts";
export { LocalCluster, type LocalClusterOptions } from "./local-cluster.ts";
export { createLogger, type Logger, silentLogger } from "./logging.ts";
export { LocalMetadataStore } from "./metadata/local-metadata-store.ts";
export type { MetadataStore } from "./metadata/metadata-store.ts";
export { TabletServer } from "./tablet/tablet-server.ts";
