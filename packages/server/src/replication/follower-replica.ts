// The follower side of one bucket's replication (Kafka's fetcher with KIP-101/KIP-279 truncation;
// Fluss's ReplicaFetcherThread, which still truncates by high watermark, apache/fluss#673): on
// every new leader epoch, first find where this log diverges from the leader's through the
// leader's end offset for this log's latest epoch (OffsetForLeaderEpoch), truncate there, then
// fetch from the log end, append as follower, and take the leader's high watermark (capped by the
// log end). Pure: it decides, its driver acts. The driver asks `nextAction()`, performs it (an RPC
// to the leader, or a log change: truncateTo, truncateFullyAndStartAt, appendAsFollower), and
// reports the result with the matching `on…` call; one action at a time per bucket, and a log change
// is always reported before the next is issued. `R` is the fetched records' type (bytes on a
// tablet server, model batches in the simulator).
// Truncation decision (leader answers (epoch E, end offset L) for this log's latest epoch):
//  - no epoch known on either side: truncate to this log's high watermark (logs from before epochs);
//  - this log knows E: truncate to min(its own end of E, L, log end), then fetch;
//  - it does not know E: truncate to its end of the largest epoch below E and ask again.
// Errors: FENCED_LEADER_EPOCH stops fetching until the next NotifyLeaderAndIsr; out of range below
// the leader's log start restarts the log there; out of range above redoes the truncation; any
// other error retries after `fetchBackoffMs`.

import { assert, type Clock, Errors, FlussError } from "@fluss-ts/common";
import {
  type EpochEndOffset,
  type EpochEntry,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
} from "@fluss-ts/storage";
import { NO_LEADER, type ReplicaLog, type ServerId } from "./types.ts";

export interface FollowerReplicaOptions {
  readonly localId: ServerId;
  readonly clock: Clock;
  /** log.replica.fetch.backoff-interval. */
  readonly fetchBackoffMs: number;
  /** Pause after an empty fetch (0 when the leader long-polls, as a tablet server does). */
  readonly emptyFetchDelayMs?: number;
}

export type FollowerAction<R> =
  | {
      readonly kind: "query-epoch";
      readonly id: number;
      readonly leader: ServerId;
      readonly leaderEpoch: number;
      readonly requestedEpoch: number;
    }
  | {
      readonly kind: "fetch";
      readonly id: number;
      readonly leader: ServerId;
      readonly leaderEpoch: number;
      readonly fetchOffset: bigint;
    }
  | {
      readonly kind: "truncate";
      readonly id: number;
      readonly offset: bigint;
      readonly reason: string;
      readonly nextPhase: Phase;
    }
  | {
      readonly kind: "truncate-fully";
      readonly id: number;
      readonly offset: bigint;
      readonly reason: string;
      readonly nextPhase: Phase;
    }
  | {
      readonly kind: "append";
      readonly id: number;
      readonly records: R;
      readonly epochs: readonly EpochEntry[];
      readonly leaderHighWatermark: bigint;
    }
  | { readonly kind: "wait"; readonly untilMs: number };

/** A successful fetch answer for one bucket. */
export interface FetchAnswer<R> {
  /** Null when the leader had nothing past the fetch offset. */
  readonly records: R | null;
  /** The leader's epoch entries for the returned range (LogTablet.epochEntriesFor). */
  readonly epochs: readonly EpochEntry[];
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

/** A failed fetch; `logStartOffset` comes with LOG_OFFSET_OUT_OF_RANGE when the leader knows it. */
export interface FetchFailure {
  readonly error: FlussError;
  readonly logStartOffset?: bigint;
}

/** What a follower is doing: nothing to follow, finding its divergence, fetching, or fenced (waiting for news). */
export type Phase = "idle" | "truncate" | "fetch" | "fenced";
type Issued<R> = Exclude<FollowerAction<R>, { kind: "wait" }>;
type Local<R> = Extract<FollowerAction<R>, { kind: "truncate" | "truncate-fully" | "append" }>;

export class FollowerReplica<R> {
  private readonly options: FollowerReplicaOptions;
  protected readonly log: ReplicaLog;
  private leaderId: ServerId = NO_LEADER;
  private epoch = -1;
  private phase: Phase = "idle";
  private inFlight: Issued<R> | null = null;
  private next: Local<R> | null = null;
  private delayUntilMs = Number.NEGATIVE_INFINITY;
  private ids = 0;
  /** Bumped by every new epoch and stop: a log change issued before completes without steering. */
  private generation = 0;
  private inFlightGeneration = 0;

  constructor(options: FollowerReplicaOptions, log: ReplicaLog) {
    this.options = options;
    this.log = log;
  }

  get leader(): ServerId {
    return this.leaderId;
  }

  get leaderEpoch(): number {
    return this.epoch;
  }

  /** What the follower is doing: idle (no leader), truncate, fetch, or fenced (waiting for news). */
  get state(): Phase {
    return this.phase;
  }

  /**
   * A NotifyLeaderAndIsr naming `leader` (another server, or NO_LEADER) in `leaderEpoch`. A new
   * epoch restarts the follower at the truncation step; answers in flight to the leader are then
   * ignored (a log change in flight still completes first). Throws FENCED_LEADER_EPOCH for an older epoch.
   */
  onLeaderAndIsr(leader: ServerId, leaderEpoch: number): "new-epoch" | "same" {
    assert(leader !== this.options.localId, "a follower follows another server");
    if (leaderEpoch < this.epoch) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${leaderEpoch} is older than the current ${this.epoch}`,
      );
    }
    if (leaderEpoch === this.epoch) return "same";
    this.leaderId = leader;
    this.epoch = leaderEpoch;
    this.generation++;
    this.phase = leader === NO_LEADER ? "idle" : "truncate";
    this.next = null;
    this.delayUntilMs = Number.NEGATIVE_INFINITY;
    if (this.inFlight !== null && !isLocal(this.inFlight)) this.inFlight = null;
    return "new-epoch";
  }

  /** Stop following (the replica leads now, or is stopped); a log change in flight still completes. */
  stop(): void {
    this.generation++;
    this.phase = "idle";
    this.next = null;
    if (this.inFlight !== null && !isLocal(this.inFlight)) this.inFlight = null;
  }

  /** A log change is in flight (the driver must not hand the log to a leader until it completes). */
  get busy(): boolean {
    return this.inFlight !== null && isLocal(this.inFlight);
  }

  /** The next thing to do, or null while waiting for an answer (or with nothing to follow). */
  nextAction(): FollowerAction<R> | null {
    if (this.inFlight !== null) return null;
    if (this.next !== null) return this.issue(this.next);
    if (this.phase === "idle" || this.phase === "fenced") return null;
    if (this.options.clock.nowMs() < this.delayUntilMs) return { kind: "wait", untilMs: this.delayUntilMs };
    const log = this.log;
    if (this.phase === "truncate") {
      if (log.latestEpoch === UNDEFINED_EPOCH) return this.truncateWithoutEpochs();
      const requestedEpoch = log.latestEpoch;
      return this.issue({
        kind: "query-epoch",
        id: ++this.ids,
        leader: this.leaderId,
        leaderEpoch: this.epoch,
        requestedEpoch,
      });
    }
    return this.issue({
      kind: "fetch",
      id: ++this.ids,
      leader: this.leaderId,
      leaderEpoch: this.epoch,
      fetchOffset: log.logEndOffset,
    });
  }

  private issue(action: Issued<R>): Issued<R> {
    this.inFlight = action;
    this.inFlightGeneration = this.generation;
    if (action === this.next) this.next = null;
    return action;
  }

  /** A log that holds no epochs: keep only what it knows was committed (its high watermark). */
  private truncateWithoutEpochs(): FollowerAction<R> | null {
    this.phase = "fetch";
    const log = this.log;
    if (log.logEndOffset <= log.highWatermark) return this.nextAction();
    const reason = "the log holds no leader epochs: truncating to its high watermark";
    return this.issue({
      kind: "truncate",
      id: ++this.ids,
      offset: log.highWatermark,
      reason,
      nextPhase: "fetch",
    });
  }

  private accept(action: FollowerAction<R>): boolean {
    if (this.inFlight !== action) return false; // an answer to an abandoned request
    this.inFlight = null;
    return true;
  }

  private backOff(): void {
    this.delayUntilMs = this.options.clock.nowMs() + this.options.fetchBackoffMs;
  }

  /** The leader's answer to a query-epoch action. */
  onEpochQueryResult(action: FollowerAction<R>, result: EpochEndOffset | FlussError): void {
    assert(action.kind === "query-epoch", "an epoch answer answers an epoch query");
    if (!this.accept(action)) return;
    if (result instanceof FlussError) {
      if (result.is(Errors.FENCED_LEADER_EPOCH_EXCEPTION)) this.phase = "fenced";
      else this.backOff();
      return;
    }
    const { offset, final, why } = this.divergence(result);
    const then: Phase = final ? "fetch" : "truncate";
    if (offset < this.log.logEndOffset) {
      const reason = `diverges from leader ${this.leaderId} of epoch ${this.epoch}: ${why}`;
      this.next = { kind: "truncate", id: ++this.ids, offset, reason, nextPhase: then };
    } else {
      this.phase = "fetch"; // nothing to cut (and nothing left to ask: asking again would repeat)
    }
  }

  /** Where this log stops agreeing with the leader's (Kafka getOffsetTruncationState). */
  protected divergence(leader: EpochEndOffset): { offset: bigint; final: boolean; why: string } {
    const log = this.log;
    const leo = log.logEndOffset;
    if (leader.endOffset === UNDEFINED_EPOCH_OFFSET) {
      return {
        offset: log.highWatermark,
        final: true,
        why: `the leader knows no epoch up to ${log.latestEpoch}`,
      };
    }
    const why = `the leader's epoch ${leader.epoch} ends at ${leader.endOffset}`;
    if (leader.epoch === UNDEFINED_EPOCH) return { offset: min(leader.endOffset, leo), final: true, why };
    const mine = log.endOffsetForEpoch(leader.epoch);
    if (mine.endOffset === UNDEFINED_EPOCH_OFFSET)
      return { offset: min(leader.endOffset, leo), final: true, why };
    if (mine.epoch !== leader.epoch) {
      return { offset: min(mine.endOffset, leo), final: false, why: `${why}, unknown here` };
    }
    return { offset: min(min(mine.endOffset, leader.endOffset), leo), final: true, why };
  }

  /** The leader's answer to a fetch action. */
  onFetchResult(action: FollowerAction<R>, result: FetchAnswer<R> | FetchFailure): void {
    assert(action.kind === "fetch", "a fetch answer answers a fetch");
    if (!this.accept(action)) return;
    if ("error" in result) {
      this.onFetchFailure(result);
      return;
    }
    if (action.fetchOffset !== this.log.logEndOffset) return; // the log moved meanwhile: fetch again
    if (result.records === null) {
      this.takeHighWatermark(result.highWatermark);
      const delayMs = this.options.emptyFetchDelayMs ?? 0;
      if (delayMs > 0) this.delayUntilMs = this.options.clock.nowMs() + delayMs;
      return;
    }
    this.next = {
      kind: "append",
      id: ++this.ids,
      records: result.records,
      epochs: result.epochs,
      leaderHighWatermark: result.highWatermark,
    };
  }

  private onFetchFailure(failure: FetchFailure): void {
    const err = failure.error;
    if (err.is(Errors.FENCED_LEADER_EPOCH_EXCEPTION)) {
      this.phase = "fenced";
    } else if (err.is(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION)) {
      const start = failure.logStartOffset;
      if (start !== undefined && start > this.log.logEndOffset) {
        const reason = `the leader's log starts at ${start}, past this log's end`;
        this.next = { kind: "truncate-fully", id: ++this.ids, offset: start, reason, nextPhase: "fetch" };
      } else {
        this.phase = "truncate";
      }
    } else {
      this.backOff();
    }
  }

  /** The driver finished a log change (`error` when it failed). */
  onLocalResult(action: FollowerAction<R>, error: FlussError | null): void {
    assert(isLocal(action) && this.inFlight === action, "a log change completes the one in flight");
    this.inFlight = null;
    if (this.inFlightGeneration !== this.generation) return; // a new epoch (or a stop) came meanwhile
    if (action.kind === "append") {
      if (error === null) {
        this.takeHighWatermark(action.leaderHighWatermark);
      } else if (error.is(Errors.CORRUPT_MESSAGE)) {
        this.phase = "truncate"; // batches from an older epoch than the log holds: find the divergence again
      } else {
        this.backOff();
      }
      return;
    }
    if (error !== null) {
      this.phase = "truncate";
      this.backOff();
      return;
    }
    if (action.kind === "truncate" || action.kind === "truncate-fully") this.phase = action.nextPhase;
  }

  /** A follower's high watermark: the leader's, capped by its own log end. */
  private takeHighWatermark(leaderHighWatermark: bigint): void {
    const leo = this.log.logEndOffset;
    this.log.updateHighWatermark(leaderHighWatermark < leo ? leaderHighWatermark : leo);
  }
}

function isLocal<R>(a: FollowerAction<R>): a is Local<R> {
  return a.kind === "truncate" || a.kind === "truncate-fully" || a.kind === "append";
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
