// `fluss local`: a coordinator and N tablet servers in this process, metadata in a local file, no
// ZooKeeper. The data directory is locked (one cluster per directory); stop() flushes and closes
// everything so the next start needs no recovery scan.

import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, Errors, FlussError, systemClock } from "@fluss-ts/common";
import { type ServerConfig, validateServerConfig } from "./config.ts";
import { CoordinatorServer } from "./coordinator/coordinator-server.ts";
import { registerMetadataService } from "./coordinator/coordinator-service.ts";
import type { Logger } from "./logging.ts";
import { LocalMetadataStore } from "./metadata/local-metadata-store.ts";
import { TabletServer } from "./tablet/tablet-server.ts";

export interface LocalClusterOptions {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Take `<dataDir>/.lock`; a lock left by a dead process is taken over. */
async function lockDataDir(dataDir: string): Promise<string> {
  const lockFile = join(dataDir, ".lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockFile, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return lockFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new FlussError(
          Errors.INVALID_CONFIG_EXCEPTION,
          `data directory ${dataDir} is in use by process ${pid}; stop it or pass another --data-dir`,
        );
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `cannot lock data directory ${dataDir}`);
}

export class LocalCluster {
  readonly coordinator: CoordinatorServer;
  readonly tabletServers: readonly TabletServer[];
  private readonly lockFile: string;

  private constructor(coordinator: CoordinatorServer, tabletServers: TabletServer[], lockFile: string) {
    this.coordinator = coordinator;
    this.tabletServers = tabletServers;
    this.lockFile = lockFile;
  }

  get bootstrap(): string {
    const n = this.coordinator.coordinator.node;
    return `${n.host}:${n.port}`;
  }

  get tabletServerAddresses(): string[] {
    return this.tabletServers.map((t) => `${t.node.host}:${t.node.port}`);
  }

  get metricsAddress(): string | undefined {
    return undefined;
  }

  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    const c = o.config;
    validateServerConfig(c);
    const clock = o.clock ?? systemClock;
    await mkdir(c.dataDir, { recursive: true });
    const lockFile = await lockDataDir(c.dataDir);
    const started: TabletServer[] = [];
    let coordinator: CoordinatorServer | undefined;
    try {
      const store = new LocalMetadataStore(join(c.dataDir, "coordinator"));
      coordinator = await CoordinatorServer.start({ config: c, store, clock, logger: o.logger });
      const coord = coordinator.coordinator;
      for (let i = 0; i < c.tabletServers; i++) {
        const ts = await TabletServer.start({
          id: i,
          port: c.tabletServerPort === 0 ? 0 : c.tabletServerPort + i,
          config: c,
          clock,
          logger: o.logger,
          extraServices: (rpc) => registerMetadataService(rpc, coord),
          idRanges: coord,
        });
        started.push(ts);
        await coord.registerTabletServer(ts);
      }
      coordinator.startAutoPartitioning();
      return new LocalCluster(coordinator, started, lockFile);
    } catch (err) {
      for (const ts of started) await ts.stop().catch(() => undefined);
      await coordinator?.stop().catch(() => undefined);
      await rm(lockFile, { force: true });
      throw err;
    }
  }

  async stop(): Promise<void> {
    for (const ts of this.tabletServers) await ts.stop();
    await this.coordinator.stop();
    await rm(this.lockFile, { force: true });
  }
}
