// The simulated coordinator and ZooKeeper. ZooKeeper keeps the leadership records (they survive a
// coordinator crash) and the tablet servers' sessions: a server whose heartbeats stop for the
// session timeout (crashed, paused, or cut off by a partition) expires; a heartbeat from a new
// incarnation (a restart) or after expiry opens a new session. The coordinator reacts as Fluss's
// does, with the rules of election.ts: an expired server leaves every ISR (a leader leaves its
// bucket leaderless, then a new leader is elected from the alive ISR); a returning server makes
// leaderless buckets electable again; AdjustIsr is checked and recorded; every record change is
// sent to the bucket's alive replicas (NotifyLeaderAndIsr) and resent until each acknowledges it.
// A coordinator crash loses its memory; at restart it bumps its epoch and reconciles with ZooKeeper.

import type { FlussError } from "@fluss-ts/common";
import {
  type ElectionContext,
  electLeader,
  initialLeadership,
  removeReplicaFromIsr,
} from "../../../src/replication/election.ts";
import { type LeaderAndIsr, NO_LEADER, type ServerId } from "../../../src/replication/types.ts";
import type { Checker } from "./checker.ts";
import { COORDINATOR, type Message, ZOOKEEPER } from "./messages.ts";
import type { Network } from "./network.ts";
import type { SimVariant } from "./variants.ts";
import type { World } from "./world.ts";

interface Session {
  incarnation: number;
  lastHeartbeatMs: number;
  alive: boolean;
}

export class SimCoordinator {
  up = true;
  epoch = 0;
  /** ZooKeeper's data: the leadership record of each bucket. */
  readonly records = new Map<number, LeaderAndIsr>();
  readonly assignment: ReadonlyMap<number, readonly ServerId[]>;
  private readonly sessions = new Map<ServerId, Session>();
  /** Per "server:bucket": the leader epoch and bucket epoch it last acknowledged. */
  private acked = new Map<string, { leaderEpoch: number; bucketEpoch: number }>();
  private readonly world: World;
  private readonly net: Network;
  private readonly checker: Checker;
  private readonly variant: SimVariant;
  private readonly sessionTimeoutMs: number;
  private readonly trace: (s: string) => void;

  constructor(
    world: World,
    net: Network,
    checker: Checker,
    variant: SimVariant,
    assignment: ReadonlyMap<number, readonly ServerId[]>,
    sessionTimeoutMs: number,
    trace: (s: string) => void,
  ) {
    this.world = world;
    this.net = net;
    this.checker = checker;
    this.variant = variant;
    this.assignment = assignment;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.trace = trace;
    net.register(COORDINATOR, {
      deliver: (from, m) => this.onMessage(from, m as Message),
      isUp: () => this.up,
      incarnation: () => this.epoch,
      pausedUntil: () => Number.NEGATIVE_INFINITY,
    });
    net.register(ZOOKEEPER, {
      deliver: (_from, m) => this.onHeartbeat(m as Message),
      isUp: () => true,
      incarnation: () => 0,
      pausedUntil: () => Number.NEGATIVE_INFINITY,
    });
  }

  /** Create the buckets with every server alive, and start the timers. */
  /**
   * `resendAll`: every resend round also repeats each bucket's record to replicas that already
   * acknowledged it (harmless to a replica that is current, news to one that restarted unnoticed).
   */
  start(servers: readonly ServerId[], resendMs: number, resendAll: boolean): void {
    for (const s of servers) this.sessions.set(s, { incarnation: 0, lastHeartbeatMs: 0, alive: true });
    for (const [bucket, replicas] of this.assignment) {
      const lai = initialLeadership(this.context(replicas));
      if (lai !== null) this.store(bucket, lai);
    }
    const sessionCheck = () => {
      this.expireSessions();
      this.world.schedule(Math.max(10, this.sessionTimeoutMs / 4), sessionCheck);
    };
    const resend = () => {
      if (this.up) for (const bucket of this.assignment.keys()) this.notify(bucket, resendAll);
      this.world.schedule(resendMs, resend);
    };
    this.world.schedule(this.sessionTimeoutMs / 4, sessionCheck);
    this.world.schedule(resendMs, resend);
  }

  isAlive(server: ServerId): boolean {
    return this.sessions.get(server)?.alive ?? false;
  }

  private context(replicas: readonly ServerId[]): ElectionContext {
    return { replicas, isAlive: (id) => this.isAlive(id), coordinatorEpoch: this.epoch };
  }

  // ---- ZooKeeper sessions ----------------------------------------------------------------------

  private onHeartbeat(m: Message): void {
    if (m.kind !== "heartbeat") return;
    const s = this.sessions.get(m.server);
    if (s === undefined) return;
    if (m.incarnation < s.incarnation) return; // a late heartbeat of a process that is gone
    if (s.alive && m.incarnation > s.incarnation) this.expire(m.server, s, "restarted");
    s.incarnation = m.incarnation;
    s.lastHeartbeatMs = this.world.nowMs;
    if (!s.alive) {
      s.alive = true;
      this.trace(`zk: server ${m.server} has a new session`);
      if (this.up) this.serverOnline(m.server);
    }
  }

  private expireSessions(): void {
    for (const [server, s] of this.sessions) {
      if (s.alive && this.world.nowMs - s.lastHeartbeatMs > this.sessionTimeoutMs)
        this.expire(server, s, "expired");
    }
  }

  private expire(server: ServerId, s: Session, why: string): void {
    s.alive = false;
    this.trace(`zk: session of server ${server} ${why}`);
    if (this.up) this.serverOffline(server);
  }

  // ---- coordinator -----------------------------------------------------------------------------

  crash(): void {
    this.up = false;
    this.trace("coordinator crashes");
  }

  restart(): void {
    this.up = true;
    this.epoch++;
    this.acked = new Map();
    this.trace(`coordinator restarts with epoch ${this.epoch}`);
    for (const [server, s] of this.sessions) if (!s.alive) this.serverOffline(server);
    for (const bucket of this.assignment.keys()) this.electIfLeaderless(bucket);
    for (const bucket of this.assignment.keys()) this.notify(bucket);
  }

  private serverOffline(server: ServerId): void {
    for (const key of [...this.acked.keys()]) if (key.startsWith(`${server}:`)) this.acked.delete(key);
    for (const [bucket, replicas] of this.assignment) {
      const current = this.records.get(bucket);
      if (current === undefined || !replicas.includes(server)) continue;
      const next = removeReplicaFromIsr(current, server, this.epoch);
      if (next === null) continue;
      const elected = next.leader === NO_LEADER ? electLeader(next, this.context(replicas)) : null;
      this.store(bucket, elected ?? next);
    }
  }

  private serverOnline(server: ServerId): void {
    for (const key of [...this.acked.keys()]) if (key.startsWith(`${server}:`)) this.acked.delete(key);
    for (const [bucket, replicas] of this.assignment) {
      if (!replicas.includes(server)) continue;
      this.electIfLeaderless(bucket);
      this.notify(bucket);
    }
  }

  private electIfLeaderless(bucket: number): void {
    const current = this.records.get(bucket);
    const replicas = this.assignment.get(bucket);
    if (current === undefined || replicas === undefined || current.leader !== NO_LEADER) return;
    const elected = electLeader(current, this.context(replicas));
    if (elected !== null) this.store(bucket, elected);
  }

  private store(bucket: number, next: LeaderAndIsr): void {
    const before = this.records.get(bucket);
    this.checker.onRecord(bucket, before, next);
    this.records.set(bucket, next);
    this.trace(
      `coordinator: bucket ${bucket} leader ${next.leader} epoch ${next.leaderEpoch} isr [${next.isr}] bucket epoch ${next.bucketEpoch}`,
    );
    this.notify(bucket);
  }

  /** Send the bucket's record to every alive replica that has not acknowledged it. */
  private notify(bucket: number, all = false): void {
    const lai = this.records.get(bucket);
    const replicas = this.assignment.get(bucket);
    if (lai === undefined || replicas === undefined) return;
    for (const s of replicas) {
      if (!this.isAlive(s)) continue;
      const acked = this.acked.get(`${s}:${bucket}`);
      const current =
        acked !== undefined &&
        acked.leaderEpoch >= lai.leaderEpoch &&
        (s !== lai.leader || acked.bucketEpoch >= lai.bucketEpoch); // followers need the leader only
      if (all || !current) this.net.send(COORDINATOR, s, { kind: "notify", bucket, lai, replicas });
    }
  }

  private onMessage(from: ServerId, m: Message): void {
    if (m.kind === "notify-ack") {
      if (this.sessions.get(m.server)?.incarnation !== m.incarnation) return;
      if (m.refusedEpoch !== null) {
        this.onRefused(m.bucket, m.server, m.refusedEpoch);
        return;
      }
      const key = `${m.server}:${m.bucket}`;
      const before = this.acked.get(key);
      if (before === undefined || m.bucketEpoch > before.bucketEpoch) {
        this.acked.set(key, { leaderEpoch: m.leaderEpoch, bucketEpoch: m.bucketEpoch });
      }
    } else if (m.kind === "adjust-isr") {
      this.net.send(COORDINATOR, from, {
        kind: "adjust-isr-resp",
        id: m.id,
        bucket: m.bucket,
        result: this.adjustIsr(m.bucket, m.proposal),
      });
    }
  }

  /** The elected leader refused its epoch (it led it before a restart): elect again, with a new epoch. */
  private onRefused(bucket: number, server: ServerId, epoch: number): void {
    const current = this.records.get(bucket);
    const replicas = this.assignment.get(bucket);
    if (current === undefined || replicas === undefined) return;
    if (current.leader !== server || current.leaderEpoch !== epoch) return;
    const elected = electLeader(current, this.context(replicas));
    if (elected !== null) this.store(bucket, elected);
  }

  private adjustIsr(bucket: number, proposal: LeaderAndIsr): LeaderAndIsr | FlussError {
    const current = this.records.get(bucket);
    const replicas = this.assignment.get(bucket) ?? [];
    try {
      const next = this.variant.checkAdjustIsr(current, proposal, this.context(replicas));
      // The change goes to the leader as a NotifyLeaderAndIsr too (until acknowledged), not only as
      // this answer: with retries, duplicates and reordering, the answer the leader acts on may be
      // an older refusal, and a leader that never learns its recorded ISR could stay pending forever.
      // Followers need only the leader and its epoch, which did not change.
      if (next !== current) this.store(bucket, next);
      return next;
    } catch (err) {
      return err as FlussError;
    }
  }
}
