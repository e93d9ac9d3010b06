// The fetch long poll (Fluss's DelayedFetchLog): read once; if the answer carries fewer than the
// request's min bytes, no error and no filter progress, park a DelayedFetch in the purgatory,
// watched under its buckets' keys, until one of them commits past what the read saw (its high
// watermark moved) or the wait ends; then read again. The wait is the request's max wait, capped by
// the server's `log.fetch.wait-max-time`, measured on the injected Clock and timed by the injected
// Scheduler; an aborted request (connection gone) stops waiting at once.
// Invariants: a fetch answers at most once; it never waits past its deadline; a high watermark that
// moves between the read and the parking is not missed (the purgatory checks after watching).

import type { Clock } from "@fluss-ts/common";
import type { DelayedOperation, DelayedOperationManager } from "./delayed-operations.ts";
import type { FetchParams, FetchTableResult, LogReader, ReadPass } from "./log-reader.ts";
import { type ReplicaId, replicaKey } from "./replica.ts";
import type { ReplicaManager } from "./replica-manager.ts";

/** Delayed fetches one server holds at once; more are answered with what they have. */
export const DELAYED_FETCHES_MAX = 100_000;

/** A bucket a parked fetch watches, with the high watermark its last read saw. */
interface SeenBucket {
  readonly key: string;
  readonly id: ReplicaId;
  readonly hw: bigint;
}

/** A parked fetch: done once any watched bucket's high watermark passes what its read saw. */
class DelayedFetch implements DelayedOperation {
  private readonly replicas: ReplicaManager;
  private readonly seen: readonly SeenBucket[];
  private readonly done: () => void;

  constructor(replicas: ReplicaManager, seen: readonly SeenBucket[], done: () => void) {
    this.replicas = replicas;
    this.seen = seen;
    this.done = done;
  }

  tryComplete(): boolean {
    for (const s of this.seen) {
      const r = this.replicas.peek(s.id);
      // A replica that went away (stopped) or moved on is answered by the next read.
      if (!r?.isLeader || r.highWatermark > s.hw) return true;
    }
    return false;
  }

  onComplete(): void {
    this.done();
  }
}

export class FetchEngine {
  private readonly replicas: ReplicaManager;
  private readonly reader: LogReader;
  private readonly clock: Clock;
  private readonly fetchWaitMsMax: number;
  readonly purgatory: DelayedOperationManager<DelayedFetch>;
  private readonly unwatch: () => void;
  private closed = false;

  constructor(o: {
    replicas: ReplicaManager;
    reader: LogReader;
    clock: Clock;
    purgatory: DelayedOperationManager<DelayedOperation>;
    fetchWaitMsMax: number;
  }) {
    this.replicas = o.replicas;
    this.reader = o.reader;
    this.clock = o.clock;
    this.fetchWaitMsMax = o.fetchWaitMsMax;
    this.purgatory = o.purgatory as DelayedOperationManager<DelayedFetch>;
    this.unwatch = o.replicas.watchHighWatermarks((key) => this.purgatory.checkAndComplete(key));
  }

  /** Long-poll fetch: returns once minBytes are available, maxWaitMs passed, or an error occurred. */
  async fetch(params: FetchParams, signal?: AbortSignal): Promise<FetchTableResult[]> {
    const waitMs = Math.max(0, Math.min(params.maxWaitMs, this.fetchWaitMsMax));
    const deadline = this.clock.nowMs() + waitMs;
    for (;;) {
      const pass = await this.reader.readOnce(params);
      const remaining = deadline - this.clock.nowMs();
      const enough = pass.bytes >= Math.max(1, params.minBytes) || pass.answerNow;
      if (enough || remaining <= 0 || signal?.aborted || this.closed) return pass.results;
      await this.park(pass, remaining, signal);
    }
  }

  /** Wait in the purgatory until a fetched bucket commits past this pass, the time is up, or abort. */
  private park(pass: ReadPass, waitMs: number, signal?: AbortSignal): Promise<void> {
    const seen: SeenBucket[] = [];
    for (const t of pass.results) {
      for (const b of t.buckets) {
        const id = { tableId: t.tableId, partitionId: b.partitionId, bucket: b.bucket };
        seen.push({ key: replicaKey(id), id, hw: b.highWatermark });
      }
    }
    const keys = seen.map((s) => s.key);
    return this.purgatory.park((done) => new DelayedFetch(this.replicas, seen, done), keys, waitMs, signal);
  }

  /** Answer every parked fetch now, and every later one without waiting (shutdown). */
  close(): void {
    this.closed = true;
    this.unwatch();
    this.purgatory.cancelAll();
  }
}
