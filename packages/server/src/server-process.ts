// One server role per process: `fluss coordinator` and `fluss tablet-server`. Each locks its own
// data directory (data-dir-lock.ts), measures its open-files budget, binds its internal listener
// (`bind.listeners`, Fluss's syntax; else `bind.host` and the role's port), serves /metrics when
// `metrics.port` is set, and stops cleanly. With `zookeeper.address` the metadata lives in
// ZooKeeper, coordinators are elected and tablet servers register there (zk-roles.ts); without it
// the coordinator keeps its metadata in `<data.dir>/coordinator` and tablet servers reach it at
// `coordinator.address`. Either way the same RPC code path as `fluss local` (both roles in one
// process) is used between coordinator and tablet servers.
// Invariants: a process stopped by `stop()` flushed and closed everything it opened and released
// its lock; a failure while starting undoes what was started before rethrowing.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type Clock,
  Errors,
  FlussError,
  type Scheduler,
  systemClock,
  systemScheduler,
} from "@fluss-ts/common";
import { FileCache } from "@fluss-ts/storage";
import { type ServerConfig, validateServerConfig } from "./config.ts";
import { CoordinatorServer } from "./coordinator/coordinator-server.ts";
import { DataDirLock } from "./data-dir-lock.ts";
import { internalListener, parseHostPort, parseListeners } from "./listeners.ts";
import type { Logger } from "./logging.ts";
import { LocalMetadataStore } from "./metadata/local-metadata-store.ts";
import { ZooKeeperServerRegistry } from "./metadata/zk/zk-server-registry.ts";
import type { HealthCheck } from "./metrics/health.ts";
import { MetricsHttpServer } from "./metrics/metrics-http.ts";
import { ServerMetrics } from "./metrics/server-metrics.ts";
import { OpenFilesBudget } from "./open-files.ts";
import { TabletServer } from "./tablet/tablet-server.ts";
import { ActiveCoordinatorFollower, connectZooKeeper, startZkCoordinator } from "./zk-roles.ts";

export interface ServerProcessOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  scheduler?: Scheduler;
  /**
   * ZooKeeper only: this coordinator lost its election win, or this tablet server's session ended
   * for good; the role must not go on. Default: log at error.
   */
  onLost?: (why: string) => void;
}

/** A running server role. */
export interface ServerProcess {
  /** host:port of its RPC listener. */
  readonly address: string;
  readonly metricsAddress: string | undefined;
  stop(): Promise<void>;
}

/** host and port a role binds: its internal listener, else bind.host and `port`. */
export function bindAddressOf(c: ServerConfig, port: number): { host: string; port: number } {
  if (c.bindListeners === null) return { host: c.bindHost, port };
  const l = internalListener(parseListeners(c.bindListeners), c.internalListenerName);
  return { host: l.host, port: l.port };
}

interface Common {
  readonly c: ServerConfig;
  readonly lock: DataDirLock;
  readonly openFiles: OpenFilesBudget;
  readonly metrics: ServerMetrics | undefined;
}

async function begin(o: ServerProcessOptions): Promise<Common> {
  validateServerConfig(o.config);
  const openFiles = OpenFilesBudget.measure({ ...o.config, servers: 1 });
  o.logger.info({ ...openFiles.plan }, openFiles.describe());
  const c = { ...o.config, rpcConnectionsMax: openFiles.plan.connectionsPerServerMax };
  await mkdir(c.dataDir, { recursive: true });
  const lock = DataDirLock.acquire(c.dataDir);
  return { c, lock, openFiles, metrics: c.metricsPort === 0 ? undefined : new ServerMetrics() };
}

async function serveMetrics(
  common: Common,
  logger: Logger,
  health: HealthCheck,
): Promise<MetricsHttpServer | null> {
  if (!common.metrics) return null;
  const { bindHost, metricsPort } = common.c;
  return MetricsHttpServer.start(common.metrics.registry, bindHost, metricsPort, logger, health);
}

/** `fluss coordinator`: the coordinator role alone (tablet servers register with it). */
export async function startCoordinatorProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const common = await begin(o);
  const bind = bindAddressOf(common.c, common.c.coordinatorPort);
  const c = { ...common.c, bindHost: bind.host, coordinatorPort: bind.port };
  if (c.zookeeperAddress !== null) return zkCoordinator(o, common, c);
  let server: CoordinatorServer | undefined;
  let http: MetricsHttpServer | null = null;
  try {
    server = await CoordinatorServer.start({
      config: c,
      store: new LocalMetadataStore(join(c.dataDir, "coordinator")),
      clock: o.clock ?? systemClock,
      scheduler: o.scheduler ?? systemScheduler,
      logger: o.logger,
      ...(common.metrics ? { metrics: common.metrics } : {}),
    });
    server.startAutoPartitioning();
    http = await serveMetrics(common, o.logger, () => ({
      role: "coordinator",
      serving: true,
      registered: true,
    }));
  } catch (err) {
    await server?.stop().catch(() => undefined);
    common.lock.release();
    throw err;
  }
  const started = server;
  return {
    address: started.address,
    metricsAddress: http?.address,
    async stop() {
      try {
        await http?.close();
        await started.stop();
      } finally {
        common.lock.release();
      }
    },
  };
}

/** A coordinator on ZooKeeper (zk-roles.ts): bound now, serving once elected. */
async function zkCoordinator(
  o: ServerProcessOptions,
  common: Common,
  c: ServerConfig,
): Promise<ServerProcess> {
  let http: MetricsHttpServer | null = null;
  try {
    const role = await startZkCoordinator({
      config: c,
      clock: o.clock ?? systemClock,
      scheduler: o.scheduler ?? systemScheduler,
      logger: o.logger,
      ...(common.metrics ? { metrics: common.metrics } : {}),
      onLost: o.onLost ?? ((why) => o.logger.error({ why }, "this coordinator is no longer active")),
    });
    http = await serveMetrics(common, o.logger, () => {
      const active = role.active !== null;
      return {
        role: "coordinator",
        serving: active,
        registered: active,
        ...(active ? {} : { detail: "standby: another coordinator is active" }),
      };
    });
    return {
      address: role.address,
      metricsAddress: http?.address,
      async stop() {
        try {
          await http?.close();
          await role.stop();
        } finally {
          common.lock.release();
        }
      },
    };
  } catch (err) {
    await http?.close();
    common.lock.release();
    throw err;
  }
}

/**
 * `fluss tablet-server`: one tablet server, joining through ZooKeeper (`zookeeper.address`) or the
 * coordinator at `coordinator.address`.
 */
export async function startTabletServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  if (o.config.zookeeperAddress !== null) return zkTabletServer(o);
  if (o.config.coordinatorAddress === null) {
    throw new FlussError(
      Errors.INVALID_CONFIG_EXCEPTION,
      "a tablet server needs 'zookeeper.address' or 'coordinator.address' (host:port of the coordinator) to join a cluster",
    );
  }
  const coordinator = parseHostPort(o.config.coordinatorAddress);
  const common = await begin(o);
  const bind = bindAddressOf(common.c, common.c.tabletServerPort);
  const c = { ...common.c, bindHost: bind.host };
  let ts: TabletServer | undefined;
  let http: MetricsHttpServer | null = null;
  try {
    ts = await TabletServer.start({
      id: c.tabletServerId,
      port: bind.port,
      config: c,
      clock: o.clock ?? systemClock,
      scheduler: o.scheduler ?? systemScheduler,
      logger: o.logger,
      coordinator: () => coordinator,
      heartbeats: true,
      files: new FileCache({ openFilesMax: common.openFiles.plan.logOpenFilesMax }),
      openFiles: common.openFiles,
      ...(common.metrics ? { metrics: common.metrics } : {}),
    });
    const link = ts.link;
    http = await serveMetrics(common, o.logger, () => ({
      role: "tablet-server",
      serving: true,
      registered: link.registered,
      ...(link.registered ? {} : { detail: "the coordinator has not answered its last heartbeat" }),
    }));
  } catch (err) {
    await ts?.stop().catch(() => undefined);
    common.lock.release();
    throw err;
  }
  const started = ts;
  return {
    address: `${started.node.host}:${started.node.port}`,
    metricsAddress: http?.address,
    async stop() {
      try {
        await http?.close();
        await started.stop();
      } finally {
        common.lock.release();
      }
    },
  };
}

/** A tablet server on ZooKeeper: listen, register (ephemeral node), follow the active coordinator. */
async function zkTabletServer(o: ServerProcessOptions): Promise<ServerProcess> {
  const common = await begin(o);
  const bind = bindAddressOf(common.c, common.c.tabletServerPort);
  const c = { ...common.c, bindHost: bind.host };
  const clock = o.clock ?? systemClock;
  const scheduler = o.scheduler ?? systemScheduler;
  const undo: Array<() => Promise<void> | void> = [() => common.lock.release()];
  const unwind = async (): Promise<void> => {
    for (const f of undo.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
  };
  try {
    const zk = await connectZooKeeper(c, clock, scheduler, o.logger);
    undo.push(() => zk.close());
    const follower = new ActiveCoordinatorFollower(zk, c.internalListenerName, scheduler, o.logger);
    await follower.refresh().catch(() => undefined);
    follower.start();
    undo.push(() => follower.stop());
    const ts = await TabletServer.start({
      id: c.tabletServerId,
      port: bind.port,
      config: c,
      clock,
      scheduler,
      logger: o.logger,
      coordinator: () => follower.address,
      heartbeats: false,
      files: new FileCache({ openFilesMax: common.openFiles.plan.logOpenFilesMax }),
      openFiles: common.openFiles,
      ...(common.metrics ? { metrics: common.metrics } : {}),
    });
    undo.push(() => ts.stop());
    const registry = new ZooKeeperServerRegistry(zk, { clock, scheduler, logger: o.logger });
    undo.push(() => registry.close());
    const listener = { listener: c.internalListenerName, host: ts.node.host, port: ts.node.port };
    const registration = await registry.registerTabletServer({
      id: c.tabletServerId,
      endpoints: [listener],
      rack: null,
    });
    registration.onEvent((e) => {
      if (e.kind === "expired")
        o.logger.warn({ server: c.tabletServerId }, "ZooKeeper session expired: registering again");
    });
    undo.push(() => registration.close());
    const http = await serveMetrics(common, o.logger, () => ({
      role: "tablet-server",
      serving: true,
      registered: registration.isRegistered,
      ...(registration.isRegistered ? {} : { detail: "not registered in ZooKeeper (session ended)" }),
    }));
    undo.push(() => http?.close());
    return {
      address: `${ts.node.host}:${ts.node.port}`,
      metricsAddress: http?.address,
      stop: unwind,
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
