// Which tablet servers are alive, as the coordinator must know it. A tablet server registers (its
// id, listeners, rack) and stays registered while its session lives; the coordinator watches the
// set of live servers and hears every join and leave, in order.
// Two implementations: ZooKeeper (zk/zk-server-registry.ts: an ephemeral node per server under
// Fluss's /tabletservers/ids, a watch on its parent) and in-process (below, for `fluss local`).
// Semantics both keep:
//  - a registration is live from `registerTabletServer` resolving until its session ends. When the
//    session expires (ZooKeeper: the server was cut off, paused or too slow for the session timeout)
//    the registration reports "expired": this server is no longer registered, the coordinator sees
//    it leave, and it must stop acting on what it led (fencing). It then registers again by itself
//    and reports "registered" with a higher registration epoch; the coordinator sees it join anew.
//  - the registration epoch grows with every (re)registration of a server id, so a coordinator can
//    tell a server that came back from one that never left (ZooKeeper: the node's creation zxid).
//  - watchers first get a "joined" for every live server, then every change in the order it
//    happened; a server that left and came back between two looks is reported as left and joined.

import { assert, type Clock, Errors, FlussError, systemClock } from "@fluss-ts/common";
import { parseListeners as parseListenerText } from "../listeners.ts";

/** One listener of a server (Fluss's Endpoint: `NAME://host:port`). */
export interface Endpoint {
  readonly listener: string;
  readonly host: string;
  readonly port: number;
}

export interface TabletServerInfo {
  readonly id: number;
  readonly endpoints: readonly Endpoint[];
  /** Rack (availability zone) for replica placement, or null. */
  readonly rack: string | null;
}

/** A registered, live tablet server. */
export interface LiveTabletServer extends TabletServerInfo {
  /** Grows with every (re)registration of this id. */
  readonly registrationEpoch: bigint;
  /** When it registered (its clock, ms). */
  readonly registerTimestamp: number;
}

export type RegistrationEvent =
  | { readonly kind: "registered"; readonly registrationEpoch: bigint }
  /** The connection to the registry is lost; still registered until the session times out. */
  | { readonly kind: "disconnected" }
  | { readonly kind: "reconnected" }
  /** No longer registered (the session ended): stop acting as a live member until "registered". */
  | { readonly kind: "expired" };

export interface Registration {
  readonly serverId: number;
  /** True while registered on a live session. */
  readonly isRegistered: boolean;
  /** The current registration's epoch (null while not registered). */
  readonly registrationEpoch: bigint | null;
  onEvent(listener: (e: RegistrationEvent) => void): () => void;
  /** Leave the registry now (controlled shutdown); no re-registration follows. */
  close(): Promise<void>;
}

export type TabletServersEvent =
  | { readonly kind: "joined"; readonly server: LiveTabletServer }
  | { readonly kind: "left"; readonly server: LiveTabletServer };

export interface TabletServerWatch {
  /** Live servers as of the last event delivered. */
  readonly live: ReadonlyMap<number, LiveTabletServer>;
  close(): void;
}

export interface ServerRegistry {
  /** Register a tablet server; resolves once it is live. */
  registerTabletServer(info: TabletServerInfo): Promise<Registration>;
  /** The live tablet servers now, by id. */
  listTabletServers(): Promise<LiveTabletServer[]>;
  /** Hear joins and leaves: first a "joined" per live server, then changes in order. */
  watchTabletServers(listener: (e: TabletServersEvent) => void): Promise<TabletServerWatch>;
  close(): Promise<void>;
}

/** Fluss's listeners text: `NAME://host:port` joined by commas (IPv6 hosts in brackets). */
export function formatListeners(endpoints: readonly Endpoint[]): string {
  return endpoints
    .map((e) => `${e.listener}://${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`)
    .join(",");
}

/** Parse Fluss's listeners text (listeners.ts); throws INVALID_CONFIG_EXCEPTION naming the bad part. */
export function parseListeners(text: string): Endpoint[] {
  if (text.trim() === "") return [];
  return parseListenerText(text).map((l) => ({ listener: l.name, host: l.host, port: l.port }));
}

type Listener<E> = (e: E) => void;

function emitAll<E>(listeners: ReadonlySet<Listener<E>>, e: E): void {
  for (const l of [...listeners]) l(e);
}

/**
 * The registry of `fluss local`: one process, so liveness is the registration itself. `expire`
 * plays a lost session (tests of fencing and of the coordinator's reaction, without ZooKeeper).
 */
export class InProcessServerRegistry implements ServerRegistry {
  private readonly clock: Clock;
  private readonly live = new Map<number, LiveTabletServer>();
  private readonly watchers = new Set<Listener<TabletServersEvent>>();
  private readonly registrations = new Map<number, InProcessRegistration>();
  private epoch = 0n;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  async registerTabletServer(info: TabletServerInfo): Promise<Registration> {
    if (this.registrations.has(info.id)) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `tablet server id ${info.id} is already registered`,
      );
    }
    const reg = new InProcessRegistration(info.id, () => this.leave(info.id, false));
    this.registrations.set(info.id, reg);
    this.join(info, reg);
    return reg;
  }

  private join(info: TabletServerInfo, reg: InProcessRegistration): void {
    const server: LiveTabletServer = {
      id: info.id,
      endpoints: [...info.endpoints],
      rack: info.rack,
      registrationEpoch: ++this.epoch,
      registerTimestamp: this.clock.nowMs(),
    };
    this.live.set(info.id, server);
    reg.registered(server.registrationEpoch);
    emitAll(this.watchers, { kind: "joined", server });
  }

  private leave(id: number, expired: boolean): void {
    const server = this.live.get(id);
    const reg = this.registrations.get(id);
    if (!expired) this.registrations.delete(id);
    if (server === undefined) return;
    this.live.delete(id);
    if (expired) reg?.expired();
    emitAll(this.watchers, { kind: "left", server });
  }

  /** End a server's session: it leaves, hears "expired", then registers again (a new epoch). */
  expire(id: number): void {
    const reg = this.registrations.get(id);
    const server = this.live.get(id);
    assert(reg !== undefined && server !== undefined, "only a live registration expires");
    this.leave(id, true);
    this.join(server, reg);
  }

  async listTabletServers(): Promise<LiveTabletServer[]> {
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }

  async watchTabletServers(listener: Listener<TabletServersEvent>): Promise<TabletServerWatch> {
    for (const server of await this.listTabletServers()) listener({ kind: "joined", server });
    this.watchers.add(listener);
    const live = this.live;
    return {
      get live() {
        return live;
      },
      close: () => {
        this.watchers.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}

class InProcessRegistration implements Registration {
  readonly serverId: number;
  private readonly leave: () => void;
  private readonly listeners = new Set<Listener<RegistrationEvent>>();
  private epoch: bigint | null = null;

  constructor(serverId: number, leave: () => void) {
    this.serverId = serverId;
    this.leave = leave;
  }

  get isRegistered(): boolean {
    return this.epoch !== null;
  }

  get registrationEpoch(): bigint | null {
    return this.epoch;
  }

  registered(epoch: bigint): void {
    this.epoch = epoch;
    emitAll(this.listeners, { kind: "registered", registrationEpoch: epoch });
  }

  expired(): void {
    this.epoch = null;
    emitAll(this.listeners, { kind: "expired" });
  }

  onEvent(listener: Listener<RegistrationEvent>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.epoch = null;
    this.leave();
    this.listeners.clear();
  }
}
