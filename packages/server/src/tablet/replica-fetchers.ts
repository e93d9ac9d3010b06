// The follower side of replication on a tablet server (Fluss's ReplicaFetcherManager and
// ReplicaFetcherThread): every bucket this server follows runs its FollowerReplica's actions
// (replication/follower-replica.ts) one at a time — epoch queries and fetches go to the leader,
// batched per leader (one LeaderSession per leader server: all buckets ready at that moment in one
// OffsetForLeaderEpoch or one FetchLog request, several FetchLog requests in flight at most
// FETCHES_IN_FLIGHT_MAX); truncations run at once (each logged at warn with what it cut); appends
// (appendAsFollower, durable under the flush mode before the next fetch tells the leader) run
// asynchronously; waits are timers on the injected Scheduler.
// A bucket stops being followed (`unfollow`) when its replica leads or stops; the returned promise
// resolves once a log change in flight completed, so the caller can hand the log to a leader.
// Invariants: at most one action per bucket in flight (the core guarantees it); answers to
// abandoned actions are ignored by the core; after `close` nothing is sent.

import {
  assert,
  type Clock,
  Errors,
  errorFromCode,
  FlussError,
  type Scheduler,
  type TimerHandle,
  toFlussError,
} from "@fluss-ts/common";
import {
  ApiKeys,
  isFieldSet,
  PbFetchLogRespForBucketSchema,
  PbOffsetForLeaderEpochRespForBucketSchema,
  RpcConnection,
} from "@fluss-ts/rpc";
import type { EpochEndOffset } from "@fluss-ts/storage";
import { FETCH_BYTES_MIN, FETCH_FRAME_OVERHEAD_BYTES } from "../config.ts";
import type { ServerNode } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import type { FetchAnswer, FetchFailure, FollowerAction } from "../replication/follower-replica.ts";
import { type Replica, replicaKey } from "./replica.ts";
import { bucketName } from "./replica-manager.ts";

/** FetchLog requests one follower keeps in flight to one leader. */
export const FETCHES_IN_FLIGHT_MAX = 4;
/** Actions one bucket runs in a row before yielding to the event loop. */
const ACTIONS_IN_A_ROW_MAX = 32;

export interface ReplicaFetchersOptions {
  readonly serverId: number;
  /** The address of a live tablet server (the metadata cache), or undefined. */
  readonly serverNode: (id: number) => ServerNode | undefined;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** log.replica.fetch.wait-max-time, .min-bytes, .max-bytes, .max-bytes-for-bucket. */
  readonly fetchWaitMaxMs: number;
  readonly fetchMinBytes: number;
  readonly fetchBytesMax: number;
  readonly fetchBucketBytesMax: number;
  /** Frames the leader's answers may use (rpc.frame.max-size). */
  readonly frameBytesMax: number;
}

type FetchAction = Extract<FollowerAction<Uint8Array>, { kind: "fetch" }>;
type QueryAction = Extract<FollowerAction<Uint8Array>, { kind: "query-epoch" }>;

interface Followed {
  readonly replica: Replica;
  /** A log change in flight (an append), awaited before the log goes to a leader. */
  local: Promise<void> | null;
  timer: TimerHandle | undefined;
  stopped: boolean;
}

export class ReplicaFetchers {
  private readonly o: ReplicaFetchersOptions;
  private readonly followed = new Map<string, Followed>();
  private readonly sessions = new Map<number, LeaderSession>();
  private closed = false;

  constructor(o: ReplicaFetchersOptions) {
    this.o = o;
  }

  /** Buckets followed now. */
  get size(): number {
    return this.followed.size;
  }

  /** Start (or go on) running `replica`'s follower actions; call after every new leader epoch. */
  follow(replica: Replica): void {
    assert(replica.follower !== null, "a followed replica has a follower core");
    if (this.closed) return;
    const key = replicaKey(replica.id);
    let f = this.followed.get(key);
    if (f === undefined || f.replica !== replica) {
      f = { replica, local: null, timer: undefined, stopped: false };
      this.followed.set(key, f);
    }
    this.o.scheduler.clearTimeout(f.timer);
    f.timer = undefined;
    this.pump(f);
  }

  /** Stop following `replica`; resolves once its log change in flight (if any) completed. */
  async unfollow(replica: Replica): Promise<void> {
    const key = replicaKey(replica.id);
    const f = this.followed.get(key);
    if (f === undefined || f.replica !== replica) return;
    this.followed.delete(key);
    f.stopped = true;
    this.o.scheduler.clearTimeout(f.timer);
    replica.follower?.stop();
    await f.local;
  }

  /** Stop everything (server shutdown); log changes in flight complete on their own. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.followed.values()];
    for (const f of all) await this.unfollow(f.replica);
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }

  /** Run the bucket's actions until it waits for an answer, a timer or a log change. */
  pump(f: Followed): void {
    for (let i = 0; i < ACTIONS_IN_A_ROW_MAX; i++) {
      const core = f.replica.follower;
      if (f.stopped || core === null || this.closed) return;
      const a = core.nextAction();
      if (a === null) return;
      switch (a.kind) {
        case "wait":
          this.wakeAt(f, a.untilMs);
          return;
        case "query-epoch":
        case "fetch":
          this.session(a.leader).enqueue(f, a);
          return;
        case "truncate":
        case "truncate-fully":
          core.onLocalResult(a, this.truncate(f.replica, a));
          continue;
        case "append":
          f.local = this.append(f, a);
          return;
      }
    }
    queueMicrotask(() => this.pump(f)); // a long run of actions: let others go first
  }

  private wakeAt(f: Followed, untilMs: number): void {
    this.o.scheduler.clearTimeout(f.timer);
    const delayMs = Math.max(0, untilMs - this.o.clock.nowMs());
    f.timer = this.o.scheduler.setTimeout(() => {
      f.timer = undefined;
      this.pump(f);
    }, delayMs);
    f.timer.unref();
  }

  private truncate(
    replica: Replica,
    a: Extract<FollowerAction<Uint8Array>, { kind: "truncate" | "truncate-fully" }>,
  ): FlussError | null {
    try {
      const info =
        a.kind === "truncate"
          ? replica.log.truncateTo(a.offset)
          : replica.log.truncateFullyAndStartAt(a.offset);
      if (info.previousEndOffset !== info.endOffset || a.kind === "truncate-fully") {
        this.o.logger.warn(
          {
            from: String(info.previousEndOffset),
            to: String(info.endOffset),
            highWatermark: String(info.previousHighWatermark),
            reason: a.reason,
          },
          `${bucketName(replica.table, replica.id.bucket, null)}: follower log truncated`,
        );
      }
      return null;
    } catch (err) {
      return toFlussError(err);
    }
  }

  private async append(
    f: Followed,
    a: Extract<FollowerAction<Uint8Array>, { kind: "append" }>,
  ): Promise<void> {
    const core = f.replica.follower;
    assert(core !== null, "an append runs for a follower");
    let error: FlussError | null = null;
    try {
      await f.replica.log.appendAsFollower(a.records, a.epochs);
    } catch (err) {
      error = toFlussError(err);
      if (!error.retriable && !error.is(Errors.CORRUPT_MESSAGE))
        this.o.logger.error(
          { err: error },
          `${bucketName(f.replica.table, f.replica.id.bucket, null)}: follower append failed`,
        );
    }
    core.onLocalResult(a, error);
    f.local = null;
    this.pump(f);
  }

  private session(leaderId: number): LeaderSession {
    let s = this.sessions.get(leaderId);
    if (s === undefined) {
      s = new LeaderSession(leaderId, this.o, (f) => this.pump(f));
      this.sessions.set(leaderId, s);
    }
    return s;
  }
}

/** The RPCs of one follower server to one leader server, batched. */
class LeaderSession {
  private readonly leaderId: number;
  private readonly o: ReplicaFetchersOptions;
  private readonly after: (f: Followed) => void;
  private fetches: Array<{ f: Followed; a: FetchAction }> = [];
  private queries: Array<{ f: Followed; a: QueryAction }> = [];
  private fetchesInFlight = 0;
  private queryInFlight = false;
  private flushScheduled = false;
  private conn: Promise<RpcConnection> | undefined;
  private closed = false;

  constructor(leaderId: number, o: ReplicaFetchersOptions, after: (f: Followed) => void) {
    this.leaderId = leaderId;
    this.o = o;
    this.after = after;
  }

  enqueue(f: Followed, a: FetchAction | QueryAction): void {
    if (a.kind === "fetch") this.fetches.push({ f, a });
    else this.queries.push({ f, a });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  close(): void {
    this.closed = true;
    const conn = this.conn;
    this.conn = undefined;
    void conn?.then((c) => c.close()).catch(() => undefined);
  }

  private flush(): void {
    if (this.closed) return;
    if (this.queries.length > 0 && !this.queryInFlight) {
      const batch = this.queries;
      this.queries = [];
      this.queryInFlight = true;
      void this.sendQueries(batch).finally(() => {
        this.queryInFlight = false;
        this.flush();
      });
    }
    if (this.fetches.length > 0 && this.fetchesInFlight < FETCHES_IN_FLIGHT_MAX) {
      const batch = this.fetches;
      this.fetches = [];
      this.fetchesInFlight++;
      void this.sendFetch(batch).finally(() => {
        this.fetchesInFlight--;
        this.flush();
      });
    }
  }

  private connection(): Promise<RpcConnection> {
    const current = this.conn;
    if (current)
      return current.then(
        (c) => (c.isOpen ? c : this.reconnect()),
        () => this.reconnect(),
      );
    return this.reconnect();
  }

  private reconnect(): Promise<RpcConnection> {
    const node = this.o.serverNode(this.leaderId);
    if (node === undefined) {
      return Promise.reject(
        new FlussError(
          Errors.NETWORK_EXCEPTION,
          `leader ${this.leaderId} is not a live tablet server here yet`,
        ),
      );
    }
    const p = RpcConnection.connect({
      host: node.host,
      port: node.port,
      timers: this.o.scheduler,
      clock: this.o.clock,
      requestTimeoutMs: this.o.fetchWaitMaxMs + 30_000,
      frameBytesMax: this.o.frameBytesMax,
    });
    this.conn = p;
    p.catch(() => {
      if (this.conn === p) this.conn = undefined;
    });
    return p;
  }

  private async sendQueries(batch: Array<{ f: Followed; a: QueryAction }>): Promise<void> {
    let answers: Array<EpochEndOffset | FlussError>;
    try {
      const conn = await this.connection();
      const resp = await conn.request(ApiKeys.OFFSET_FOR_LEADER_EPOCH, {
        followerServerId: this.o.serverId,
        bucketsReq: batch.map(({ f, a }) => ({
          ...bucketRef(f.replica),
          currentLeaderEpoch: a.leaderEpoch,
          leaderEpoch: a.requestedEpoch,
        })),
      });
      const byKey = new Map(
        resp.bucketsResp.map((b) => {
          const partitioned = isFieldSet(b, PbOffsetForLeaderEpochRespForBucketSchema.field.partitionId);
          return [answerKey(b.tableId, partitioned ? b.partitionId : null, b.bucketId), b];
        }),
      );
      answers = batch.map(({ f }) => {
        const b = byKey.get(replicaKey(f.replica.id));
        if (b === undefined) return new FlussError(Errors.NETWORK_EXCEPTION, "no answer for the bucket");
        if (b.errorCode !== 0) return errorFromCode(b.errorCode, b.errorMessage);
        return { epoch: b.leaderEpoch, endOffset: b.endOffset };
      });
    } catch (err) {
      const e = this.failed(err);
      answers = batch.map(() => e);
    }
    batch.forEach(({ f, a }, i) => {
      f.replica.follower?.onEpochQueryResult(a, answers[i]!);
      this.after(f);
    });
  }

  private async sendFetch(batch: Array<{ f: Followed; a: FetchAction }>): Promise<void> {
    let answers: Array<FetchAnswer<Uint8Array> | FetchFailure>;
    try {
      const conn = await this.connection();
      const resp = await conn.request(ApiKeys.FETCH_LOG, this.fetchRequest(batch));
      const byKey = new Map<string, (typeof resp.tablesResp)[number]["bucketsResp"][number]>();
      for (const t of resp.tablesResp) {
        for (const b of t.bucketsResp) {
          const partitioned = isFieldSet(b, PbFetchLogRespForBucketSchema.field.partitionId);
          byKey.set(answerKey(t.tableId, partitioned ? b.partitionId : null, b.bucketId), b);
        }
      }
      answers = batch.map(({ f }) => {
        const b = byKey.get(replicaKey(f.replica.id));
        if (b === undefined)
          return { error: new FlussError(Errors.NETWORK_EXCEPTION, "no answer for the bucket") };
        if (b.errorCode !== 0) {
          const failure: FetchFailure = { error: errorFromCode(b.errorCode, b.errorMessage) };
          return isFieldSet(b, PbFetchLogRespForBucketSchema.field.logStartOffset)
            ? { ...failure, logStartOffset: b.logStartOffset }
            : failure;
        }
        return {
          records: b.records.byteLength > 0 ? b.records : null,
          epochs: b.epochEntries.map((e) => ({ epoch: e.epoch, startOffset: e.startOffset })),
          highWatermark: b.highWatermark,
          logStartOffset: b.logStartOffset,
        };
      });
    } catch (err) {
      const error = this.failed(err);
      answers = batch.map(() => ({ error }));
    }
    batch.forEach(({ f, a }, i) => {
      f.replica.follower?.onFetchResult(a, answers[i]!);
      this.after(f);
    });
  }

  private fetchRequest(batch: ReadonlyArray<{ f: Followed; a: FetchAction }>) {
    const byTable = new Map<bigint, Array<{ f: Followed; a: FetchAction }>>();
    for (const item of batch) {
      const list = byTable.get(item.f.replica.id.tableId) ?? [];
      list.push(item);
      byTable.set(item.f.replica.id.tableId, list);
    }
    return {
      followerServerId: this.o.serverId,
      // Within one frame of this connection (the leader caps it by its own fetch bound as well).
      maxBytes: Math.max(
        FETCH_BYTES_MIN,
        Math.min(this.o.fetchBytesMax, this.o.frameBytesMax - FETCH_FRAME_OVERHEAD_BYTES),
      ),
      maxWaitMs: this.o.fetchWaitMaxMs,
      minBytes: this.o.fetchMinBytes,
      tablesReq: [...byTable].map(([tableId, items]) => ({
        tableId,
        projectionPushdownEnabled: false,
        bucketsReq: items.map(({ f, a }) => ({
          ...(f.replica.id.partitionId === null ? {} : { partitionId: f.replica.id.partitionId }),
          bucketId: f.replica.id.bucket,
          fetchOffset: a.fetchOffset,
          maxFetchBytes: this.o.fetchBucketBytesMax,
          currentLeaderEpoch: a.leaderEpoch,
        })),
      })),
    };
  }

  /** A failed request: drop the connection when it broke; the error every action of it gets. */
  private failed(err: unknown): FlussError {
    const e = toFlussError(err);
    if (e.is(Errors.NETWORK_EXCEPTION) || e.is(Errors.REQUEST_TIME_OUT)) {
      const conn = this.conn;
      this.conn = undefined;
      void conn?.then((c) => c.close()).catch(() => undefined);
    }
    this.o.logger.debug({ err: e, leader: this.leaderId }, "a request to a bucket leader failed");
    return e;
  }
}

function bucketRef(r: Replica): { tableId: bigint; partitionId?: bigint; bucketId: number } {
  return {
    tableId: r.id.tableId,
    ...(r.id.partitionId === null ? {} : { partitionId: r.id.partitionId }),
    bucketId: r.id.bucket,
  };
}

function answerKey(tableId: bigint, partitionId: bigint | null, bucket: number): string {
  return replicaKey({ tableId, partitionId, bucket });
}
