// A simulated tablet server: the replicas of the buckets it hosts, each with its log model and the
// protocol core of its role (LeaderReplica or FollowerReplica, made by the run's variant), driven the
// way a tablet server drives them: NotifyLeaderAndIsr makes it leader or follower, a leader answers
// follower fetches, epoch queries and produce requests (acks=all: answered once committed), proposes
// ISR changes on a timer and after fetches, and flushes its log in the background (group commit);
// a follower runs its core's actions (RPCs, truncations, appends that resolve once flushed).
// Crash = kill -9 (unflushed data lost, every role forgotten); pause = SIGSTOP (nothing runs, time
// passes, messages wait).

import { Errors, FlussError } from "@fluss-ts/common";
import type { FollowerAction, FollowerReplica } from "../../../src/replication/follower-replica.ts";
import type { LeaderReplica } from "../../../src/replication/leader-replica.ts";
import type { LeaderAndIsr, ServerId } from "../../../src/replication/types.ts";
import type { Checker } from "./checker.ts";
import { CLIENT, COORDINATOR, type Message, ZOOKEEPER } from "./messages.ts";
import type { Network } from "./network.ts";
import { type SimBatch, SimLog } from "./sim-log.ts";
import { describeAction, type PendingAck, Replica } from "./sim-replica.ts";
import type { SimVariant } from "./variants.ts";
import type { Rng, World } from "./world.ts";

export interface ServerParams {
  readonly maxLagTimeMs: number;
  readonly minInSyncReplicas: number;
  readonly fetchBackoffMs: number;
  readonly emptyFetchDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly flushDelayMaxMs: number;
  readonly heartbeatIntervalMs: number;
  readonly fetchBatchesMax: number;
}

type Ctx = {
  world: World;
  rng: Rng;
  net: Network;
  checker: Checker;
  variant: SimVariant;
  trace: (s: string) => void;
  verbose: boolean;
};

export class SimServer {
  readonly id: ServerId;
  up = true;
  pausedUntil = Number.NEGATIVE_INFINITY;
  incarnation = 0;
  readonly replicas = new Map<number, Replica>();
  private readonly ctx: Ctx;
  private readonly params: ServerParams;
  private readonly pending = new Map<number, (m: Message) => void>();
  private nextId = 1;

  constructor(id: ServerId, buckets: readonly number[], ctx: Ctx, params: ServerParams) {
    this.id = id;
    this.ctx = ctx;
    this.params = params;
    for (const b of buckets) {
      const log = new SimLog(`server ${id} bucket ${b}`, ctx.checker);
      ctx.checker.track(log, b);
      this.replicas.set(b, new Replica(b, log));
    }
    ctx.net.register(id, {
      deliver: (from, m) => this.onMessage(from, m as Message),
      isUp: () => this.up,
      incarnation: () => this.incarnation,
      pausedUntil: () => this.pausedUntil,
    });
  }

  start(): void {
    const inc = this.incarnation;
    const heartbeat = () => {
      if (!this.alive(inc, heartbeat)) return;
      this.send(ZOOKEEPER, { kind: "heartbeat", server: this.id, incarnation: inc });
      this.ctx.world.schedule(this.params.heartbeatIntervalMs, heartbeat);
    };
    const isrCheck = () => {
      if (!this.alive(inc, isrCheck)) return;
      for (const r of this.replicas.values()) this.checkShrink(r);
      this.ctx.world.schedule(Math.max(1, this.params.maxLagTimeMs / 2), isrCheck);
    };
    heartbeat();
    this.ctx.world.schedule(this.params.maxLagTimeMs / 2, isrCheck);
  }

  /** True when a timer of incarnation `inc` may run now; a paused server runs it at resume. */
  private alive(inc: number, again: () => void): boolean {
    if (!this.up || inc !== this.incarnation) return false;
    const now = this.ctx.world.nowMs;
    if (this.pausedUntil > now) {
      this.ctx.world.schedule(this.pausedUntil - now, again);
      return false;
    }
    return true;
  }

  crash(): void {
    this.up = false;
    this.incarnation++;
    this.pending.clear();
    for (const r of this.replicas.values()) {
      r.log.crash();
      r.reset();
    }
    this.ctx.trace(`server ${this.id} crashes`);
  }

  restart(): void {
    this.up = true;
    this.incarnation++;
    this.ctx.trace(`server ${this.id} restarts`);
    this.start();
  }

  private send(to: ServerId, m: Message): void {
    this.ctx.net.send(this.id, to, m);
  }

  /** Send a request; `onAnswer` gets the answer, or null after the request timeout. */
  private request(to: ServerId, make: (id: number) => Message, onAnswer: (m: Message | null) => void): void {
    const id = this.nextId++;
    const inc = this.incarnation;
    this.pending.set(id, onAnswer);
    this.send(to, make(id));
    const expire = () => {
      if (!this.alive(inc, expire) || !this.pending.delete(id)) return;
      onAnswer(null);
    };
    this.ctx.world.schedule(this.params.requestTimeoutMs, expire);
  }

  private onMessage(from: ServerId, m: Message): void {
    if ("id" in m && m.kind.endsWith("-resp")) {
      const answer = this.pending.get(m.id);
      if (answer !== undefined) {
        this.pending.delete(m.id);
        answer(m);
      }
      return;
    }
    if (m.kind === "notify") this.onNotify(m.bucket, m.lai, m.replicas);
    else if (m.kind === "fetch") this.onFetch(from, m);
    else if (m.kind === "epoch-query") this.onEpochQuery(from, m);
    else if (m.kind === "produce") this.onProduce(from, m);
  }

  // ---- leadership ------------------------------------------------------------------------------

  private onNotify(bucket: number, lai: LeaderAndIsr, replicas: readonly ServerId[]): void {
    const r = this.replicas.get(bucket);
    if (r === undefined || lai.bucketEpoch < r.knownBucketEpoch || lai.leaderEpoch < r.knownLeaderEpoch)
      return;
    const notice = { leaderAndIsr: lai, replicas };
    if (lai.leader === this.id) {
      if (r.leader !== null && r.leader.leaderEpoch === lai.leaderEpoch) {
        try {
          r.leader.update(notice);
        } catch {
          return; // older than what this leader already has (its AdjustIsr answer came first)
        }
      } else if (!this.makeLeader(r, notice)) {
        this.ackNotify(bucket, lai, lai.leaderEpoch);
        return;
      }
      this.completeAcks(r);
    } else {
      this.makeFollower(r, lai);
    }
    r.knownLeaderEpoch = lai.leaderEpoch;
    r.knownBucketEpoch = lai.bucketEpoch;
    this.ackNotify(bucket, lai, null);
  }

  private ackNotify(bucket: number, lai: LeaderAndIsr, refusedEpoch: number | null): void {
    this.send(COORDINATOR, {
      kind: "notify-ack",
      bucket,
      server: this.id,
      incarnation: this.incarnation,
      leaderEpoch: lai.leaderEpoch,
      bucketEpoch: lai.bucketEpoch,
      refusedEpoch,
    });
  }

  private makeLeader(
    r: Replica,
    notice: { leaderAndIsr: LeaderAndIsr; replicas: readonly ServerId[] },
  ): boolean {
    const epoch = notice.leaderAndIsr.leaderEpoch;
    r.follower?.stop();
    r.follower = null;
    try {
      this.ctx.variant.claimEpoch(r.log, epoch);
    } catch {
      return false; // a stale notice, or this server led that epoch before a crash: wait for a newer one
    }
    const options = this.ctx.variant.leaderOptions({
      localId: this.id,
      clock: this.ctx.world.clock,
      maxLagTimeMs: this.params.maxLagTimeMs,
      minInSyncReplicas: this.params.minInSyncReplicas,
      hwRequiresFlush: true,
    });
    const previous = r.leader !== null && r.leader.leaderEpoch < epoch ? r.leader : undefined;
    r.leader = this.ctx.variant.makeLeader(options, r.log, notice, previous);
    this.ctx.trace(
      `server ${this.id} leads bucket ${r.bucket} in epoch ${epoch}, log end ${r.log.logEndOffset}`,
    );
    this.ctx.checker.onBecomeLeader(r.bucket, this.id, epoch, r.log);
    return true;
  }

  private makeFollower(r: Replica, lai: LeaderAndIsr): void {
    if (r.leader !== null) {
      this.failAcks(r);
      r.leader = null;
    }
    if (r.follower === null) {
      r.follower = this.ctx.variant.makeFollower(
        {
          localId: this.id,
          clock: this.ctx.world.clock,
          fetchBackoffMs: this.params.fetchBackoffMs,
          emptyFetchDelayMs: this.params.emptyFetchDelayMs,
        },
        r.log,
      );
    }
    try {
      if (r.follower.onLeaderAndIsr(lai.leader, lai.leaderEpoch) === "new-epoch") {
        this.ctx.trace(
          `server ${this.id} follows ${lai.leader} for bucket ${r.bucket} in epoch ${lai.leaderEpoch}`,
        );
      }
    } catch {
      return; // an older epoch
    }
    this.pump(r);
  }

  private failAcks(r: Replica): void {
    const err = new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "no longer the leader");
    for (const a of r.acks) this.send(CLIENT, { kind: "produce-resp", id: a.id, error: err, base: -1n });
    r.acks = [];
  }

  // ---- leader side -----------------------------------------------------------------------------

  private onProduce(from: ServerId, m: Extract<Message, { kind: "produce" }>): void {
    const r = this.replicas.get(m.bucket);
    const reply = (error: FlussError | null, base = -1n) =>
      this.send(from, { kind: "produce-resp", id: m.id, error, base });
    if (r?.leader == null) {
      reply(new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "not the leader"));
      return;
    }
    const leader = r.leader;
    let batch: SimBatch | null;
    try {
      leader.checkAppend(-1);
      batch = r.log.checkWriter(m.writerId, m.seq);
    } catch (err) {
      reply(err as FlussError);
      return;
    }
    if (batch !== null && batch.recordId !== m.recordId) {
      this.ctx.checker.fail(
        `writer ${m.writerId} seq ${m.seq} is record ${batch.recordId} and ${m.recordId}`,
      );
    }
    if (batch === null) {
      batch = r.log.appendAsLeader({
        count: m.count,
        epoch: leader.leaderEpoch,
        writerId: m.writerId,
        seq: m.seq,
        recordId: m.recordId,
      });
      this.flush(r);
    }
    r.acks.push({ id: m.id, recordId: m.recordId, base: batch.base, count: batch.count });
    leader.onLogAdvanced();
    this.completeAcks(r);
  }

  private completeAcks(r: Replica): void {
    const leader = r.leader;
    if (leader === null) return;
    const keep: PendingAck[] = [];
    for (const a of r.acks) {
      const state = leader.ackState(a.base + BigInt(a.count));
      if (state === "pending") {
        keep.push(a);
        continue;
      }
      if (state === "done")
        this.ctx.checker.onAck(r.bucket, leader.leaderEpoch, a.recordId, a.base, a.count, r.log);
      const error = state === "done" ? null : state;
      this.send(CLIENT, { kind: "produce-resp", id: a.id, error, base: a.base });
    }
    r.acks = keep;
  }

  private onFetch(from: ServerId, m: Extract<Message, { kind: "fetch" }>): void {
    const r = this.replicas.get(m.bucket);
    const reply = (result: Extract<Message, { kind: "fetch-resp" }>["result"]) =>
      this.send(from, { kind: "fetch-resp", id: m.id, result });
    if (r?.leader == null) {
      reply({ error: new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "not the leader") });
      return;
    }
    const out = r.leader.onFollowerFetch(m.follower, m.fetchOffset, m.leaderEpoch);
    if (out.error !== null) {
      reply({ error: out.error, logStartOffset: r.log.logStartOffset });
      return;
    }
    const batches = r.log.read(m.fetchOffset, this.params.fetchBatchesMax);
    const last = batches.at(-1);
    const end = last === undefined ? m.fetchOffset : last.base + BigInt(last.count);
    reply({
      records: batches.length > 0 ? batches : null,
      epochs: r.log.epochEntriesFor(m.fetchOffset, end),
      highWatermark: r.log.highWatermark,
      logStartOffset: r.log.logStartOffset,
    });
    if (out.proposal !== null) this.proposeIsr(r, out.proposal);
    if (out.highWatermarkAdvanced) this.completeAcks(r);
    if (this.ctx.verbose && r.leader.pendingIsrProposal !== null && out.proposal === null) {
      this.ctx.trace(
        `server ${this.id} bucket ${r.bucket}: AdjustIsr [${r.leader.pendingIsrProposal.isr}] still pending`,
      );
    }
  }

  private onEpochQuery(from: ServerId, m: Extract<Message, { kind: "epoch-query" }>): void {
    const r = this.replicas.get(m.bucket);
    const result =
      r?.leader == null
        ? new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "not the leader")
        : r.leader.answerEpochQuery(m.leaderEpoch, m.requestedEpoch);
    this.send(from, { kind: "epoch-resp", id: m.id, result });
  }

  private checkShrink(r: Replica): void {
    const proposal = r.leader?.checkIsrShrink() ?? null;
    if (proposal !== null) this.proposeIsr(r, proposal);
  }

  private proposeIsr(r: Replica, proposal: LeaderAndIsr): void {
    const leader = r.leader;
    if (leader === null) return;
    this.request(
      COORDINATOR,
      (id) => ({ kind: "adjust-isr", id, bucket: r.bucket, proposal }),
      (answer) => {
        if (r.leader !== leader) return;
        const result =
          answer?.kind === "adjust-isr-resp"
            ? answer.result
            : new FlussError(Errors.REQUEST_TIME_OUT, "no answer to AdjustIsr");
        const out = leader.onAdjustIsrResult(proposal, result);
        if (this.ctx.verbose) {
          const what =
            result instanceof FlussError
              ? result.message
              : `[${result.isr}] bucket epoch ${result.bucketEpoch}`;
          this.ctx.trace(
            `server ${this.id} bucket ${r.bucket}: AdjustIsr [${proposal.isr}] answered ${what}`,
          );
        }
        if (out.highWatermarkAdvanced) this.completeAcks(r);
        const retry = out.retry;
        if (retry !== null)
          this.ctx.world.schedule(this.params.fetchBackoffMs, () => this.retryIsr(r, leader, retry));
      },
    );
  }

  private retryIsr(r: Replica, leader: LeaderReplica, proposal: LeaderAndIsr): void {
    if (this.up && r.leader === leader && leader.pendingIsrProposal === proposal)
      this.proposeIsr(r, proposal);
  }

  // ---- flushes (group commit) --------------------------------------------------------------------

  private flush(r: Replica): void {
    const inc = this.incarnation;
    r.flush(
      this.ctx.rng.int(0, this.params.flushDelayMaxMs),
      (delayMs, run) => {
        const again = () => {
          if (this.alive(inc, again)) run();
        };
        this.ctx.world.schedule(delayMs, again);
      },
      () => {
        if (r.leader?.onLogAdvanced()) this.completeAcks(r);
        if (r.log.logEndOffset > r.log.flushedOffset) this.flush(r);
      },
    );
  }

  /** Resolve once every offset below `offset` is flushed (false when the log was cut below it first). */
  private whenFlushed(r: Replica, offset: bigint, done: (ok: boolean) => void): void {
    if (r.log.flushedOffset >= offset) {
      done(true);
      return;
    }
    r.waiters.push({ offset, done });
    this.flush(r);
  }

  // ---- follower side ---------------------------------------------------------------------------

  /** Run the follower core's actions until it waits for an answer or a timer. */
  private pump(r: Replica): void {
    const f = r.follower;
    for (let i = 0; f !== null && r.follower === f && i < 16; i++) {
      const a = f.nextAction();
      if (a === null) return;
      if (a.kind === "wait") {
        this.wakeAt(r, a.untilMs);
        return;
      }
      if (this.ctx.verbose) this.ctx.trace(`server ${this.id} bucket ${r.bucket}: ${describeAction(a)}`);
      if (!this.run(r, f, a)) return;
    }
  }

  private wakeAt(r: Replica, untilMs: number): void {
    if (r.wakeScheduled) return;
    r.wakeScheduled = true;
    const inc = this.incarnation;
    const wake = () => {
      if (!this.alive(inc, wake)) return;
      r.wakeScheduled = false;
      this.pump(r);
    };
    this.ctx.world.schedule(untilMs - this.ctx.world.nowMs, wake);
  }

  /** Perform one action; true when the next may follow at once. */
  private run(
    r: Replica,
    f: FollowerReplica<SimBatch[]>,
    a: Exclude<FollowerAction<SimBatch[]>, { kind: "wait" }>,
  ): boolean {
    const after = () => {
      if (this.up && r.follower === f) this.pump(r);
    };
    switch (a.kind) {
      case "query-epoch":
        this.request(
          a.leader,
          (id) => ({
            kind: "epoch-query",
            id,
            bucket: r.bucket,
            leaderEpoch: a.leaderEpoch,
            requestedEpoch: a.requestedEpoch,
          }),
          (m) => {
            f.onEpochQueryResult(a, m?.kind === "epoch-resp" ? m.result : timeout());
            after();
          },
        );
        return false;
      case "fetch":
        this.request(
          a.leader,
          (id) => ({
            kind: "fetch",
            id,
            bucket: r.bucket,
            follower: this.id,
            leaderEpoch: a.leaderEpoch,
            fetchOffset: a.fetchOffset,
          }),
          (m) => {
            f.onFetchResult(a, m?.kind === "fetch-resp" ? m.result : { error: timeout() });
            after();
          },
        );
        return false;
      case "truncate":
      case "truncate-fully": {
        const before = r.log.logEndOffset;
        if (a.kind === "truncate") r.log.truncateTo(a.offset);
        else r.log.truncateFullyAndStartAt(a.offset);
        r.cutWaiters();
        this.ctx.trace(
          `server ${this.id} bucket ${r.bucket}: truncated ${before} -> ${r.log.logEndOffset} (${a.reason})`,
        );
        f.onLocalResult(a, null);
        return true;
      }
      case "append": {
        try {
          r.log.appendAsFollower(a.records, a.epochs);
        } catch (err) {
          f.onLocalResult(a, err as FlussError);
          return true;
        }
        const inc = this.incarnation;
        this.whenFlushed(r, r.log.logEndOffset, (ok) => {
          if (inc !== this.incarnation) return;
          f.onLocalResult(
            a,
            ok ? null : new FlussError(Errors.LOG_STORAGE_EXCEPTION, "truncated before flushed"),
          );
          after();
        });
        return false;
      }
    }
  }
}

function timeout(): FlussError {
  return new FlussError(Errors.REQUEST_TIME_OUT, "no answer");
}
