// Public entry of @fluss-ts/server: the local cluster, server roles, config and logging.
export * from "./config.ts";
export { loadServerConfigFile, parseServerConfigYaml } from "./config-file.ts";
export { Coordinator } from "./coordinator/coordinator.ts";
export { CoordinatorServer, DEFAULT_DATABASE } from "./coordinator/coordinator-server.ts";
export { type Listener, parseListeners } from "./listeners.ts";
export { LocalCluster, type LocalClusterOptions } from "./local-cluster.ts";
export { createLogger, type Logger, silentLogger } from "./logging.ts";
export { LocalMetadataStore } from "./metadata/local-metadata-store.ts";
export type { MetadataStore } from "./metadata/metadata-store.ts";
export {
  bindAddressOf,
  type ServerProcess,
  type ServerProcessOptions,
  startCoordinatorProcess,
  startTabletServerProcess,
} from "./server-process.ts";
export { TabletServer } from "./tablet/tablet-server.ts";
