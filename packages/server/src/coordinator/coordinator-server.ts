// The coordinator process role: a Coordinator over a metadata store, served on its own RPC port,
// reaching every tablet server through an RPC gateway (tablet-server-client.ts). It starts in two
// steps: `bind` (the listener, so its address is known — a standby publishes it in the election)
// and `activate` (the coordinator itself, once this process is the active one). Tablet servers
// come and go either through a server registry (ZooKeeper: its watch feeds joins and leaves) or,
// without ZooKeeper, by registering and heartbeating over RPC (heartbeat-registry.ts); then the
// coordinator epoch is a counter in the metadata store, bumped at every start, so a restarted
// coordinator fences the requests of its previous run.

import type { Clock, Scheduler } from "@fluss-ts/common";
import { systemScheduler } from "@fluss-ts/common";
import { type BoundAddress, RpcServer } from "@fluss-ts/rpc";
import type { ServerConfig } from "../config.ts";
import { internalListener } from "../listeners.ts";
import type { Logger } from "../logging.ts";
import type { MetadataStore } from "../metadata/metadata-store.ts";
import type { ServerRegistry, TabletServerWatch } from "../metadata/server-registry.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import { listenOrExplain } from "../util/listen.ts";
import { clusterCounts } from "./cluster-status.ts";
import { Coordinator, type KvBucketCapacity } from "./coordinator.ts";
import { registerCoordinatorHandlers } from "./handlers/index.ts";
import { HeartbeatRegistry } from "./heartbeat-registry.ts";
import { RpcTabletServerGateway } from "./tablet-server-client.ts";

/** Fluss creates this database at first start; tables named without a database land here. */
export const DEFAULT_DATABASE = "fluss";
/** The store counter behind the coordinator epoch when there is no ZooKeeper election. */
export const COORDINATOR_EPOCH_COUNTER = "coordinator-epoch";

interface BindOptions {
  config: ServerConfig;
  clock: Clock;
  scheduler?: Scheduler;
  logger: Logger;
  /** Count this server's requests for /metrics (metrics.port set). */
  metrics?: ServerMetrics;
}

interface ActivateOptions {
  store: MetadataStore;
  /** The epoch the election gave; absent: the store's counter, bumped now. */
  coordinatorEpoch?: number;
  /** Tablet servers from this registry's watch; absent: they register over RPC (heartbeats). */
  registry?: ServerRegistry;
  /** Refuses primary-key buckets the tablet servers' open files cannot hold. */
  kvBucketCapacity?: KvBucketCapacity;
}

/** A coordinator's listener, bound and not yet serving (a standby). */
export class BoundCoordinator {
  readonly address: BoundAddress;
  private readonly o: BindOptions;
  private readonly rpc: RpcServer;

  constructor(o: BindOptions, rpc: RpcServer, address: BoundAddress) {
    this.o = o;
    this.rpc = rpc;
    this.address = address;
  }

  /** Become the active coordinator over `store`. On failure the store is closed, the listener kept. */
  async activate(a: ActivateOptions): Promise<CoordinatorServer> {
    const { config: c, logger } = this.o;
    const scheduler = this.o.scheduler ?? systemScheduler;
    await a.store.open();
    let watch: TabletServerWatch | null = null;
    let registry: HeartbeatRegistry | null = null;
    try {
      const coordinatorEpoch = a.coordinatorEpoch ?? Number(await a.store.nextId(COORDINATOR_EPOCH_COUNTER));
      const coordinator = new Coordinator({
        store: a.store,
        clock: this.o.clock,
        scheduler,
        logger,
        node: { id: -1, host: this.address.host, port: this.address.port },
        coordinatorEpoch,
        defaultBucketNumber: c.defaultBucketNumber,
        defaultReplicationFactor: c.defaultReplicationFactor,
        bucketCountMax: c.bucketCountMax,
        partitionCountMax: c.partitionCountMax,
        autoPartitionCheckIntervalMs: c.autoPartitionCheckIntervalMs,
        ...(a.kvBucketCapacity ? { kvBucketCapacity: a.kvBucketCapacity } : {}),
      });
      const connect = (node: { id: number; host: string; port: number }) =>
        new RpcTabletServerGateway({ node, scheduler, logger });
      if (!a.registry) {
        registry = new HeartbeatRegistry({
          membership: coordinator,
          connect,
          clock: this.o.clock,
          scheduler,
          logger,
          heartbeatIntervalMs: c.tabletServerHeartbeatIntervalMs,
          sessionTimeoutMs: c.tabletServerSessionTimeoutMs,
        });
      }
      registerCoordinatorHandlers(this.rpc, coordinator, registry ?? undefined);
      this.o.metrics?.replication.watchCluster(() => clusterCounts(coordinator));
      await coordinator.createDatabase(DEFAULT_DATABASE, true);
      if (a.registry) watch = await watchRegistry(a.registry, coordinator, connect, c, logger);
      registry?.start();
      // Servers the records name that do not join within a session died while no coordinator watched.
      coordinator.takeAbsentServersOfflineAfter(
        a.registry ? c.zookeeperSessionTimeoutMs : c.tabletServerSessionTimeoutMs,
      );
      logger.info(
        { address: `${this.address.host}:${this.address.port}`, coordinatorEpoch },
        "coordinator active",
      );
      return new CoordinatorServer(coordinator, this.rpc, a.store, registry, watch);
    } catch (err) {
      registry?.stop();
      watch?.close();
      await a.store.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.rpc.close();
  }
}

/** Feed the registry's joins and leaves to the coordinator (the first events: every live server). */
function watchRegistry(
  registry: ServerRegistry,
  coordinator: Coordinator,
  connect: (node: { id: number; host: string; port: number }) => RpcTabletServerGateway,
  c: ServerConfig,
  logger: Logger,
): Promise<TabletServerWatch> {
  return registry.watchTabletServers((e) => {
    if (e.kind === "left") {
      void coordinator.unregisterTabletServer(e.server.id);
      return;
    }
    const endpoints = e.server.endpoints.map((p) => ({
      name: p.listener.toUpperCase(),
      host: p.host,
      port: p.port,
    }));
    let node: { id: number; host: string; port: number };
    try {
      const l = internalListener(endpoints, c.internalListenerName);
      node = { id: e.server.id, host: l.host, port: l.port };
    } catch (err) {
      logger.error({ err, server: e.server.id }, "a tablet server registered without a usable listener");
      return;
    }
    coordinator.registerTabletServer(connect(node)).catch((err: unknown) => {
      logger.error({ err, server: node }, "telling a joining tablet server its replicas failed");
    });
  });
}

export class CoordinatorServer {
  readonly coordinator: Coordinator;
  private readonly rpc: RpcServer;
  private readonly store: MetadataStore;
  private readonly registry: HeartbeatRegistry | null;
  private readonly watch: TabletServerWatch | null;

  constructor(
    coordinator: Coordinator,
    rpc: RpcServer,
    store: MetadataStore,
    registry: HeartbeatRegistry | null,
    watch: TabletServerWatch | null,
  ) {
    this.coordinator = coordinator;
    this.rpc = rpc;
    this.store = store;
    this.registry = registry;
    this.watch = watch;
  }

  /** Bind the coordinator's listener (not serving yet). */
  static async bind(o: BindOptions): Promise<BoundCoordinator> {
    const logger = o.logger.child({ server: "coordinator" });
    const c = o.config;
    const rpc = new RpcServer({
      host: c.bindHost,
      port: c.coordinatorPort,
      serverType: 1,
      connectionsMax: c.rpcConnectionsMax,
      requestsInFlightMax: c.rpcRequestsInFlightPerConnectionMax,
      frameBytesMax: c.rpcFrameBytesMax,
      requestBufferBytesMax: c.rpcRequestBufferBytesMax,
      requestReadTimeoutMs: c.rpcRequestReadTimeoutMs,
      connectionIdleMsMax: c.connectionIdleMsMax,
      logger,
      timers: o.scheduler ?? systemScheduler,
      clock: o.clock,
    });
    o.metrics?.instrument(rpc, "coordinator");
    const address = await listenOrExplain(rpc, "coordinator");
    logger.info({ address: `${address.host}:${address.port}` }, "coordinator listening");
    return new BoundCoordinator({ ...o, logger }, rpc, address);
  }

  /** Bind and activate at once (a cluster without ZooKeeper: this is the only coordinator). */
  static async start(o: BindOptions & ActivateOptions): Promise<CoordinatorServer> {
    const bound = await CoordinatorServer.bind(o);
    try {
      return await bound.activate(o);
    } catch (err) {
      await bound.close().catch(() => undefined);
      throw err;
    }
  }

  /** host:port clients and tablet servers reach this coordinator at. */
  get address(): string {
    return `${this.coordinator.node.host}:${this.coordinator.node.port}`;
  }

  /**
   * Start automatic partitioning: a pass now, then every auto-partition.check.interval. Call once
   * tablet servers have registered (partitions need live servers for their buckets).
   */
  startAutoPartitioning(): void {
    this.coordinator.autoPartitions.start();
  }

  async stop(): Promise<void> {
    this.registry?.stop();
    this.watch?.close();
    await this.coordinator.autoPartitions.stop();
    await this.rpc.close();
    this.coordinator.close();
    await this.store.close();
  }
}
