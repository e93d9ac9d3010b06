// One replica on a simulated tablet server: its log model, the protocol core of its role, what it
// learned from the coordinator, the acks=all writes waiting for the high watermark, and the
// group-commit model of its flushes (one flush at a time covering everything written before it
// started; waiters resolve once the flushed offset passes them, or fail when the log is cut first).

import type { FollowerAction, FollowerReplica } from "../../../src/replication/follower-replica.ts";
import type { LeaderReplica } from "../../../src/replication/leader-replica.ts";
import type { SimBatch, SimLog } from "./sim-log.ts";

export interface PendingAck {
  readonly id: number;
  readonly recordId: number;
  readonly base: bigint;
  readonly count: number;
}

export class Replica {
  readonly bucket: number;
  readonly log: SimLog;
  leader: LeaderReplica | null = null;
  follower: FollowerReplica<SimBatch[]> | null = null;
  knownLeaderEpoch = -1;
  knownBucketEpoch = -1;
  acks: PendingAck[] = [];
  flushing = false;
  waiters: { offset: bigint; done: (ok: boolean) => void }[] = [];
  wakeScheduled = false;

  constructor(bucket: number, log: SimLog) {
    this.bucket = bucket;
    this.log = log;
  }

  /** A crash: every role and wait is forgotten (the log model loses its unflushed tail itself). */
  reset(): void {
    this.leader = null;
    this.follower = null;
    this.acks = [];
    this.waiters = [];
    this.flushing = false;
    this.wakeScheduled = false;
    this.knownLeaderEpoch = -1;
    this.knownBucketEpoch = -1;
  }

  /**
   * Start a flush unless one runs: after `delayMs` (through `later`, which honours pauses) it covers
   * what was written when it started, resolves waiters, then calls `flushed`.
   */
  flush(delayMs: number, later: (delayMs: number, run: () => void) => void, flushed: () => void): void {
    if (this.flushing) return;
    this.flushing = true;
    const target = this.log.logEndOffset;
    const generation = this.log.generation;
    later(delayMs, () => {
      this.flushing = false;
      if (generation === this.log.generation) this.log.flushedTo(target);
      const offset = this.log.flushedOffset;
      const ready = this.waiters.filter((w) => w.offset <= offset);
      this.waiters = this.waiters.filter((w) => w.offset > offset);
      for (const w of ready) w.done(true);
      flushed();
    });
  }

  /** The log was cut: waiters past its end fail. */
  cutWaiters(): void {
    const end = this.log.logEndOffset;
    const cut = this.waiters.filter((w) => w.offset > end);
    this.waiters = this.waiters.filter((w) => w.offset <= end);
    for (const w of cut) w.done(false);
  }
}

export function describeAction(a: Exclude<FollowerAction<SimBatch[]>, { kind: "wait" }>): string {
  switch (a.kind) {
    case "query-epoch":
      return `asks leader ${a.leader} (epoch ${a.leaderEpoch}) where epoch ${a.requestedEpoch} ends`;
    case "fetch":
      return `fetches from ${a.leader} (epoch ${a.leaderEpoch}) at ${a.fetchOffset}`;
    case "append":
      return `appends ${a.records.length} batches, leader high watermark ${a.leaderHighWatermark}`;
    default:
      return `${a.kind} to ${a.offset}`;
  }
}
