// The server roles on ZooKeeper (`zookeeper.address` set), on part A's pieces in metadata/:
//  - a coordinator binds its listener, stands in the coordinator election with that address, and
//    on being elected takes over the ZooKeeper metadata store (fenced by the election's epoch
//    version) and activates with the election's epoch; tablet servers come from the registry's
//    watch (every live one first, then joins and leaves), each told the metadata and its replicas.
//    Losing the election (session expired, fenced) ends the role: `onLost` is called (the process
//    exits and is restarted by its supervisor, standing again behind the others);
//  - a tablet server listens, registers in ZooKeeper (ephemeral node: alive while its session
//    lives), and follows the active coordinator's address (read from ZooKeeper, refreshed) for its
//    CoordinatorLink (id ranges, controlled shutdown, forwarded reads). No RPC heartbeats.
// Invariants: one ZooKeeper session per process, closed last at stop; a role never acts as
// coordinator without a current election win.

import { type Clock, type Scheduler, systemScheduler, type TimerHandle } from "@fluss-ts/common";
import type { ServerConfig } from "./config.ts";
import { CoordinatorServer } from "./coordinator/coordinator-server.ts";
import { internalListener } from "./listeners.ts";
import type { Logger } from "./logging.ts";
import {
  readActiveCoordinator,
  ZooKeeperCoordinatorElection,
} from "./metadata/zk/zk-coordinator-election.ts";
import { ZooKeeperServerRegistry } from "./metadata/zk/zk-server-registry.ts";
import { ZooKeeperClient } from "./metadata/zk/zookeeper-client.ts";
import { ZooKeeperMetadataStore } from "./metadata/zk/zookeeper-metadata-store.ts";
import type { ServerMetrics } from "./metrics/server-metrics.ts";
import type { CoordinatorAddress } from "./tablet/coordinator-link.ts";

/** How often a tablet server re-reads the active coordinator's address. */
const ACTIVE_COORDINATOR_REFRESH_MS = 1_000;

export function connectZooKeeper(
  c: ServerConfig,
  clock: Clock,
  scheduler: Scheduler,
  logger: Logger,
): Promise<ZooKeeperClient> {
  return ZooKeeperClient.connect({
    address: c.zookeeperAddress ?? "",
    rootPath: c.zookeeperRootPath,
    sessionTimeoutMs: c.zookeeperSessionTimeoutMs,
    connectionTimeoutMs: c.zookeeperConnectionTimeoutMs,
    clock,
    scheduler,
    logger,
  });
}

export interface ZkCoordinatorRole {
  readonly address: string;
  /** The running coordinator once elected (null while standing by). */
  readonly active: CoordinatorServer | null;
  stop(): Promise<void>;
}

/** A coordinator on ZooKeeper: bind, stand for election, activate when elected. */
export async function startZkCoordinator(o: {
  config: ServerConfig;
  clock: Clock;
  scheduler?: Scheduler;
  logger: Logger;
  metrics?: ServerMetrics;
  /** Called once when this coordinator lost its election win (stop acting now). */
  onLost: (why: string) => void;
}): Promise<ZkCoordinatorRole> {
  const scheduler = o.scheduler ?? systemScheduler;
  const zk = await connectZooKeeper(o.config, o.clock, scheduler, o.logger);
  const bound = await CoordinatorServer.bind({ ...o, scheduler }).catch(async (err: unknown) => {
    await zk.close();
    throw err;
  });
  const { host, port } = bound.address;
  const election = new ZooKeeperCoordinatorElection(
    zk,
    { id: `${host}:${port}`, endpoints: [{ listener: o.config.internalListenerName, host, port }] },
    { scheduler, logger: o.logger },
  );
  let active: CoordinatorServer | null = null;
  let stopping = false;
  election.onEvent((e) => {
    if (e.kind === "lost") {
      if (!stopping) o.onLost(`coordinator epoch ${e.epoch} lost: ${e.why}`);
      return;
    }
    void (async () => {
      const store = new ZooKeeperMetadataStore(zk, { logger: o.logger });
      await store.takeOver(e.leadership.epochZkVersion);
      active = await bound.activate({
        store,
        coordinatorEpoch: e.leadership.epoch,
        registry: new ZooKeeperServerRegistry(zk, { clock: o.clock, scheduler, logger: o.logger }),
      });
      active.startAutoPartitioning();
    })().catch((err: unknown) => {
      o.logger.error({ err }, "taking over as the active coordinator failed");
      if (!stopping) o.onLost(`taking over failed: ${(err as Error).message}`);
    });
  });
  await election.start();
  return {
    address: `${host}:${port}`,
    get active() {
      return active;
    },
    async stop() {
      stopping = true;
      await election.close();
      if (active) await active.stop();
      else await bound.close();
      await zk.close();
    },
  };
}

/** A tablet server's view of where the active coordinator is, kept fresh from ZooKeeper. */
export class ActiveCoordinatorFollower {
  private current: CoordinatorAddress | null = null;
  private timer: TimerHandle | undefined;
  private readonly zk: ZooKeeperClient;
  private readonly listenerName: string;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;

  constructor(zk: ZooKeeperClient, listenerName: string, scheduler: Scheduler, logger: Logger) {
    this.zk = zk;
    this.listenerName = listenerName;
    this.scheduler = scheduler;
    this.logger = logger;
  }

  get address(): CoordinatorAddress | null {
    return this.current;
  }

  async refresh(): Promise<void> {
    const a = await readActiveCoordinator(this.zk);
    if (a === null) {
      this.current = null;
      return;
    }
    const endpoints = a.endpoints.map((p) => ({
      name: p.listener.toUpperCase(),
      host: p.host,
      port: p.port,
    }));
    const l = internalListener(endpoints, this.listenerName);
    this.current = { host: l.host, port: l.port };
  }

  start(): void {
    this.timer = this.scheduler.setInterval(() => {
      this.refresh().catch((err: unknown) =>
        this.logger.debug({ err }, "reading the active coordinator failed"),
      );
    }, ACTIVE_COORDINATOR_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    this.scheduler.clearInterval(this.timer);
  }
}
