// The leader side of replication fetches (Fluss's ReplicaManager.fetchLogRecords for a follower,
// with DelayedFetchLog): a FetchLog from follower F names, per bucket, the offset F fetches at (its
// log end: F fetches only once its earlier appends are durable) and the leader epoch F follows.
// Each bucket goes to its LeaderReplica first (`onFollowerFetch`: fencing by epoch, F's progress,
// the high watermark, an ISR expansion to propose); then the leader reads whole batches from that
// offset up to its log end (not the high watermark: followers copy uncommitted data too) and
// answers with them, the epoch entries of that range and its high watermark (read after the
// progress update, so F learns the newest one). With fewer than min bytes, the fetch waits in a
// purgatory until one of its buckets' logs grows, or its wait (capped by the server's
// `log.fetch.wait-max-time`) ends; every re-read reports F's progress again.
// Invariants: a follower fetch never returns bytes above the leader's log end or below its log
// start; a bucket this server does not lead answers NOT_LEADER_OR_FOLLOWER, a bucket of another
// epoch FENCED_LEADER_EPOCH or NOT_LEADER_OR_FOLLOWER (the core decides), a fetch offset outside
// the log LOG_OFFSET_OUT_OF_RANGE with the log start offset.

import { type Clock, Errors, FlussError, toFlussError } from "@fluss-ts/common";
import type { EpochEntry, ReadAllocator } from "@fluss-ts/storage";
import type { DelayedOperation, DelayedOperationManager } from "./delayed-operations.ts";
import type { IsrProposals } from "./isr-proposals.ts";
import { type ReplicaId, replicaKey } from "./replica.ts";
import type { ReplicaManager } from "./replica-manager.ts";

/** Follower fetches one leader holds waiting at once; more are answered with what they have. */
export const DELAYED_FOLLOWER_FETCHES_MAX = 10_000;

export interface FollowerFetchBucket {
  readonly partitionId: bigint | null;
  readonly bucket: number;
  readonly fetchOffset: bigint;
  readonly maxBytes: number;
  /** The leader epoch the follower follows. */
  readonly leaderEpoch: number;
}

export interface FollowerFetchParams {
  readonly followerId: number;
  readonly tables: ReadonlyArray<{
    readonly tableId: bigint;
    readonly buckets: readonly FollowerFetchBucket[];
  }>;
  readonly maxBytes: number;
  readonly minBytes: number;
  readonly maxWaitMs: number;
  readonly allocate?: ReadAllocator;
}

export interface FollowerFetchResult {
  readonly partitionId: bigint | null;
  readonly bucket: number;
  readonly error: FlussError | null;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly records: Uint8Array;
  readonly epochs: readonly EpochEntry[];
}

interface Pass {
  readonly results: Array<{ tableId: bigint; buckets: FollowerFetchResult[] }>;
  readonly bytes: number;
  readonly errors: number;
  /** Each bucket read, with the log end the read saw (the wait ends when one grows). */
  readonly seen: Array<{ key: string; id: ReplicaId; end: bigint }>;
}

const EMPTY = new Uint8Array(0);

/** A parked follower fetch: done once a watched bucket's log grows past what its read saw. */
class DelayedFollowerFetch implements DelayedOperation {
  private readonly replicas: ReplicaManager;
  private readonly seen: Pass["seen"];
  private readonly done: () => void;

  constructor(replicas: ReplicaManager, seen: Pass["seen"], done: () => void) {
    this.replicas = replicas;
    this.seen = seen;
    this.done = done;
  }

  tryComplete(): boolean {
    for (const s of this.seen) {
      const r = this.replicas.peek(s.id);
      if (!r?.isLeader || r.log.logEndOffset > s.end) return true;
    }
    return false;
  }

  onComplete(): void {
    this.done();
  }
}

export class FollowerFetches {
  private readonly replicas: ReplicaManager;
  private readonly isr: IsrProposals;
  private readonly clock: Clock;
  private readonly purgatory: DelayedOperationManager<DelayedFollowerFetch>;
  private readonly fetchWaitMsMax: number;
  private readonly fetchBytesMax: number;
  private readonly unwatch: () => void;
  private closed = false;

  constructor(o: {
    replicas: ReplicaManager;
    isr: IsrProposals;
    clock: Clock;
    purgatory: DelayedOperationManager<DelayedOperation>;
    fetchWaitMsMax: number;
    fetchBytesMax: number;
  }) {
    this.replicas = o.replicas;
    this.isr = o.isr;
    this.clock = o.clock;
    this.purgatory = o.purgatory as DelayedOperationManager<DelayedFollowerFetch>;
    this.fetchWaitMsMax = o.fetchWaitMsMax;
    this.fetchBytesMax = o.fetchBytesMax;
    this.unwatch = o.replicas.watchAppends((key) => this.purgatory.checkAndComplete(key));
  }

  async fetch(params: FollowerFetchParams, signal?: AbortSignal): Promise<Pass["results"]> {
    const waitMs = Math.max(0, Math.min(params.maxWaitMs, this.fetchWaitMsMax));
    const deadline = this.clock.nowMs() + waitMs;
    for (;;) {
      const pass = await this.readOnce(params);
      const remaining = deadline - this.clock.nowMs();
      const enough = pass.bytes >= Math.max(1, params.minBytes) || pass.errors > 0;
      if (enough || remaining <= 0 || signal?.aborted || this.closed) return pass.results;
      await this.park(pass.seen, remaining, signal);
    }
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    this.purgatory.cancelAll();
  }

  private async readOnce(params: FollowerFetchParams): Promise<Pass> {
    let budget = Math.min(params.maxBytes, this.fetchBytesMax);
    const pass: Pass = { results: [], bytes: 0, errors: 0, seen: [] };
    let errors = 0;
    let bytes = 0;
    for (const t of params.tables) {
      const out: FollowerFetchResult[] = [];
      for (const b of t.buckets) {
        const id = { tableId: t.tableId, partitionId: b.partitionId, bucket: b.bucket };
        const r = await this.readBucket(params, id, b, budget);
        if (r.error) errors++;
        else pass.seen.push({ key: replicaKey(id), id, end: r.end });
        bytes += r.result.records.byteLength;
        budget = Math.max(0, budget - r.result.records.byteLength);
        out.push(r.result);
      }
      pass.results.push({ tableId: t.tableId, buckets: out });
    }
    return { ...pass, bytes, errors };
  }

  private async readBucket(
    params: FollowerFetchParams,
    id: ReplicaId,
    b: FollowerFetchBucket,
    budget: number,
  ): Promise<{ result: FollowerFetchResult; error: boolean; end: bigint }> {
    const base = { partitionId: b.partitionId, bucket: b.bucket };
    let logStartOffset = -1n;
    try {
      const replica = this.replicas.replica(id);
      const log = replica.log;
      logStartOffset = log.logStartOffset;
      const leader = replica.leader;
      if (leader === null) {
        throw new FlussError(
          Errors.NOT_LEADER_OR_FOLLOWER,
          `server ${this.replicas.serverId} does not lead bucket ${b.bucket} of table ${id.tableId}`,
        );
      }
      const out = leader.onFollowerFetch(params.followerId, b.fetchOffset, b.leaderEpoch);
      if (out.proposal !== null) this.isr.propose(replica, leader, out.proposal);
      if (out.highWatermarkAdvanced) replica.checkAcks();
      if (out.error !== null) throw out.error;
      const end = log.logEndOffset;
      const wanted = Math.max(1, Math.min(b.maxBytes, budget));
      const records =
        b.fetchOffset < end && budget > 0
          ? (await log.read(b.fetchOffset, wanted, end, params.allocate)).records
          : EMPTY;
      const epochs = records.byteLength > 0 ? log.epochEntriesFor(b.fetchOffset, log.logEndOffset) : [];
      return {
        result: { ...base, error: null, highWatermark: log.highWatermark, logStartOffset, records, epochs },
        error: false,
        end,
      };
    } catch (err) {
      const error = toFlussError(err);
      return {
        result: { ...base, error, highWatermark: -1n, logStartOffset, records: EMPTY, epochs: [] },
        error: true,
        end: -1n,
      };
    }
  }

  private park(seen: Pass["seen"], waitMs: number, signal?: AbortSignal): Promise<void> {
    const keys = seen.map((s) => s.key);
    return this.purgatory.park(
      (done) => new DelayedFollowerFetch(this.replicas, seen, done),
      keys,
      waitMs,
      signal,
    );
  }
}
