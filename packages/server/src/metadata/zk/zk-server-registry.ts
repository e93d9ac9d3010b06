// ServerRegistry on ZooKeeper (see server-registry.ts for the semantics): a tablet server is an
// ephemeral node /tabletservers/ids/<id> holding Fluss's TabletServerRegistration JSON, owned by
// its session; its registration epoch is the node's creation zxid. The coordinator lists the
// children of /tabletservers/ids with a watch and turns each difference into joins and leaves.
// Registering meets the node of an earlier life of the same id (a process killed -9, or this
// process's expired session that the server has not removed yet): it waits for that node to go,
// up to a session timeout plus the connection timeout, then refuses with INVALID_CONFIG_EXCEPTION
// (another live server uses this id). After its session expires, a registration registers again on
// the client's next session by itself, until closed.

import { type Clock, isAssertionError, type Scheduler, systemClock, systemScheduler } from "@fluss-ts/common";
import type { Logger } from "../../logging.ts";
import { silentLogger } from "../../logging.ts";
import { backgroundFailure } from "../../util/background.ts";
import type {
  LiveTabletServer,
  Registration,
  RegistrationEvent,
  ServerRegistry,
  TabletServerInfo,
  TabletServersEvent,
  TabletServerWatch,
} from "../server-registry.ts";
import { createOwnEphemeral, removeOwnEphemeral } from "./zk-ephemeral.ts";
import { Paths } from "./zk-layout.ts";
import { decodeTabletServer, encodeTabletServer } from "./zk-registrations.ts";
import type { ZooKeeperClient } from "./zookeeper-client.ts";

/** Pause before trying again after a failed refresh or re-registration. */
const RETRY_MS = 1_000;

export interface ZooKeeperServerRegistryOptions {
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
}

export class ZooKeeperServerRegistry implements ServerRegistry {
  private readonly zk: ZooKeeperClient;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly owned = new Set<{ close(): unknown }>();

  constructor(zk: ZooKeeperClient, o: ZooKeeperServerRegistryOptions = {}) {
    this.zk = zk;
    this.clock = o.clock ?? systemClock;
    this.scheduler = o.scheduler ?? systemScheduler;
    this.logger = o.logger ?? silentLogger;
  }

  async registerTabletServer(info: TabletServerInfo): Promise<Registration> {
    await this.zk.mkdirs(Paths.tabletServers);
    const reg = new ZkRegistration(this.zk, info, this.clock, this.scheduler, this.logger);
    await reg.start();
    this.owned.add(reg);
    return reg;
  }

  async listTabletServers(): Promise<LiveTabletServer[]> {
    const ids = ((await this.zk.getChildren(Paths.tabletServers)) ?? []).map(Number).sort((a, b) => a - b);
    const found = await Promise.all(ids.map((id) => readServer(this.zk, id)));
    return found.filter((s) => s !== undefined);
  }

  async watchTabletServers(listener: (e: TabletServersEvent) => void): Promise<TabletServerWatch> {
    await this.zk.mkdirs(Paths.tabletServers);
    const watch = new ZkTabletServerWatch(this.zk, listener, this.scheduler, this.logger);
    await watch.start();
    this.owned.add(watch);
    return watch;
  }

  async close(): Promise<void> {
    for (const o of this.owned) await o.close();
    this.owned.clear();
  }
}

async function readServer(zk: ZooKeeperClient, id: number): Promise<LiveTabletServer | undefined> {
  const node = await zk.getData(Paths.tabletServer(id));
  if (node === undefined) return undefined;
  const { info, registerTimestamp } = decodeTabletServer(id, node.data);
  return { ...info, registrationEpoch: node.stat.czxid, registerTimestamp };
}

class ZkRegistration implements Registration {
  readonly serverId: number;
  private readonly zk: ZooKeeperClient;
  private readonly info: TabletServerInfo;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly listeners = new Set<(e: RegistrationEvent) => void>();
  private epoch: bigint | null = null;
  private closed = false;
  private reregistering = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    zk: ZooKeeperClient,
    info: TabletServerInfo,
    clock: Clock,
    scheduler: Scheduler,
    logger: Logger,
  ) {
    this.zk = zk;
    this.info = info;
    this.serverId = info.id;
    this.clock = clock;
    this.scheduler = scheduler;
    this.logger = logger.child({ tabletServer: info.id });
  }

  get isRegistered(): boolean {
    return this.epoch !== null;
  }

  get registrationEpoch(): bigint | null {
    return this.epoch;
  }

  onEvent(listener: (e: RegistrationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: RegistrationEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  async start(): Promise<void> {
    this.epoch = await this.createNode();
    this.logger.info(
      { registrationEpoch: String(this.epoch), session: this.zk.sessionId },
      "tablet server registered",
    );
    this.unsubscribe = this.zk.onSessionEvent((e) => {
      if (this.closed) return;
      if (e.kind === "disconnected") this.emit({ kind: "disconnected" });
      else if (e.kind === "reconnected") this.emit({ kind: "reconnected" });
      else if (e.kind === "expired") {
        this.epoch = null;
        this.logger.warn({ session: e.sessionId }, "tablet server registration lost with its session");
        this.emit({ kind: "expired" });
      } else this.reregister();
    });
  }

  /** Register again on the new session, trying until it works or the registration is closed. */
  private reregister(): void {
    if (this.reregistering || this.closed) return;
    this.reregistering = true;
    void this.createNode().then(
      (epoch) => {
        this.reregistering = false;
        if (this.closed) return;
        this.epoch = epoch;
        this.logger.info({ registrationEpoch: String(epoch) }, "tablet server registered again");
        this.emit({ kind: "registered", registrationEpoch: epoch });
      },
      (err: unknown) => {
        this.reregistering = false;
        if (isAssertionError(err)) {
          backgroundFailure(this.logger, "tablet server registration")(err); // a bug: crash
          return;
        }
        if (this.closed) return;
        this.logger.error({ err }, "tablet server could not register again; retrying");
        this.scheduler.setTimeout(() => {
          if (!this.closed && this.epoch === null) this.reregister();
        }, RETRY_MS);
      },
    );
  }

  /** Create the ephemeral node on the current session; resolves with its epoch (czxid). */
  private createNode(): Promise<bigint> {
    const data = encodeTabletServer(this.info, this.clock.nowMs());
    const what = `tablet-server.id ${this.info.id}`;
    const path = Paths.tabletServer(this.info.id);
    return createOwnEphemeral(this.zk, this.scheduler, this.logger, path, data, what, () => this.closed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    try {
      await removeOwnEphemeral(this.zk, Paths.tabletServer(this.info.id));
    } catch (err) {
      // The node goes with the session anyway.
      this.logger.warn({ err }, "tablet server could not remove its registration; it goes with its session");
    }
    this.epoch = null;
    this.listeners.clear();
  }
}

/** The coordinator's view of the live tablet servers, kept by a children watch. */
class ZkTabletServerWatch implements TabletServerWatch {
  readonly live = new Map<number, LiveTabletServer>();
  private readonly zk: ZooKeeperClient;
  private readonly listener: (e: TabletServersEvent) => void;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private running: Promise<void> | null = null;
  private dirty = false;
  private closed = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    zk: ZooKeeperClient,
    listener: (e: TabletServersEvent) => void,
    scheduler: Scheduler,
    logger: Logger,
  ) {
    this.zk = zk;
    this.listener = listener;
    this.scheduler = scheduler;
    this.logger = logger;
  }

  async start(): Promise<void> {
    this.running = this.refreshOnce().finally(() => {
      this.running = null;
    });
    await this.running;
    if (this.dirty) this.refresh();
    this.unsubscribe = this.zk.onSessionEvent((e) => {
      // A new session lost the watch; a reconnect may have missed changes: look again.
      if (e.kind === "session" || e.kind === "reconnected") this.refresh();
    });
  }

  private refresh(): void {
    if (this.closed) return;
    if (this.running !== null) {
      this.dirty = true;
      return;
    }
    this.running = this.runRefreshes().finally(() => {
      this.running = null;
    });
  }

  private async runRefreshes(): Promise<void> {
    do {
      this.dirty = false;
      try {
        await this.refreshOnce();
      } catch (err) {
        if (isAssertionError(err)) {
          backgroundFailure(this.logger, "tablet server watch")(err); // a bug: crash
          return;
        }
        this.logger.warn({ err }, "could not read the live tablet servers; trying again");
        this.scheduler.setTimeout(() => this.refresh(), RETRY_MS);
        return;
      }
    } while (this.dirty && !this.closed);
  }

  private async refreshOnce(): Promise<void> {
    const children = (await this.zk.getChildren(Paths.tabletServers, () => this.refresh())) ?? [];
    const ids = children.map(Number).filter((id) => Number.isSafeInteger(id));
    const now = new Map<number, LiveTabletServer>();
    for (const s of await Promise.all(ids.map((id) => readServer(this.zk, id)))) if (s) now.set(s.id, s);
    if (this.closed) return;
    const events: TabletServersEvent[] = [];
    for (const [id, old] of [...this.live].sort((a, b) => a[0] - b[0])) {
      if (now.get(id)?.registrationEpoch !== old.registrationEpoch)
        events.push({ kind: "left", server: old });
    }
    for (const [id, s] of [...now].sort((a, b) => a[0] - b[0])) {
      if (this.live.get(id)?.registrationEpoch !== s.registrationEpoch)
        events.push({ kind: "joined", server: s });
    }
    for (const e of events) {
      if (e.kind === "left") this.live.delete(e.server.id);
      else this.live.set(e.server.id, e.server);
      this.listener(e);
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
  }
}
