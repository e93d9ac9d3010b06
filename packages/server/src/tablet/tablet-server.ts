// A tablet server: an RPC endpoint over its replicas. Lifecycle in ReplicaManager, writes in
// ReplicaWrites, the fetch long poll in FetchEngine (a purgatory of delayed fetches), offsets in
// Offsets, periodic work in TabletTasks; the handlers (handlers/, one file per API) translate
// protobuf to these. Every timer runs on the injected Scheduler.

import { join } from "node:path";
import { type Clock, type Scheduler, systemScheduler } from "@fluss-ts/common";
import { RpcServer } from "@fluss-ts/rpc";
import type { FileCache } from "@fluss-ts/storage";
import type { ServerConfig } from "../config.ts";
import type { ReplicaAssignment, ReplicaRef, ServerNode, TabletServerGateway } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import type { OpenFilesBudget } from "../open-files.ts";
import { listenOrExplain } from "../util/listen.ts";
import { DELAYED_FETCHES_MAX, FetchEngine } from "./delayed-fetch.ts";
import { DelayedOperationManager } from "./delayed-operations.ts";
import { registerTabletHandlers } from "./handlers/index.ts";
import type { IdRangeSource } from "./id-allocator.ts";
import { KvScanners } from "./kv-scanners.ts";
import { LogReader } from "./log-reader.ts";
import { Offsets } from "./offsets.ts";
import { ReadBufferPool } from "./read-buffers.ts";
import { createRemoteLogManager } from "./remote-log-manager.ts";
import { ReplicaManager, type ReplicaResult } from "./replica-manager.ts";
import { ReplicaWrites } from "./replica-writes.ts";
import { TabletTasks } from "./tablet-tasks.ts";

export interface TabletServerOptions {
  id: number;
  port: number;
  config: ServerConfig;
  clock: Clock;
  /** Every timer of the server (default: the process's). */
  scheduler?: Scheduler;
  logger: Logger;
  /** Extra handlers (e.g. metadata served in-process by the local cluster). */
  extraServices?: (server: RpcServer) => void;
  /** Reserves auto-increment id ranges (the coordinator). */
  idRanges: IdRangeSource;
  /** Count this server's requests and read its buckets for /metrics (metrics.port set). */
  metrics?: ServerMetrics;
  /** The bounded cache of open files the log tablets share (shared by the process's tablet servers). */
  files?: FileCache;
  /** The process's open-files budget for primary-key buckets' stores. */
  openFiles?: OpenFilesBudget;
}

export class TabletServer implements TabletServerGateway {
  readonly node: ServerNode;
  readonly replicas: ReplicaManager;
  readonly writes: ReplicaWrites;
  readonly fetches: FetchEngine;
  readonly offsets: Offsets;
  readonly scanners: KvScanners;
  readonly tasks: TabletTasks;
  private readonly rpc: RpcServer;

  private constructor(
    node: ServerNode,
    parts: {
      replicas: ReplicaManager;
      writes: ReplicaWrites;
      fetches: FetchEngine;
      offsets: Offsets;
      scanners: KvScanners;
      tasks: TabletTasks;
    },
    rpc: RpcServer,
  ) {
    this.node = node;
    this.replicas = parts.replicas;
    this.writes = parts.writes;
    this.fetches = parts.fetches;
    this.offsets = parts.offsets;
    this.scanners = parts.scanners;
    this.tasks = parts.tasks;
    this.rpc = rpc;
  }

  static async start(o: TabletServerOptions): Promise<TabletServer> {
    const logger = o.logger.child({ server: `tablet-${o.id}` });
    const c = o.config;
    const scheduler = o.scheduler ?? systemScheduler;
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
      idRanges: o.idRanges,
      ...(o.files ? { files: o.files } : {}),
      ...(o.openFiles ? { openFiles: o.openFiles } : {}),
      remoteLog: createRemoteLogManager(c, scheduler, logger),
    });
    const parts = {
      replicas,
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
    };
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
    o.metrics?.instrument(rpc, `tablet-${o.id}`, () => parts.offsets.bucketOffsets());
    registerTabletHandlers(rpc, { ...parts, readBuffers: new ReadBufferPool() });
    o.extraServices?.(rpc);
    const addr = await listenOrExplain(rpc, `tablet server ${o.id}`);
    parts.scanners.startExpiry();
    parts.tasks.startRetention(c.logRetentionCheckIntervalMs);
    parts.tasks.startKvSnapshots(c.kvSnapshotIntervalMs);
    replicas.startRemoteLogTiering();
    logger.info({ address: `${addr.host}:${addr.port}` }, "tablet server listening");
    return new TabletServer({ id: o.id, host: addr.host, port: addr.port }, parts, rpc);
  }

  async notifyLeaderAndIsr(assignments: readonly ReplicaAssignment[]): Promise<ReplicaResult[]> {
    return this.replicas.becomeLeaderOrFollower(assignments);
  }

  async stopReplicas(replicas: readonly ReplicaRef[], deleteData: boolean): Promise<void> {
    await this.replicas.stopReplicas(replicas, deleteData);
  }

  async stop(): Promise<void> {
    this.tasks.stop();
    this.fetches.close();
    await this.rpc.close();
    this.scanners.closeAll();
    await this.replicas.close();
  }
}
