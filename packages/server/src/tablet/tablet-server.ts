// A tablet server: an RPC endpoint over a ReplicaManager. The coordinator reaches it through the
// TabletServerGateway interface (in-process calls in the local cluster).

import { join } from "node:path";
import type { Clock } from "@fluss-ts/common";
import { RpcServer } from "@fluss-ts/rpc";
import type { FileCache } from "@fluss-ts/storage";
import type { ServerConfig } from "../config.ts";
import type {
  ReplicaAssignment,
  ReplicaRef,
  ServerNode,
  TabletServerGateway,
} from "../coordinator/coordinator.ts";
import type { Logger } from "../logging.ts";
import type { ServerMetrics } from "../metrics/server-metrics.ts";
import type { OpenFilesBudget } from "../open-files.ts";
import { listenOrExplain } from "../util/listen.ts";
import type { IdRangeSource } from "./id-allocator.ts";
import { ReplicaManager } from "./replica-manager.ts";
import { registerTabletService } from "./tablet-service.ts";

export interface TabletServerOptions {
  id: number;
  port: number;
  config: ServerConfig;
  clock: Clock;
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
  private readonly rpc: RpcServer;

  private constructor(node: ServerNode, replicas: ReplicaManager, rpc: RpcServer) {
    this.node = node;
    this.replicas = replicas;
    this.rpc = rpc;
  }

  static async start(o: TabletServerOptions): Promise<TabletServer> {
    const logger = o.logger.child({ server: `tablet-${o.id}` });
    const c = o.config;
    const replicas = new ReplicaManager({
      serverId: o.id,
      dataDir: join(c.dataDir, `tablet-server-${o.id}`),
      logConfig: {
        segmentBytesMax: c.logSegmentBytesMax,
        indexIntervalBytes: c.logIndexIntervalBytes,
        flush: { mode: c.logFlushMode, intervalMs: c.logFlushIntervalMs },
      },
      clock: o.clock,
      logger,
      fetchWaitMsMax: c.fetchWaitMsMax,
      fetchBytesMax: c.fetchBytesMax,
      remoteDataDir: c.remoteDataDir ?? join(c.dataDir, "remote"),
      kvSnapshotsRetained: c.kvSnapshotsRetained,
      idRanges: o.idRanges,
      ...(o.files ? { files: o.files } : {}),
      ...(o.openFiles ? { openFiles: o.openFiles } : {}),
    });
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
    });
    o.metrics?.instrument(rpc, `tablet-${o.id}`, () => replicas.bucketOffsets());
    registerTabletService(rpc, replicas);
    o.extraServices?.(rpc);
    const addr = await listenOrExplain(rpc, `tablet server ${o.id}`);
    replicas.startRetention(c.logRetentionCheckIntervalMs);
    replicas.startKvSnapshots(c.kvSnapshotIntervalMs);
    logger.info({ address: `${addr.host}:${addr.port}` }, "tablet server listening");
    return new TabletServer({ id: o.id, host: addr.host, port: addr.port }, replicas, rpc);
  }

  notifyLeaderAndIsr(assignments: readonly ReplicaAssignment[]): Promise<void> {
    return this.replicas.becomeLeaderOrFollower(assignments);
  }

  stopReplicas(replicas: readonly ReplicaRef[], deleteData: boolean): Promise<void> {
    return this.replicas.stopReplicas(replicas, deleteData);
  }

  async stop(): Promise<void> {
    await this.rpc.close();
    await this.replicas.close();
  }
}
