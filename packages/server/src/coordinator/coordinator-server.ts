// The coordinator process role: a Coordinator over a metadata store, served on its own RPC port.

import type { Clock } from "@fluss-ts/common";
import { RpcServer } from "@fluss-ts/rpc";
import type { ServerConfig } from "../config.ts";
import type { Logger } from "../logging.ts";
import type { MetadataStore } from "../metadata/metadata-store.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import { listenOrExplain } from "../util/listen.ts";
import { Coordinator, type KvBucketCapacity } from "./coordinator.ts";
import { registerCoordinatorService, registerMetadataService } from "./coordinator-service.ts";

/** Fluss creates this database at first start; tables named without a database land here. */
export const DEFAULT_DATABASE = "fluss";

export class CoordinatorServer {
  readonly coordinator: Coordinator;
  private readonly rpc: RpcServer;
  private readonly store: MetadataStore;

  private constructor(coordinator: Coordinator, rpc: RpcServer, store: MetadataStore) {
    this.coordinator = coordinator;
    this.rpc = rpc;
    this.store = store;
  }

  static async start(o: {
    config: ServerConfig;
    store: MetadataStore;
    clock: Clock;
    logger: Logger;
    /** Count this server's requests for /metrics (metrics.port set). */
    metrics?: ServerMetrics;
    /** Refuses primary-key buckets the tablet servers' open files cannot hold. */
    kvBucketCapacity?: KvBucketCapacity;
  }): Promise<CoordinatorServer> {
    const logger = o.logger.child({ server: "coordinator" });
    const c = o.config;
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
    });
    o.metrics?.instrument(rpc, "coordinator");
    let coordinator: Coordinator | undefined;
    try {
      const addr = await listenOrExplain(rpc, "coordinator");
      coordinator = new Coordinator({
        store: o.store,
        clock: o.clock,
        logger,
        node: { id: -1, host: addr.host, port: addr.port },
        defaultBucketNumber: c.defaultBucketNumber,
        defaultReplicationFactor: c.defaultReplicationFactor,
        bucketCountMax: c.bucketCountMax,
        partitionCountMax: c.partitionCountMax,
        autoPartitionCheckIntervalMs: c.autoPartitionCheckIntervalMs,
        ...(o.kvBucketCapacity ? { kvBucketCapacity: o.kvBucketCapacity } : {}),
      });
      registerCoordinatorService(rpc, coordinator);
      registerMetadataService(rpc, coordinator);
      await coordinator.createDatabase(DEFAULT_DATABASE, true);
      logger.info({ address: `${addr.host}:${addr.port}` }, "coordinator listening");
    } catch (err) {
      await rpc.close().catch(() => undefined);
      await o.store.close();
      throw err;
    }
    return new CoordinatorServer(coordinator, rpc, o.store);
  }

  /**
   * Start automatic partitioning: a pass now, then every auto-partition.check.interval. Call once
   * tablet servers have registered (partitions need live servers for their buckets).
   */
  startAutoPartitioning(): void {
    this.coordinator.autoPartitions.start();
  }

  async stop(): Promise<void> {
    await this.coordinator.autoPartitions.stop();
    await this.rpc.close();
    await this.store.close();
  }
}
