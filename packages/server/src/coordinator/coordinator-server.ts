// The coordinator process role: a Coordinator over a metadata store, served on its own RPC port,
// reaching every tablet server through an RPC gateway (tablet-server-client.ts). Without ZooKeeper
// tablet servers register and heartbeat over RPC (heartbeat-registry.ts); the coordinator epoch is
// then a counter in the metadata store, bumped at every start, so a restarted coordinator fences
// the requests of its previous run.

import type { Clock, Scheduler } from "@fluss-ts/common";
import { systemScheduler } from "@fluss-ts/common";
import { RpcServer } from "@fluss-ts/rpc";
import type { ServerConfig } from "../config.ts";
import type { Logger } from "../logging.ts";
import type { MetadataStore } from "../metadata/metadata-store.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import { listenOrExplain } from "../util/listen.ts";
import { Coordinator, type KvBucketCapacity } from "./coordinator.ts";
import { registerCoordinatorHandlers } from "./handlers/index.ts";
import { HeartbeatRegistry } from "./heartbeat-registry.ts";
import { RpcTabletServerGateway } from "./tablet-server-client.ts";

/** Fluss creates this database at first start; tables named without a database land here. */
export const DEFAULT_DATABASE = "fluss";
/** The store counter behind the coordinator epoch when there is no ZooKeeper election. */
export const COORDINATOR_EPOCH_COUNTER = "coordinator-epoch";

export class CoordinatorServer {
  readonly coordinator: Coordinator;
  private readonly rpc: RpcServer;
  private readonly store: MetadataStore;
  private readonly registry: HeartbeatRegistry;

  private constructor(
    coordinator: Coordinator,
    rpc: RpcServer,
    store: MetadataStore,
    registry: HeartbeatRegistry,
  ) {
    this.coordinator = coordinator;
    this.rpc = rpc;
    this.store = store;
    this.registry = registry;
  }

  static async start(o: {
    config: ServerConfig;
    store: MetadataStore;
    clock: Clock;
    scheduler?: Scheduler;
    logger: Logger;
    /** Count this server's requests for /metrics (metrics.port set). */
    metrics?: ServerMetrics;
    /** Refuses primary-key buckets the tablet servers' open files cannot hold. */
    kvBucketCapacity?: KvBucketCapacity;
  }): Promise<CoordinatorServer> {
    const logger = o.logger.child({ server: "coordinator" });
    const c = o.config;
    const scheduler = o.scheduler ?? systemScheduler;
    await o.store.open();
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
      timers: scheduler,
      clock: o.clock,
    });
    o.metrics?.instrument(rpc, "coordinator");
    try {
      const addr = await listenOrExplain(rpc, "coordinator");
      const coordinatorEpoch = Number(await o.store.nextId(COORDINATOR_EPOCH_COUNTER));
      const coordinator = new Coordinator({
        store: o.store,
        clock: o.clock,
        scheduler,
        logger,
        node: { id: -1, host: addr.host, port: addr.port },
        coordinatorEpoch,
        defaultBucketNumber: c.defaultBucketNumber,
        defaultReplicationFactor: c.defaultReplicationFactor,
        bucketCountMax: c.bucketCountMax,
        partitionCountMax: c.partitionCountMax,
        autoPartitionCheckIntervalMs: c.autoPartitionCheckIntervalMs,
        ...(o.kvBucketCapacity ? { kvBucketCapacity: o.kvBucketCapacity } : {}),
      });
      const registry = new HeartbeatRegistry({
        membership: coordinator,
        connect: (node) => new RpcTabletServerGateway({ node, scheduler, logger }),
        clock: o.clock,
        scheduler,
        logger,
        heartbeatIntervalMs: c.tabletServerHeartbeatIntervalMs,
        sessionTimeoutMs: c.tabletServerSessionTimeoutMs,
      });
      registerCoordinatorHandlers(rpc, coordinator, registry);
      await coordinator.createDatabase(DEFAULT_DATABASE, true);
      registry.start();
      logger.info({ address: `${addr.host}:${addr.port}`, coordinatorEpoch }, "coordinator listening");
      return new CoordinatorServer(coordinator, rpc, o.store, registry);
    } catch (err) {
      await rpc.close().catch(() => undefined);
      await o.store.close();
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
    this.registry.stop();
    await this.coordinator.autoPartitions.stop();
    await this.rpc.close();
    this.coordinator.close();
    await this.store.close();
  }
}
