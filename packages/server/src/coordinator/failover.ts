// The coordinator's leadership events, each run in its serial queue (registration.ts, isr.ts,
// elections.ts do the work), and what follows them outside the queue: the answers of the servers
// told about a change are awaited there, and a leader's refusal comes back in as a new election (or,
// for a passing failure, the same record again after REFUSAL_RESEND_MS) — bounded waits only, so
// the queue never waits on a tablet server.
// Also: servers that records name but that never joined a new coordinator run (they died while no
// coordinator watched) are taken offline one session timeout after activation.
// A join or leave that fails (ZooKeeper unreachable: a read or write of the records failed) is
// retried every MEMBERSHIP_RETRY_MS until it is done, superseded or the coordinator closes: a join
// while it is still the server's latest membership event (it is told its replicas, leaderless
// buckets get leaders), a leave as a sweep of every server the records name that is not live
// (`takeUnknownServersOffline`: the failed leave already removed it from the live set).
// Invariants: every election goes through the queue; refusals of records that moved on are dropped;
// a failed assertion in this background work crashes (background.ts).

import { isAssertionError, type Scheduler } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import { backgroundFailure } from "../util/background.ts";
import type { SerialQueue } from "../util/serial-queue.ts";
import type { CoordinatorContext } from "./context.ts";
import {
  applyChanges,
  type BucketState,
  type Pending,
  type Refusal,
  refusalChange,
  sendChanges,
  stillCurrent,
  takeUnknownServersOffline,
} from "./elections.ts";
import { type AdjustIsrRequest, type AdjustIsrResult, adjustIsr } from "./isr.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { controlledShutdown, serverJoined, serverLeft } from "./registration.ts";
import type { ReplicaRef, TabletServerGateway } from "./types.ts";

/** Wait before a leader that refused with a passing failure is sent its record again. */
export const REFUSAL_RESEND_MS = 1_000;
/** Wait before a join or leave that failed (ZooKeeper unreachable) is tried again. */
export const MEMBERSHIP_RETRY_MS = 1_000;
/** Refusal rounds one event may cause (each re-election is a new round); a bound, not a tuning knob. */
const REFUSAL_ROUNDS_MAX = 100;

export class Failover {
  private readonly ctx: CoordinatorContext;
  private readonly queue: SerialQueue;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  /** Waits for servers' answers outside the queue, bounded (the coordinator's notify wait). */
  private readonly bounded: <T>(p: Promise<T>) => Promise<T | null>;
  private closed = false;
  /** Server id -> number of its latest join or leave event (a failed join is retried only while latest). */
  private readonly latestMembership = new Map<number, number>();
  private membershipEvents = 0;

  constructor(o: {
    ctx: CoordinatorContext;
    queue: SerialQueue;
    scheduler: Scheduler;
    logger: Logger;
    bounded: <T>(p: Promise<T>) => Promise<T | null>;
  }) {
    this.ctx = o.ctx;
    this.queue = o.queue;
    this.scheduler = o.scheduler;
    this.logger = o.logger;
    this.bounded = o.bounded;
  }

  /**
   * A server joins; resolves with its answers once they came (bounded). A failure rejects (the
   * caller logs it) and the join is retried in the background.
   */
  async serverJoined(gateway: TabletServerGateway): Promise<BucketOutcome[] | null> {
    const id = gateway.node.id;
    const event = ++this.membershipEvents;
    this.latestMembership.set(id, event);
    return this.join(gateway, event, true);
  }

  private async join(gateway: TabletServerGateway, event: number, first: boolean) {
    const id = gateway.node.id;
    const latest = () => this.latestMembership.get(id) === event;
    let joined: Awaited<ReturnType<typeof serverJoined>> | null;
    try {
      joined = await this.queue.run(async () => (latest() ? serverJoined(this.ctx, gateway) : null));
    } catch (err) {
      this.retryLater(err, `tablet server ${id} joining`, () => {
        if (latest()) void this.join(gateway, event, false);
      });
      if (first) throw err;
      return null;
    }
    if (joined === null) return null;
    this.followUp(joined, 0);
    return this.bounded(joined.confirmed);
  }

  /** A server left: it goes offline, its buckets get new leaders (retried as a sweep on a failure). */
  async serverLeft(id: number): Promise<void> {
    this.latestMembership.set(id, ++this.membershipEvents);
    try {
      this.followUp(await this.queue.run(() => serverLeft(this.ctx, id)), 0);
    } catch (err) {
      this.retryLater(err, `tablet server ${id} leaving`, () => this.sweepOffline());
    }
  }

  /** Every server the records name that is not live goes offline; the others learn the server list. */
  private sweepOffline(): void {
    this.queue
      .run(async () => {
        const p = await takeUnknownServersOffline(this.ctx);
        this.ctx.servers.updateMetadata([], []);
        return p;
      })
      .then(
        (p) => this.followUp(p, 0),
        (err: unknown) =>
          this.retryLater(err, "taking absent tablet servers offline", () => this.sweepOffline()),
      );
  }

  /** A failed membership step: a failed assertion crashes; anything else is retried later. */
  private retryLater(err: unknown, what: string, retry: () => void): void {
    if (isAssertionError(err)) {
      backgroundFailure(this.logger, what)(err);
      return;
    }
    if (this.closed) return;
    this.logger.warn({ err }, `${what} failed; trying again in ${MEMBERSHIP_RETRY_MS} ms`);
    const t = this.scheduler.setTimeout(() => {
      if (!this.closed) retry();
    }, MEMBERSHIP_RETRY_MS);
    t.unref();
  }

  /** A server shutting down: leaderships move first; resolves once the new leaders answered (bounded). */
  async controlledShutdown(id: number): Promise<ReplicaRef[]> {
    const r = await this.queue.run(() => controlledShutdown(this.ctx, id));
    this.followUp(r.pending, 0);
    await this.bounded(r.pending.leadersAnswered);
    return r.remaining;
  }

  /** A leader's AdjustIsr. */
  async adjustIsr(requests: readonly AdjustIsrRequest[]): Promise<AdjustIsrResult[]> {
    const r = await this.queue.run(() => adjustIsr(this.ctx, requests));
    this.followUp(r.pending, 0);
    return r.results;
  }

  /** Take servers that have not joined this coordinator after `afterMs` offline. */
  scheduleUnknownServersOffline(afterMs: number): void {
    const t = this.scheduler.setTimeout(() => {
      if (this.closed) return;
      this.queue
        .run(() => takeUnknownServersOffline(this.ctx))
        .then((p) => this.followUp(p, 0))
        .catch(backgroundFailure(this.logger, "taking absent tablet servers offline"));
    }, afterMs);
    t.unref();
  }

  close(): void {
    this.closed = true;
  }

  private followUp(pending: Pick<Pending, "refusals">, round: number): void {
    void this.bounded(pending.refusals).then((refusals) => {
      if (refusals !== null) this.onRefusals(refusals, round);
    });
  }

  private onRefusals(refusals: readonly Refusal[], round: number): void {
    if (this.closed || refusals.length === 0) return;
    if (round >= REFUSAL_ROUNDS_MAX) {
      this.logger.error({ refusals: refusals.length }, "leaders keep refusing their leadership; giving up");
      return;
    }
    for (const r of refusals) {
      this.logger.warn(
        { err: r.error, server: r.server, leaderEpoch: r.sent.leaderEpoch, bucket: r.key.bucket },
        "a leader refused its leadership",
      );
      void this.queue
        .run(async () => {
          const { change, resend } = await refusalChange(this.ctx, r);
          if (change !== null) return applyChanges(this.ctx, [change]);
          if (resend !== null) this.resendLater(resend, round);
          return null;
        })
        .then((p) => {
          if (p !== null) this.followUp(p, round + 1);
        })
        .catch(backgroundFailure(this.logger, "electing over a refusal"));
    }
  }

  /** Send a record again later (a passing failure), if it is still the current one then. */
  private resendLater(state: BucketState, round: number): void {
    const t = this.scheduler.setTimeout(() => {
      if (this.closed) return;
      void this.queue
        .run(async () => {
          const current = await stillCurrent(this.ctx, state.key, state.lai);
          return current === undefined
            ? null
            : sendChanges(this.ctx, [{ state: current, next: current.lai }]);
        })
        .then((p) => {
          if (p !== null) this.followUp(p, round + 1);
        })
        .catch(backgroundFailure(this.logger, "resending a leadership record"));
    }, REFUSAL_RESEND_MS);
    t.unref();
  }
}
