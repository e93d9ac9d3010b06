// The leader side of one bucket's replication (Fluss Replica's leader half with FollowerReplica and
// IsrState; Kafka's Partition): follower progress, the high watermark, ISR shrink and expand
// proposals (AdjustIsr to the coordinator), acks=all completion and fencing by leader epoch.
// Pure: it reads the log through ReplicaLog and only sets the log's high watermark (memory); its
// driver (the tablet server, or the simulator) sends the AdjustIsr proposals it returns and feeds
// back the answers. Time comes through the Clock.
// Rules (Fluss's, with Kafka's where Fluss has none yet — marked K):
//  - a follower's fetch at offset O in the current epoch records O as its log end (the follower
//    fetches only after its earlier appends are durable, so O is durable there); last caught-up time
//    per FollowerReplica.updateFetchState;
//  - high watermark = min(leader end, log end of every member of the maximal ISR, and of every
//    caught-up eligible follower about to join), never lower than before, and frozen while the ISR
//    is below min-in-sync; the leader end is its flushed offset when `hwRequiresFlush` (flush mode
//    "always"), so a committed record is durable on every in-sync replica;
//  - expand when a follower's log end reaches the high watermark and (K, KAFKA-7128) the start
//    offset of this leader's epoch; shrink the members not caught up within max-lag-time;
//    one proposal in flight; answers per Fluss's handleAdjustIsrUpdate / handleAdjustIsrError;
//  - a fetch or epoch query from an older epoch is FENCED_LEADER_EPOCH; from a newer one
//    NOT_LEADER_OR_FOLLOWER (this leader has not heard of it yet: retriable).
// Invariants (asserted): the ISR it holds contains the leader; the high watermark never moves back.

import { assert, type Clock, Errors, FlussError } from "@fluss-ts/common";
import type { EpochEndOffset } from "@fluss-ts/storage";
import { committedIsr, type IsrState, isInflight, maximalIsr } from "./isr-state.ts";
import type { LeaderAndIsr, LeadershipNotice, ReplicaLog, ServerId } from "./types.ts";

export interface LeaderReplicaOptions {
  readonly localId: ServerId;
  readonly clock: Clock;
  /** log.replica.max-lag-time. */
  readonly maxLagTimeMs: number;
  /** log.replica.min-in-sync-replicas-number. */
  readonly minInSyncReplicas: number;
  /** Only the leader's flushed offsets count toward the high watermark (log.flush.mode=always). */
  readonly hwRequiresFlush: boolean;
  /** Whether a follower may join the ISR (alive in the metadata); default: any assigned replica. */
  readonly isEligible?: (id: ServerId) => boolean;
}

/** What the leader knows of one follower (Fluss FollowerReplicaState). */
export interface FollowerProgress {
  /** Its log end as of its last fetch in this epoch; -1 while unknown. */
  logEndOffset: bigint;
  lastFetchLeaderLogEndOffset: bigint;
  lastFetchTimeMs: number;
  /** The last time its fetch reached the leader's log end (-Infinity: never). */
  lastCaughtUpTimeMs: number;
}

export interface FollowerFetchOutcome {
  /** Refused: answer the fetch with this error and read nothing. */
  readonly error: FlussError | null;
  /** An ISR expansion to send to the coordinator (AdjustIsr). */
  readonly proposal: LeaderAndIsr | null;
  readonly highWatermarkAdvanced: boolean;
}

export interface AdjustIsrOutcome {
  /** Send this proposal again (a retriable failure). */
  readonly retry: LeaderAndIsr | null;
  readonly highWatermarkAdvanced: boolean;
}

/** Where an acks=all write stands: waiting, done, or failed with this error. */
export type AckState = "pending" | "done" | FlussError;

const unknownOffset = -1n;

export class LeaderReplica {
  readonly leaderEpoch: number;
  /** Where this leader's epoch starts in its log (its log end when it took over). */
  readonly epochStartOffset: bigint;
  private readonly options: LeaderReplicaOptions;
  protected readonly log: ReplicaLog;
  private readonly followers = new Map<ServerId, FollowerProgress>();
  private isrState: IsrState;
  private bucketEpochValue: number;
  private coordinatorEpoch: number;
  private replicaIds: readonly ServerId[];

  /**
   * Take over as leader of `notice`'s epoch. The driver first claims the epoch in the log
   * (LogTablet.claimLeaderEpoch), and refuses the notice when that throws: a replica never leads an
   * epoch it claimed before a restart. `previous` is this server's leader state of the epoch before,
   * when it led that one too (re-elected): its followers' progress carries over, as in Fluss.
   */
  constructor(
    options: LeaderReplicaOptions,
    log: ReplicaLog,
    notice: LeadershipNotice,
    previous?: LeaderReplica,
  ) {
    const lai = notice.leaderAndIsr;
    assert(lai.leader === options.localId, "a leader replica is built for its own leadership");
    assert(lai.isr.includes(options.localId), "the ISR contains the leader");
    assert(previous === undefined || previous.leaderEpoch < lai.leaderEpoch, "leader epochs increase");
    this.options = options;
    this.log = log;
    this.leaderEpoch = lai.leaderEpoch;
    this.epochStartOffset = log.logEndOffset;
    this.isrState = committedIsr(lai.isr);
    this.bucketEpochValue = lai.bucketEpoch;
    this.coordinatorEpoch = lai.coordinatorEpoch;
    this.replicaIds = [...notice.replicas];
    const now = options.clock.nowMs();
    for (const id of notice.replicas) {
      if (id === options.localId) continue;
      const inIsr = lai.isr.includes(id);
      const before = previous?.followers.get(id);
      this.followers.set(id, {
        logEndOffset: before?.logEndOffset ?? unknownOffset,
        lastFetchLeaderLogEndOffset: before === undefined ? unknownOffset : log.logEndOffset,
        lastFetchTimeMs: before !== undefined && inIsr ? now : Number.NEGATIVE_INFINITY,
        lastCaughtUpTimeMs: inIsr ? now : Number.NEGATIVE_INFINITY,
      });
    }
    this.maybeIncrementHighWatermark(now);
  }

  get bucketEpoch(): number {
    return this.bucketEpochValue;
  }

  /** The committed ISR (what the coordinator last recorded, as this leader knows it). */
  get isr(): readonly ServerId[] {
    return this.isrState.isr;
  }

  /** The replicas the high watermark waits for. */
  get maximalIsr(): readonly ServerId[] {
    return maximalIsr(this.isrState);
  }

  get isrInflight(): boolean {
    return isInflight(this.isrState);
  }

  /** The AdjustIsr proposal in flight (a driver resending one after a backoff checks it still is). */
  get pendingIsrProposal(): LeaderAndIsr | null {
    return this.isrState.kind === "committed" ? null : this.isrState.sent;
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  /** A follower's progress (tests, metrics). */
  progressOf(id: ServerId): Readonly<FollowerProgress> | undefined {
    return this.followers.get(id);
  }

  /**
   * A NotifyLeaderAndIsr naming this server leader again. "new-epoch": the driver builds a new
   * LeaderReplica (with this one as `previous`); "updated": same epoch, a newer bucket epoch, ISR and
   * assignment taken; "unchanged": the bucket epoch this leader already has (a resend, which must not
   * reset an AdjustIsr in flight: its answer may already be recorded). Throws FENCED_LEADER_EPOCH
   * (older epoch) or INVALID_UPDATE_VERSION (older bucket epoch).
   */
  update(notice: LeadershipNotice): "new-epoch" | "updated" | "unchanged" {
    const lai = notice.leaderAndIsr;
    assert(lai.leader === this.options.localId, "an update of this leadership names this server");
    if (lai.leaderEpoch < this.leaderEpoch) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${lai.leaderEpoch} is older than the current ${this.leaderEpoch}`,
      );
    }
    if (lai.bucketEpoch < this.bucketEpochValue) {
      throw new FlussError(
        Errors.INVALID_UPDATE_VERSION_EXCEPTION,
        `bucket epoch ${lai.bucketEpoch} is older than the current ${this.bucketEpochValue}`,
      );
    }
    if (lai.leaderEpoch > this.leaderEpoch) return "new-epoch";
    if (lai.bucketEpoch === this.bucketEpochValue) return "unchanged";
    assert(lai.isr.includes(this.options.localId), "the ISR contains the leader");
    this.setReplicas(notice.replicas);
    this.isrState = committedIsr(lai.isr);
    this.bucketEpochValue = lai.bucketEpoch;
    this.coordinatorEpoch = lai.coordinatorEpoch;
    this.maybeIncrementHighWatermark(this.options.clock.nowMs());
    return "updated";
  }

  private setReplicas(replicas: readonly ServerId[]): void {
    this.replicaIds = [...replicas];
    for (const id of replicas) {
      if (id !== this.options.localId && !this.followers.has(id)) {
        this.followers.set(id, {
          logEndOffset: unknownOffset,
          lastFetchLeaderLogEndOffset: unknownOffset,
          lastFetchTimeMs: Number.NEGATIVE_INFINITY,
          lastCaughtUpTimeMs: Number.NEGATIVE_INFINITY,
        });
      }
    }
    for (const id of [...this.followers.keys()]) if (!replicas.includes(id)) this.followers.delete(id);
  }

  /** Check a follower's or epoch query's leader epoch against this leader's. */
  private checkEpoch(followerLeaderEpoch: number): FlussError | null {
    if (followerLeaderEpoch < this.leaderEpoch) {
      return new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${followerLeaderEpoch} is older than the current ${this.leaderEpoch}`,
      );
    }
    if (followerLeaderEpoch > this.leaderEpoch) {
      return new FlussError(
        Errors.NOT_LEADER_OR_FOLLOWER,
        `leader epoch ${followerLeaderEpoch} is newer than this leader's ${this.leaderEpoch}`,
      );
    }
    return null;
  }

  /**
   * A follower's FetchLog at `fetchOffset` in epoch `followerLeaderEpoch`. On success the driver
   * reads [fetchOffset, log end) and answers with the log's high watermark (read after this call)
   * and the epoch entries of the range it returns.
   */
  onFollowerFetch(
    followerId: ServerId,
    fetchOffset: bigint,
    followerLeaderEpoch: number,
  ): FollowerFetchOutcome {
    const refused = (error: FlussError) => ({ error, proposal: null, highWatermarkAdvanced: false });
    const epochError = this.checkEpoch(followerLeaderEpoch);
    if (epochError !== null) return refused(epochError);
    const progress = this.followers.get(followerId);
    if (progress === undefined) {
      return refused(
        new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, `server ${followerId} is not a replica of this bucket`),
      );
    }
    const log = this.log;
    if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
      return refused(
        new FlussError(
          Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION,
          `fetch offset ${fetchOffset} is outside [${log.logStartOffset}, ${log.logEndOffset}]`,
        ),
      );
    }
    const now = this.options.clock.nowMs();
    const previousEnd = progress.logEndOffset;
    updateFetchState(progress, fetchOffset, now, log.logEndOffset);
    const proposal = this.maybeExpandIsr(followerId, progress);
    const advanced = previousEnd !== progress.logEndOffset && this.maybeIncrementHighWatermark(now);
    return { error: null, proposal, highWatermarkAdvanced: advanced };
  }

  /** The leader's own log advanced (an append, or a flush): the high watermark may follow. */
  onLogAdvanced(): boolean {
    return this.maybeIncrementHighWatermark(this.options.clock.nowMs());
  }

  /** OffsetForLeaderEpoch from a follower in epoch `followerLeaderEpoch`: where `requestedEpoch` ends here. */
  answerEpochQuery(followerLeaderEpoch: number, requestedEpoch: number): EpochEndOffset | FlussError {
    return this.checkEpoch(followerLeaderEpoch) ?? this.log.endOffsetForEpoch(requestedEpoch);
  }

  /** Refuse an acks=all write up front when the ISR is below min-in-sync (NOT_ENOUGH_REPLICAS). */
  checkAppend(acks: number): void {
    if (acks === -1 && this.isrState.isr.length < this.options.minInSyncReplicas) {
      throw new FlussError(
        Errors.NOT_ENOUGH_REPLICAS_EXCEPTION,
        `the ISR ${this.isrState.isr} is smaller than ${this.options.minInSyncReplicas} replicas`,
      );
    }
  }

  /** Where an acks=all write ending before `requiredOffset` stands (Fluss checkEnoughReplicasReachOffset). */
  ackState(requiredOffset: bigint): AckState {
    if (this.log.highWatermark < requiredOffset) return "pending";
    if (this.maximalIsr.length >= this.options.minInSyncReplicas) return "done";
    return new FlussError(
      Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND_EXCEPTION,
      `written, but the ISR ${this.maximalIsr} is smaller than ${this.options.minInSyncReplicas} replicas`,
    );
  }

  /** The periodic ISR check: a shrink proposal for members not caught up within max-lag-time. */
  checkIsrShrink(): LeaderAndIsr | null {
    if (isInflight(this.isrState)) return null;
    const now = this.options.clock.nowMs();
    const leaderEnd = this.log.logEndOffset;
    const outOfSync = this.isrState.isr.filter((id) => {
      if (id === this.options.localId) return false;
      const p = this.followers.get(id);
      return p === undefined || !isCaughtUp(p, leaderEnd, now, this.options.maxLagTimeMs);
    });
    if (outOfSync.length === 0) return null;
    const sent = this.proposal(this.isrState.isr.filter((id) => !outOfSync.includes(id)));
    this.isrState = { kind: "pending-shrink", isr: this.isrState.isr, removing: outOfSync, sent };
    return sent;
  }

  /** The coordinator's answer to `sent` (Fluss handleAdjustIsrUpdate / handleAdjustIsrError). */
  onAdjustIsrResult(sent: LeaderAndIsr, result: LeaderAndIsr | FlussError): AdjustIsrOutcome {
    const none = { retry: null, highWatermarkAdvanced: false };
    const state = this.isrState;
    if (state.kind === "committed" || state.sent !== sent) return none; // out of date: ignore
    if (!(result instanceof FlussError)) {
      if (result.bucketEpoch < this.bucketEpochValue) return none;
      assert(result.isr.includes(this.options.localId), "the ISR contains the leader");
      this.isrState = committedIsr(result.isr);
      this.bucketEpochValue = result.bucketEpoch;
      return {
        retry: null,
        highWatermarkAdvanced: this.maybeIncrementHighWatermark(this.options.clock.nowMs()),
      };
    }
    if (
      result.is(Errors.OPERATION_NOT_ATTEMPTED_EXCEPTION) ||
      result.is(Errors.INELIGIBLE_REPLICA_EXCEPTION)
    ) {
      this.isrState = committedIsr(state.isr); // refused for good: back to what is committed
      return none;
    }
    if (
      result.is(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION) ||
      result.is(Errors.INVALID_UPDATE_VERSION_EXCEPTION) ||
      result.is(Errors.FENCED_LEADER_EPOCH_EXCEPTION)
    ) {
      return none; // stay pending until the next NotifyLeaderAndIsr says what is current
    }
    return { retry: sent, highWatermarkAdvanced: false };
  }

  private proposal(isr: readonly ServerId[]): LeaderAndIsr {
    return {
      leader: this.options.localId,
      leaderEpoch: this.leaderEpoch,
      isr,
      coordinatorEpoch: this.coordinatorEpoch,
      bucketEpoch: this.bucketEpochValue,
    };
  }

  /** Fluss maybeExpandIsr: propose adding a follower that caught up (K: to this epoch's start too). */
  private maybeExpandIsr(id: ServerId, progress: FollowerProgress): LeaderAndIsr | null {
    const state = this.isrState;
    if (state.kind !== "committed" || state.isr.includes(id)) return null;
    if (!(this.options.isEligible?.(id) ?? true)) return null;
    if (!this.isInSync(progress)) return null;
    const sent = this.proposal([...state.isr, id]);
    this.isrState = { kind: "pending-expand", isr: state.isr, adding: id, sent };
    return sent;
  }

  /** A follower may join the ISR (Kafka isFollowerInSync); protected for the simulator's variants. */
  protected isInSync(progress: FollowerProgress): boolean {
    return progress.logEndOffset >= this.log.highWatermark && progress.logEndOffset >= this.epochStartOffset;
  }

  /** The offset the high watermark may move to (see the file comment); protected for the simulator's variants. */
  protected highWatermarkCandidate(now: number): bigint {
    const log = this.log;
    let hw = this.options.hwRequiresFlush ? log.flushedOffset : log.logEndOffset;
    const waitFor = this.maximalIsr;
    for (const [id, p] of this.followers) {
      if (p.logEndOffset >= hw) continue;
      const joining =
        (this.options.isEligible?.(id) ?? true) &&
        isCaughtUp(p, log.logEndOffset, now, this.options.maxLagTimeMs);
      if (waitFor.includes(id) || joining) hw = p.logEndOffset;
    }
    return hw;
  }

  private maybeIncrementHighWatermark(now: number): boolean {
    if (this.isrState.isr.length < this.options.minInSyncReplicas) return false;
    const candidate = this.highWatermarkCandidate(now);
    const before = this.log.highWatermark;
    if (candidate <= before) return false;
    const kept = this.log.updateHighWatermark(candidate);
    assert(kept >= before, "a leader's high watermark never moves back");
    return kept > before;
  }

  /** The assigned replicas as last notified. */
  get replicas(): readonly ServerId[] {
    return this.replicaIds;
  }
}

/** Fluss FollowerReplica.updateFetchState: the follower fetched at `fetchOffset` at `nowMs`. */
function updateFetchState(p: FollowerProgress, fetchOffset: bigint, nowMs: number, leaderEnd: bigint): void {
  if (fetchOffset >= leaderEnd) {
    p.lastCaughtUpTimeMs = Math.max(p.lastCaughtUpTimeMs, nowMs);
  } else if (fetchOffset >= p.lastFetchLeaderLogEndOffset) {
    p.lastCaughtUpTimeMs = Math.max(p.lastCaughtUpTimeMs, p.lastFetchTimeMs);
  }
  p.logEndOffset = fetchOffset;
  p.lastFetchLeaderLogEndOffset =
    leaderEnd > p.lastFetchLeaderLogEndOffset ? leaderEnd : p.lastFetchLeaderLogEndOffset;
  p.lastFetchTimeMs = nowMs;
}

/** Fluss FollowerReplicaState.isCaughtUp. */
function isCaughtUp(p: FollowerProgress, leaderEnd: bigint, nowMs: number, maxLagTimeMs: number): boolean {
  return p.logEndOffset === leaderEnd || nowMs - p.lastCaughtUpTimeMs <= maxLagTimeMs;
}
