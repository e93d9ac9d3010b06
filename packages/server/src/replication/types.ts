// Shapes shared by the replication protocol core (leader-replica.ts, follower-replica.ts,
// election.ts): server ids, the leadership record (Fluss's LeaderAndIsr, as the metadata store
// keeps it), what the core reads of a replica's log, and the option defaults it uses.
// The core is pure: no I/O, no timers of its own; time comes through the injected Clock, and every
// log mutation (append, truncation, epoch assignment) is an action its driver performs.

import type { EpochEndOffset } from "@fluss-ts/storage";
import type { LeaderAndIsr } from "../metadata/metadata-store.ts";

export type { LeaderAndIsr };

/** A tablet server id (Fluss's replica id). */
export type ServerId = number;

/** Fluss's LeaderAndIsr.NO_LEADER: the bucket has no leader (its ISR is all offline). */
export const NO_LEADER = -1;

/** Fluss log.replica.max-lag-time: a follower this long behind (or silent) leaves the ISR. */
export const REPLICA_MAX_LAG_TIME_MS_DEFAULT = 30_000;
/** Fluss log.replica.min-in-sync-replicas-number: acks=all needs at least this many in the ISR. */
export const MIN_IN_SYNC_REPLICAS_DEFAULT = 1;
/** Fluss log.replica.fetch.backoff-interval: a follower's pause after a failed fetch. */
export const REPLICA_FETCH_BACKOFF_MS_DEFAULT = 1_000;

/**
 * What the core reads of a replica's log, and the one in-memory change it makes (the high
 * watermark). LogTablet (@fluss-ts/storage) satisfies it as is.
 */
export interface ReplicaLog {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  /** Every offset below this is durable under the flush policy. */
  readonly flushedOffset: bigint;
  readonly highWatermark: bigint;
  /** The latest leader epoch the log holds (-1: none). */
  readonly latestEpoch: number;
  /** OffsetForLeaderEpoch on this log (storage's epoch-entries.ts rules). */
  endOffsetForEpoch(epoch: number): EpochEndOffset;
  /** Set the high watermark (clamped to the log); returns the value kept. Memory only. */
  updateHighWatermark(offset: bigint): bigint;
}

/** A bucket's leadership as a replica learns it from NotifyLeaderAndIsr. */
export interface LeadershipNotice {
  readonly leaderAndIsr: LeaderAndIsr;
  /** The bucket's assigned replicas (the first is the preferred leader). */
  readonly replicas: readonly ServerId[];
}
