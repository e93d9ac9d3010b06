// Tablet-server membership without ZooKeeper (the local cluster, and clusters started with a
// coordinator address instead of `zookeeper.address`): a tablet server registers over RPC
// (RegisterTabletServer, fluss-ts's private API) and repeats it as a heartbeat; the coordinator
// forgets a server it has not heard from for `sessionTimeoutMs`, as ZooKeeper expires an ephemeral
// node. A registration from a new incarnation (the server restarted) or from a server the
// coordinator does not know (the coordinator restarted, or the server was expired) is a join: the
// server is told the metadata and its replicas again. With ZooKeeper the registry of part A plays
// this role instead, feeding the same join/leave calls.
// Invariants: a server is joined once per incarnation; expiry is checked on the injected Scheduler
// against the injected Clock; a join in progress is not repeated by the heartbeats that follow.

import type { Clock, Scheduler, TimerHandle } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type { ServerNode, TabletServerGateway } from "./types.ts";

export interface Membership {
  registerTabletServer(gateway: TabletServerGateway): Promise<void>;
  unregisterTabletServer(id: number): Promise<void>;
}

interface Member {
  readonly node: ServerNode;
  readonly incarnation: bigint;
  lastSeenMs: number;
  joined: Promise<void>;
}

export interface HeartbeatRegistryOptions {
  readonly membership: Membership;
  /** A gateway (RPC client) to a tablet server that joined. */
  readonly connect: (node: ServerNode) => TabletServerGateway;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
}

export class HeartbeatRegistry {
  private readonly o: HeartbeatRegistryOptions;
  private readonly members = new Map<number, Member>();
  private timer: TimerHandle | undefined;

  constructor(o: HeartbeatRegistryOptions) {
    this.o = o;
  }

  get heartbeatIntervalMs(): number {
    return this.o.heartbeatIntervalMs;
  }

  get sessionTimeoutMs(): number {
    return this.o.sessionTimeoutMs;
  }

  /** Start expiring silent servers. */
  start(): void {
    if (this.timer) return;
    this.timer = this.o.scheduler.setInterval(() => this.expire(), this.o.heartbeatIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.o.scheduler.clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * A registration or heartbeat of `node`. Resolves once the server is a member (for a join: once it
   * was told its replicas and answered, bounded by the coordinator's wait).
   */
  heartbeat(node: ServerNode, incarnation: bigint): Promise<void> {
    const now = this.o.clock.nowMs();
    const m = this.members.get(node.id);
    const sameAddress = m && m.node.host === node.host && m.node.port === node.port;
    if (m && m.incarnation === incarnation && sameAddress) {
      m.lastSeenMs = now;
      return m.joined;
    }
    const member: Member = { node, incarnation, lastSeenMs: now, joined: Promise.resolve() };
    this.members.set(node.id, member);
    this.o.logger.info({ server: node, incarnation: String(incarnation) }, "tablet server joins");
    member.joined = this.o.membership.registerTabletServer(this.o.connect(node));
    // A join that failed is tried again by the next heartbeat.
    member.joined.catch(() => {
      if (this.members.get(node.id) === member) this.members.delete(node.id);
    });
    return member.joined;
  }

  /** Forget servers silent longer than the session timeout. */
  expire(): void {
    const now = this.o.clock.nowMs();
    for (const [id, m] of [...this.members]) {
      if (now - m.lastSeenMs <= this.o.sessionTimeoutMs) continue;
      this.members.delete(id);
      this.o.logger.warn({ server: m.node, silentMs: now - m.lastSeenMs }, "tablet server session expired");
      void this.o.membership.unregisterTabletServer(id).catch((err: unknown) => {
        this.o.logger.error({ err, server: id }, "forgetting an expired tablet server failed");
      });
    }
  }
}
