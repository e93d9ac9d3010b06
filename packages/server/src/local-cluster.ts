// `fluss local`: a coordinator and N tablet servers in this process, metadata in a local file, no
// ZooKeeper. They talk over RPC on loopback exactly as separate processes do (one code path): each
// tablet server registers with the coordinator's address and heartbeats; the coordinator reaches
// each through an RPC gateway. The data directory is locked with an OS lock (data-dir-lock.ts: one cluster per
// directory, released by the kernel if the process dies); stop() flushes and closes everything so
// the next start needs no recovery scan. At start it reads the open files limit and splits it
// (open-files.ts): one bounded file cache for every tablet server's logs, a budget of
// primary-key buckets the coordinator enforces; the split is logged.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, type Scheduler, systemClock, systemScheduler } from "@fluss-ts/common";
import { FileCache } from "@fluss-ts/storage";
import { type ServerConfig, validateServerConfig } from "./config.ts";
import { CoordinatorServer } from "./coordinator/coordinator-server.ts";
import { DataDirLock } from "./data-dir-lock.ts";
import { type LakeTieringHandle, startLakeTiering } from "./lake-tiering.ts";
import type { Logger } from "./logging.ts";
import { LocalMetadataStore } from "./metadata/local-metadata-store.ts";
import type { HealthReport } from "./metrics/health.ts";
import { MetricsHttpServer } from "./metrics/metrics-http.ts";
import { ServerMetrics } from "./metrics/server-metrics.ts";
import { OpenFilesBudget } from "./open-files.ts";
import { TabletServer } from "./tablet/tablet-server.ts";

export interface LocalClusterOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  /** Every timer of the cluster (default: the process's). */
  scheduler?: Scheduler;
}

export class LocalCluster {
  readonly coordinator: CoordinatorServer;
  readonly tabletServers: readonly TabletServer[];
  private readonly lock: DataDirLock;
  private readonly metricsHttp: MetricsHttpServer | null;
  /** The lake tiering service, when datalake.format is set. */
  lake: LakeTieringHandle | null = null;

  private constructor(
    coordinator: CoordinatorServer,
    tabletServers: TabletServer[],
    lock: DataDirLock,
    metricsHttp: MetricsHttpServer | null,
  ) {
    this.coordinator = coordinator;
    this.tabletServers = tabletServers;
    this.lock = lock;
    this.metricsHttp = metricsHttp;
  }

  get bootstrap(): string {
    const n = this.coordinator.coordinator.node;
    return `${n.host}:${n.port}`;
  }

  get tabletServerAddresses(): string[] {
    return this.tabletServers.map((t) => `${t.node.host}:${t.node.port}`);
  }

  /** host:port of the Prometheus endpoint (/metrics), when metrics.port is set. */
  get metricsAddress(): string | undefined {
    return this.metricsHttp?.address;
  }

  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    validateServerConfig(o.config);
    const openFiles = OpenFilesBudget.measure({ ...o.config, servers: o.config.tabletServers + 1 });
    o.logger.info({ ...openFiles.plan }, openFiles.describe());
    // Connections past the reserve would take the descriptors storage counts on.
    const c = { ...o.config, rpcConnectionsMax: openFiles.plan.connectionsPerServerMax };
    const clock = o.clock ?? systemClock;
    const scheduler = o.scheduler ?? systemScheduler;
    await mkdir(c.dataDir, { recursive: true });
    const files = new FileCache({ openFilesMax: openFiles.plan.logOpenFilesMax });
    const lock = DataDirLock.acquire(c.dataDir);
    const started: TabletServer[] = [];
    let coordinator: CoordinatorServer | undefined;
    let metricsHttp: MetricsHttpServer | null = null;
    try {
      // metrics.port 0 (the default) = no endpoint and no instrumentation at all.
      const metrics = c.metricsPort === 0 ? undefined : new ServerMetrics();
      const store = new LocalMetadataStore(join(c.dataDir, "coordinator"));
      coordinator = await CoordinatorServer.start({
        config: c,
        store,
        clock,
        scheduler,
        logger: o.logger,
        kvBucketCapacity: openFiles,
        ...(metrics ? { metrics } : {}),
      });
      const coord = coordinator.coordinator.node;
      for (let i = 0; i < c.tabletServers; i++) {
        // Resolves once registered: the coordinator has told it its replicas and they are open.
        const ts = await TabletServer.start({
          id: i,
          port: c.tabletServerPort === 0 ? 0 : c.tabletServerPort + i,
          config: c,
          clock,
          scheduler,
          logger: o.logger,
          coordinator: () => coord,
          heartbeats: true,
          files,
          openFiles,
          ...(metrics ? { metrics } : {}),
        });
        started.push(ts);
      }
      if (metrics) {
        const health = (): HealthReport => {
          const missing = started.filter((t) => !t.link.registered).map((t) => t.node.id);
          const detail = `tablet servers not registered: ${missing.join(", ")}`;
          return {
            role: "local",
            serving: true,
            registered: !missing.length,
            ...(missing.length ? { detail } : {}),
          };
        };
        const { bindHost, metricsPort } = c;
        metricsHttp = await MetricsHttpServer.start(
          metrics.registry,
          bindHost,
          metricsPort,
          o.logger,
          health,
        );
      }
      coordinator.startAutoPartitioning();
      const cluster = new LocalCluster(coordinator, started, lock, metricsHttp);
      if (c.datalakeFormat !== null) cluster.lake = await startLakeTiering(c, cluster.bootstrap, o.logger);
      return cluster;
    } catch (err) {
      await metricsHttp?.close();
      for (const ts of started) await ts.stop().catch(() => undefined);
      await coordinator?.stop().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  /**
   * Stop everything, each part even when an earlier one failed (one bad tablet server must not
   * leave the others unflushed or the directory locked); throws the first failure at the end.
   */
  async stop(): Promise<void> {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<void> | void): Promise<void> => {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    };
    await attempt(() => this.lake?.stop());
    await attempt(() => this.metricsHttp?.close());
    for (const ts of this.tabletServers) await attempt(() => ts.stop());
    await attempt(() => this.coordinator.stop());
    this.lock.release();
    if (failures.length > 0) throw failures[0];
  }
}
