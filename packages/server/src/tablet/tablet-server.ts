// A tablet server: an RPC endpoint over its replicas. Lifecycle in ReplicaManager, writes in
// ReplicaWrites, the fetch long poll in FetchEngine (a purgatory of delayed fetches), offsets in
// Offsets, periodic work in TabletTasks; replication: follower fetches answered by FollowerFetches,
// followed buckets run by ReplicaFetchers, ISR changes sent by IsrProposals (with the periodic lag
// check); the handlers (handlers/, one file per API) translate protobuf to these. It talks to the coordinator only over RPC — in `fluss local` too: the
// coordinator's UpdateMetadata / NotifyLeaderAndIsr / StopReplica come in through its handlers
// (fenced by coordinator epoch), and it reaches the active coordinator through a CoordinatorLink
// (registration and heartbeats without ZooKeeper, id ranges, controlled shutdown, forwarded admin
// reads). Every timer runs on the injected Scheduler.
// Start order: listen, then register (the coordinator then tells it its replicas, so once `start`
// resolves they are open); stop order: controlled shutdown (leadership moves to other in-sync
// replicas first; retried `tablet-server.controlled-shutdown.max-retries` times when it fails),
// stop heartbeats, stop serving, close replicas (flushing them).

import { join } from "node:path";
import { type Clock, type Scheduler, systemScheduler } from "@fluss-ts/common";
import { ApiKeys, RpcServer } from "@fluss-ts/rpc";
import type { FileCache } from "@fluss-ts/storage";
import type { ServerConfig } from "../config.ts";
import type { ServerNode } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import type { OpenFilesBudget } from "../open-files.ts";
import { listenOrExplain } from "../util/listen.ts";
import { TIMED_OUT, within } from "../util/within.ts";
import { CoordinatorFence } from "./coordinator-fence.ts";
import { type CoordinatorAddress, CoordinatorLink } from "./coordinator-link.ts";
import { DELAYED_FETCHES_MAX, FetchEngine } from "./delayed-fetch.ts";
import { DelayedOperationManager } from "./delayed-operations.ts";
import { DELAYED_FOLLOWER_FETCHES_MAX, FollowerFetches } from "./follower-fetches.ts";
import { registerControlHandlers, registerTabletHandlers } from "./handlers/index.ts";
import { IsrProposals } from "./isr-proposals.ts";
import { KvScanners } from "./kv-scanners.ts";
import { LogReader } from "./log-reader.ts";
import { TabletMetadataCache } from "./metadata-cache.ts";
import { Offsets } from "./offsets.ts";
import { ReadBufferPool } from "./read-buffers.ts";
import { createRemoteLogManager } from "./remote-log-manager.ts";
import { ReplicaFetchers } from "./replica-fetchers.ts";
import { ReplicaManager } from "./replica-manager.ts";
import { ReplicaWrites } from "./replica-writes.ts";
import { TabletTasks } from "./tablet-tasks.ts";

export interface TabletServerOptions {
  id: number;
  /** Port to listen on (0: a free one). */
  port: number;
  config: ServerConfig;
  clock: Clock;
  /** Every timer of the server (default: the process's). */
  scheduler?: Scheduler;
  logger: Logger;
  /** Where the active coordinator is (given in a cluster without ZooKeeper; else from ZooKeeper). */
  coordinator: () => CoordinatorAddress | null;
  /** Register and heartbeat over RPC (true without a ZooKeeper registry). */
  heartbeats: boolean;
  /** Count this server's requests and read its buckets for /metrics (metrics.port set). */
  metrics?: ServerMetrics;
  /** The bounded cache of open files the log tablets share (shared by the process's tablet servers). */
  files?: FileCache;
  /** The process's open-files budget for primary-key buckets' stores. */
  openFiles?: OpenFilesBudget;
}

/** How long a stopping server waits for one answer to its controlled shutdown. */
const CONTROLLED_SHUTDOWN_WAIT_MS = 10_000;
/** Time a request to the coordinator may take (registration waits for replicas to open). */
const COORDINATOR_REQUEST_TIMEOUT_MS = 120_000;

interface Parts {
  replicas: ReplicaManager;
  writes: ReplicaWrites;
  fetches: FetchEngine;
  followerFetches: FollowerFetches;
  isr: IsrProposals;
  offsets: Offsets;
  scanners: KvScanners;
  tasks: TabletTasks;
  cache: TabletMetadataCache;
  link: CoordinatorLink;
}

export class TabletServer {
  readonly node: ServerNode;
  readonly replicas: ReplicaManager;
  readonly writes: ReplicaWrites;
  readonly fetches: FetchEngine;
  readonly followerFetches: FollowerFetches;
  readonly isr: IsrProposals;
  readonly offsets: Offsets;
  readonly scanners: KvScanners;
  readonly tasks: TabletTasks;
  readonly cache: TabletMetadataCache;
  readonly link: CoordinatorLink;
  private readonly rpc: RpcServer;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly config: ServerConfig;
  private stopping: Promise<void> | undefined;

  private constructor(
    node: ServerNode,
    p: Parts,
    rpc: RpcServer,
    scheduler: Scheduler,
    logger: Logger,
    config: ServerConfig,
  ) {
    this.node = node;
    this.replicas = p.replicas;
    this.writes = p.writes;
    this.fetches = p.fetches;
    this.followerFetches = p.followerFetches;
    this.isr = p.isr;
    this.config = config;
    this.offsets = p.offsets;
    this.scanners = p.scanners;
    this.tasks = p.tasks;
    this.cache = p.cache;
    this.link = p.link;
    this.rpc = rpc;
    this.scheduler = scheduler;
    this.logger = logger;
  }

  static async start(o: TabletServerOptions): Promise<TabletServer> {
    const logger = o.logger.child({ server: `tablet-${o.id}` });
    const c = o.config;
    const scheduler = o.scheduler ?? systemScheduler;
    const rpc = new RpcServer({
      host: c.bindHost,
      port: o.port,
      serverType: 2,
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
    const addr = await listenOrExplain(rpc, `tablet server ${o.id}`);
    const node = { id: o.id, host: addr.host, port: addr.port };
    const p = TabletServer.parts(o, node, scheduler, logger);
    const storageDir = join(c.dataDir, `tablet-server-${o.id}`);
    o.metrics?.instrument(rpc, `tablet-${o.id}`, () => p.offsets.bucketOffsets(), storageDir);
    registerTabletHandlers(rpc, { ...p, readBuffers: new ReadBufferPool() });
    registerControlHandlers(rpc, { ...p, fence: new CoordinatorFence(logger) });
    const ts = new TabletServer(node, p, rpc, scheduler, logger, c);
    try {
      await p.link.start();
    } catch (err) {
      await ts.close();
      throw err;
    }
    p.scanners.startExpiry();
    p.isr.startShrinkChecks(() => p.replicas.all(), c.replicaMaxLagTimeMs / 2);
    p.tasks.startRetention(c.logRetentionCheckIntervalMs);
    p.tasks.startKvSnapshots(c.kvSnapshotIntervalMs);
    p.replicas.startRemoteLogTiering();
    logger.info({ address: `${addr.host}:${addr.port}` }, "tablet server listening");
    return ts;
  }

  private static parts(
    o: TabletServerOptions,
    node: ServerNode,
    scheduler: Scheduler,
    logger: Logger,
  ): Parts {
    const c = o.config;
    const cache = new TabletMetadataCache();
    const link = new CoordinatorLink({
      node,
      // The coordinator that last sent metadata is the active one (its epoch passed the fence);
      // before any, the configured or discovered address.
      coordinator: () => cache.coordinator ?? o.coordinator(),
      heartbeats: o.heartbeats,
      incarnation: BigInt(o.clock.nowMs()) * 1000n + BigInt(Math.floor(Math.random() * 1000)),
      scheduler,
      logger,
      requestTimeoutMs: COORDINATOR_REQUEST_TIMEOUT_MS,
    });
    const fetchers = new ReplicaFetchers({
      serverId: o.id,
      serverNode: (id) => cache.server(id),
      clock: o.clock,
      scheduler,
      logger,
      fetchWaitMaxMs: c.replicaFetchWaitMaxMs,
      fetchMinBytes: c.replicaFetchMinBytes,
      fetchBytesMax: c.replicaFetchBytesMax,
      fetchBucketBytesMax: c.replicaFetchBucketBytesMax,
      frameBytesMax: c.rpcFrameBytesMax,
    });
    const replicas = new ReplicaManager({
      serverId: o.id,
      dataDir: join(c.dataDir, `tablet-server-${o.id}`),
      logConfig: {
        segmentBytesMax: c.logSegmentBytesMax,
        indexIntervalBytes: c.logIndexIntervalBytes,
        flush: { mode: c.logFlushMode, intervalMs: c.logFlushIntervalMs },
      },
      clock: o.clock,
      scheduler,
      logger,
      remoteDataDir: c.remoteDataDir ?? join(c.dataDir, "remote"),
      kvSnapshotsRetained: c.kvSnapshotsRetained,
      idRanges: link,
      ...(o.files ? { files: o.files } : {}),
      ...(o.openFiles ? { openFiles: o.openFiles } : {}),
      remoteLog: createRemoteLogManager(c, scheduler, logger),
      replication: {
        leader: {
          localId: o.id,
          clock: o.clock,
          maxLagTimeMs: c.replicaMaxLagTimeMs,
          minInSyncReplicas: c.minInSyncReplicas,
          hwRequiresFlush: c.logFlushMode === "always",
          isEligible: (id) => cache.isEligible(id),
        },
        fetchBackoffMs: c.replicaFetchBackoffMs,
        fetchers,
      },
    });
    const isr = new IsrProposals({
      serverId: o.id,
      send: (message) => link.request(ApiKeys.ADJUST_ISR, message),
      scheduler,
      logger,
      retryBackoffMs: c.replicaFetchBackoffMs,
      ...(o.metrics ? { events: o.metrics.replication.events(`tablet-${o.id}`) } : {}),
    });
    return {
      replicas,
      isr,
      followerFetches: new FollowerFetches({
        replicas,
        isr,
        clock: o.clock,
        purgatory: new DelayedOperationManager(scheduler, DELAYED_FOLLOWER_FETCHES_MAX),
        fetchWaitMsMax: c.fetchWaitMsMax,
        fetchBytesMax: c.fetchBytesMax,
      }),
      writes: new ReplicaWrites(replicas, logger),
      fetches: new FetchEngine({
        replicas,
        reader: new LogReader(replicas, logger, c.fetchBytesMax),
        clock: o.clock,
        purgatory: new DelayedOperationManager(scheduler, DELAYED_FETCHES_MAX),
        fetchWaitMsMax: c.fetchWaitMsMax,
      }),
      offsets: new Offsets(replicas),
      scanners: new KvScanners(o.clock, scheduler),
      tasks: new TabletTasks(replicas, scheduler, logger),
      cache,
      link,
    };
  }

  /**
   * Stop: move leadership away first (controlled shutdown), then stop serving and close replicas.
   * A second call waits for the first.
   */
  stop(): Promise<void> {
    this.stopping ??= this.controlledShutdown().then(() => this.close());
    return this.stopping;
  }

  /** Ask the coordinator to move leadership away; retried when the request fails or times out. */
  private async controlledShutdown(): Promise<void> {
    const attempts = this.config.controlledShutdownRetriesMax + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const remaining = await within(
          this.link.controlledShutdown(),
          CONTROLLED_SHUTDOWN_WAIT_MS,
          this.scheduler,
        );
        if (remaining === TIMED_OUT) throw new Error("no answer");
        if (remaining.length > 0)
          this.logger.info(
            { buckets: remaining.length },
            "stopping while still leading buckets (no other in-sync replica)",
          );
        return;
      } catch (err) {
        if (attempt === attempts || this.link.stopped) {
          this.logger.warn({ err }, "controlled shutdown failed; stopping anyway");
          return;
        }
        await new Promise<void>((resolve) =>
          this.scheduler.setTimeout(resolve, this.config.controlledShutdownRetryIntervalMs).unref(),
        );
      }
    }
  }

  private async close(): Promise<void> {
    await this.link.stop();
    this.tasks.stop();
    this.isr.stop();
    this.fetches.close();
    this.followerFetches.close();
    await this.rpc.close();
    this.scanners.closeAll();
    await this.replicas.close();
  }
}
