// The writer core shared by the append writer (log tables) and the upsert writer (primary-key
// tables): items are grouped per bucket into batches (closed by size or linger time; lingerMs 0
// closes them when the current event-loop turn ends, for the lowest latency), batches are
// sent to bucket leaders (one request per leader, at most `inFlightPerBucketMax` requests per
// bucket), retried on retriable errors, and acknowledged. What a batch holds and how it is sent is
// the WriteContext's business (Arrow rows + ProduceLog, or KV records + PutKv).
// Backpressure: `write` waits while the items held in memory exceed `bufferBytes`.
// Idempotence: a writer id from the cluster plus a per-bucket sequence; a retried batch carries
// the same sequence, so the leader stores it at most once, and batches of a bucket are resent in
// sequence order after a failure. A batch that fails after a later batch of its bucket was
// acknowledged was written (leaders append in sequence only): it succeeds with offset -1.
// Oversized items: an item that may not fit the open batch's remaining room (by the payload's
// cheap upper bound) starts a new batch, so a batch exceeds batchSizeBytes only when one item
// alone does (Kafka's and Fluss's accumulators do the same). An item bigger than requestBytesMax
// fits no request: it is measured alone in a fresh batch, which is then dropped, and its write
// fails with RECORD_TOO_LARGE_EXCEPTION; nothing of it is buffered or sent, no sequence is spent,
// and the items before and after it are written as if it had never been offered.
// Failure: a non-retriable error fails the writer: later writes and `flush` calls throw it.
// Acks (Fluss client.writer.acks; sent with every request, honoured by the leader): -1 (all) and 1
// wait for the leader's answer; 0 does not: a batch counts as written once its request is handed
// to the connection (flush does not wait for the server), it is never retried, and its offsets
// are unknown. The answer still frees the bucket's in-flight slot (so memory stays bounded); a
// non-retriable error in it fails the writer, a retriable one only refreshes metadata (that batch
// is lost, as acks=0 allows).
// Dropped partitions: a retriable refusal from a partition's bucket makes the writer ask where
// the partition is now (PartitionMoves; its buckets wait meanwhile). If it was dropped and
// re-created under the same name, every batch held for the old id (open, queued, and in-flight
// ones once answered) moves to the same bucket of the new id, in order, with sequences of that
// bucket (a new bucket is a new sequence space); rows routed with the old id later go there too.
// If it is gone, those batches fail with PARTITION_NOT_EXISTS (their rows only: the writer goes on).

import {
  assert,
  type Clock,
  Errors,
  errorFromCode,
  FlussError,
  isFlussError,
  NO_BATCH_SEQUENCE,
  NO_WRITER_ID,
  type Scheduler,
  type TableInfo,
  type TimerHandle,
  toFlussError,
} from "@fluss-ts/common";
import type { ResolvedWriterOptions } from "../options.ts";
import { PartitionMoves } from "./partition-moves.ts";
import { WriteBatch } from "./write-batch.ts";
import type { BucketAck, BucketTarget, Route, WriteContext } from "./write-context.ts";
import { type AckOf, WriteReceipt } from "./write-receipt.ts";

const RETRY_BACKOFF_MS_MIN = 50;
const RETRY_BACKOFF_MS_MAX = 1000;
/** Buckets (over all partitions) one writer keeps state for. */
const BUCKETS_OPEN_MAX = 1_000_000;

interface BucketState<T> {
  readonly target: BucketTarget;
  /** targetKey(target), made once. */
  readonly key: string;
  open: WriteBatch<T> | undefined;
  lingerTimer: TimerHandle | undefined;
  /** Closed batches waiting to be sent, in sequence order. */
  queue: WriteBatch<T>[];
  inFlight: number;
  nextSequence: number;
  /** The highest sequence of an acknowledged batch (-1: none yet). */
  ackedSequence: number;
  /** Do not send before this time (retry backoff). */
  blockedUntilMs: number;
  backoffMs: number;
  /** Its partition moved or is gone: sends nothing, moves once nothing is in flight. */
  leaving: boolean;
}

export class BucketWriter<T, A> {
  private readonly ctx: WriteContext<T>;
  private readonly ackOf: AckOf<A>;
  private readonly opts: ResolvedWriterOptions;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly buckets = new Map<string, BucketState<T>>();
  private readonly bucketCount: number;
  private readonly unsettled = new Set<WriteBatch<T>>();
  private bufferedBytes = 0;
  private acknowledged = 0;
  private readonly spaceWaiters: Array<() => void> = [];
  private fatal: FlussError | undefined;
  private closed = false;
  private writerId: bigint | undefined;
  private writerIdPromise: Promise<bigint> | undefined;
  /** Per partition ("-" when unpartitioned): the bucket keyless rows go to until its batch closes. */
  private readonly sticky = new Map<string, number>();
  private drainTimer: TimerHandle | undefined;
  /** The states of `buckets` of a table without partitions, by bucket number. */
  private readonly unpartitioned: BucketState<T>[] = [];
  /** lingerMs 0: buckets whose open batch closes when this event-loop turn ends. */
  private readonly turnEndKeys = new Set<string>();
  private turnEndQueued = false;
  private readonly moves: PartitionMoves;

  constructor(ctx: WriteContext<T>, table: TableInfo, opts: ResolvedWriterOptions, ackOf: AckOf<A>) {
    this.ctx = ctx;
    this.ackOf = ackOf;
    this.opts = opts;
    this.clock = ctx.clock;
    this.scheduler = ctx.scheduler;
    this.bucketCount = table.bucketCount;
    this.moves = new PartitionMoves(ctx.partitionIdNow?.bind(ctx), ctx.clock, (from, to) =>
      this.onPartitionChecked(from, to),
    );
    if (opts.idempotence) this.initWriter();
  }

  /**
   * Add one item. Resolves once it is buffered — at once, unless the write buffer is full
   * (backpressure) — with a receipt whose `acknowledged` waits for the cluster; `flush()` waits
   * for every item so far.
   */
  async write(item: T): Promise<WriteReceipt<A>> {
    this.checkUsable();
    // The common case (room in the buffer, synchronous route) adds without yielding.
    if (this.bufferedBytes >= this.opts.bufferBytes) await this.spaceInBuffer();
    const routed = this.ctx.route(item);
    if (!(routed instanceof Promise)) return this.add(item, routed);
    const route = await routed;
    this.checkUsable();
    // Other writes went on while this one was routed: the buffer may have filled up meanwhile.
    if (this.bufferedBytes >= this.opts.bufferBytes) await this.spaceInBuffer();
    return this.add(item, route);
  }

  /** Resolves once the buffer is below bufferBytes; throws if the writer failed meanwhile. */
  private async spaceInBuffer(): Promise<void> {
    while (this.bufferedBytes >= this.opts.bufferBytes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      this.checkUsable();
    }
  }

  /**
   * Add a routed item to its bucket's open batch (see the file comment for oversized items);
   * returns the item's receipt.
   */
  private add(item: T, route: Route): WriteReceipt<A> {
    const state = this.stateOfRoute(route);
    const key = state.key;
    let batch = this.openBatch(state);
    if (batch.count > 0 && batch.bytesBound(item) > this.opts.batchSizeBytes - batch.sizeBytes) {
      // It may not fit: the open batch goes as it is and the item starts the next one.
      this.closeBatch(key);
      batch = this.openBatch(state);
    }
    const index = batch.count;
    const alone = index === 0;
    let grown: number;
    try {
      grown = batch.add(item);
    } catch (err) {
      // A refused first item leaves an empty batch: nothing to send, nothing to wait for.
      if (alone) this.dropOpen(state, batch);
      throw err;
    }
    if (grown > this.opts.requestBytesMax) {
      assert(alone, "an item that may not fit the open batch is added to a new one");
      this.dropOpen(state, batch);
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `a row of ${grown} bytes exceeds the writer's requestBytesMax of ${this.opts.requestBytesMax} bytes ` +
          `(bucket ${describe(state.target)}); it was not written`,
      );
    }
    this.bufferedBytes += grown;
    if (this.opts.lingerMs === 0) this.closeAtTurnEnd(key);
    else if (state.lingerTimer === undefined) {
      state.lingerTimer = this.scheduler.setTimeout(() => this.closeBatch(key), this.opts.lingerMs);
    }
    if (batch.sizeBytes >= this.opts.batchSizeBytes) this.closeBatch(key);
    return new WriteReceipt(batch, index, this.ackOf);
  }

  /**
   * lingerMs 0: close the bucket's open batch when this turn of the event loop ends, so the items
   * added in one synchronous run (e.g. a loop of `await append`) share a batch and nothing waits
   * for a timer.
   */
  private closeAtTurnEnd(key: string): void {
    this.turnEndKeys.add(key);
    if (this.turnEndQueued) return;
    this.turnEndQueued = true;
    const run = (): void => {
      this.turnEndQueued = false;
      const keys = [...this.turnEndKeys];
      this.turnEndKeys.clear();
      for (const k of keys) this.closeBatch(k);
    };
    if (this.scheduler.setImmediate) this.scheduler.setImmediate(run);
    else this.scheduler.setTimeout(run, 0);
  }

  /** The bucket's open batch, opened now if there is none. */
  private openBatch(state: BucketState<T>): WriteBatch<T> {
    let batch = state.open;
    if (!batch) {
      batch = new WriteBatch(this.ctx.newPayload(), state.target, this.clock.nowMs());
      state.open = batch;
      this.unsettled.add(batch);
    }
    return batch;
  }

  /** Forget an open batch that holds nothing to send (its only item was refused). */
  private dropOpen(state: BucketState<T>, batch: WriteBatch<T>): void {
    assert(state.open === batch && state.lingerTimer === undefined, "only a fresh open batch is dropped");
    state.open = undefined;
    this.unsettled.delete(batch);
  }

  private checkUsable(): void {
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new FlussError(Errors.CLIENT_CLOSED, "the writer is closed");
  }

  /** The bucket of a routed item: its keyed bucket, or the partition's sticky bucket. */
  private targetOf(route: Route): BucketTarget {
    if (route.bucket !== undefined) return { partitionId: route.partitionId, bucket: route.bucket };
    const p = route.partitionId === null ? "-" : String(route.partitionId);
    let bucket = this.sticky.get(p);
    if (bucket === undefined) {
      bucket = Math.floor(Math.random() * this.bucketCount);
      this.sticky.set(p, bucket);
    }
    return { partitionId: route.partitionId, bucket };
  }

  /**
   * The state of a routed item's bucket. The buckets of a table without partitions are found by
   * number (no target object or key string per item: the per-row path of every append).
   */
  private stateOfRoute(route: Route): BucketState<T> {
    if (route.partitionId !== null) return this.stateOf(this.targetOf(this.redirect(route)));
    let bucket = route.bucket;
    if (bucket === undefined) {
      bucket = this.sticky.get("-");
      if (bucket === undefined) return this.stateOf(this.targetOf(route));
    }
    return this.unpartitioned[bucket] ?? this.stateOf({ partitionId: null, bucket });
  }

  private stateOf(target: BucketTarget): BucketState<T> {
    const key = targetKey(target);
    let state = this.buckets.get(key);
    if (!state) {
      if (this.buckets.size >= BUCKETS_OPEN_MAX) {
        throw new FlussError(
          Errors.INVALID_ARGUMENT,
          `one writer writes to at most ${BUCKETS_OPEN_MAX} buckets`,
        );
      }
      state = {
        target,
        key,
        open: undefined,
        lingerTimer: undefined,
        queue: [],
        inFlight: 0,
        nextSequence: 0,
        ackedSequence: -1,
        blockedUntilMs: 0,
        backoffMs: RETRY_BACKOFF_MS_MIN,
        leaving: false,
      };
      this.buckets.set(key, state);
      if (target.partitionId === null) this.unpartitioned[target.bucket] = state;
    }
    return state;
  }

  /** Close the open batch of a bucket: serialise it and queue it for sending. */
  private closeBatch(key: string): void {
    const state = this.buckets.get(key);
    const batch = state?.open;
    if (!state || !batch) return;
    this.scheduler.clearTimeout(state.lingerTimer);
    state.open = undefined;
    state.lingerTimer = undefined;
    const p = state.target.partitionId === null ? "-" : String(state.target.partitionId);
    if (this.sticky.get(p) === state.target.bucket && this.bucketCount > 1) {
      this.sticky.set(p, (state.target.bucket + 1) % this.bucketCount);
    }
    batch.close(this.opts.idempotence ? state.nextSequence++ : NO_BATCH_SEQUENCE);
    state.queue.push(batch);
    this.drain();
  }

  /** Send what can be sent: ready batches of unblocked buckets, grouped by leader. */
  private drain(): void {
    if (this.fatal) return;
    if (this.opts.idempotence && this.writerId === undefined) {
      this.initWriter();
      return;
    }
    const now = this.clock.nowMs();
    const byLeader = new Map<string, { batches: WriteBatch<T>[]; bytes: number }>();
    let earliestBlocked = Number.POSITIVE_INFINITY;
    for (const state of this.buckets.values()) {
      if (state.queue.length === 0 || state.inFlight >= this.opts.inFlightPerBucketMax) continue;
      if (state.leaving || this.moves.held(state.target.partitionId)) continue;
      if (state.blockedUntilMs > now) {
        earliestBlocked = Math.min(earliestBlocked, state.blockedUntilMs);
        continue;
      }
      const batch = state.queue[0]!;
      if (!this.encode(batch)) return;
      let leader: string;
      try {
        leader = this.ctx.leaderKey(batch.target);
      } catch (err) {
        this.retryLater(batch, toFlussError(err));
        continue;
      }
      const group = byLeader.get(leader) ?? { batches: [], bytes: 0 };
      if (group.batches.length > 0 && group.bytes + batch.bytes!.byteLength > this.opts.requestBytesMax)
        continue;
      state.queue.shift();
      state.inFlight++;
      batch.state = "in-flight";
      batch.attempts++;
      group.batches.push(batch);
      group.bytes += batch.bytes!.byteLength;
      byLeader.set(leader, group);
    }
    for (const [leader, group] of byLeader) void this.send(leader, group.batches);
    if (earliestBlocked !== Number.POSITIVE_INFINITY) this.scheduleDrain(earliestBlocked - now);
    // More ready batches than one request per leader carried: go again.
    if (
      byLeader.size > 0 &&
      [...this.buckets.values()].some(
        (s) => s.queue.length > 0 && s.inFlight < this.opts.inFlightPerBucketMax,
      )
    ) {
      queueMicrotask(() => this.drain());
    }
  }

  /** Serialise a closed batch once (its bytes are reused by every retry). False: writer failed. */
  private encode(batch: WriteBatch<T>): boolean {
    if (batch.bytes) return true;
    try {
      batch.encode(this.writerId ?? NO_WRITER_ID);
      return true;
    } catch (err) {
      this.failWriter(toFlussError(err));
      return false;
    }
  }

  private scheduleDrain(delayMs: number): void {
    if (this.drainTimer) return;
    this.drainTimer = this.scheduler.setTimeout(
      () => {
        this.drainTimer = undefined;
        this.drain();
      },
      Math.max(1, delayMs),
    );
  }

  private initWriter(): void {
    if (this.writerIdPromise) return;
    this.writerIdPromise = this.ctx.initWriter();
    this.writerIdPromise.then(
      (id) => {
        this.writerId = id;
        this.drain();
      },
      (err: unknown) => {
        this.writerIdPromise = undefined;
        const e = toFlussError(err);
        if (e.retriable) this.scheduleDrain(RETRY_BACKOFF_MS_MAX);
        else this.failWriter(e);
      },
    );
  }

  private async send(leader: string, batches: WriteBatch<T>[]): Promise<void> {
    const answer = this.ctx.send(leader, this.opts.acks, batches);
    if (this.opts.acks === 0) {
      for (const b of batches) {
        this.succeed(b, -1n);
      }
    }
    let acks: BucketAck[];
    try {
      acks = await answer;
    } catch (err) {
      const e = toFlussError(err);
      for (const b of batches) this.onBatchError(b, e);
      this.moveIdle(batches);
      this.drain();
      return;
    }
    const byBucket = new Map(
      acks.map((r) => [targetKey({ partitionId: r.partitionId, bucket: r.bucketId }), r]),
    );
    for (const b of batches) {
      const r = byBucket.get(targetKey(b.target));
      if (!r)
        this.onBatchError(
          b,
          new FlussError(Errors.PROTOCOL_ERROR, `no response for bucket ${describe(b.target)}`),
        );
      else if (r.errorCode !== 0) this.onBatchError(b, errorFromCode(r.errorCode, r.errorMessage));
      else this.onBatchDone(b, r.baseOffset);
    }
    this.moveIdle(batches);
    this.drain();
  }

  private onBatchDone(b: WriteBatch<T>, baseOffset: bigint): void {
    const state = this.buckets.get(targetKey(b.target))!;
    state.inFlight--;
    state.backoffMs = RETRY_BACKOFF_MS_MIN;
    if (this.opts.acks === 0) return; // settled when sent
    if (b.sequence > state.ackedSequence) state.ackedSequence = b.sequence;
    this.succeed(b, baseOffset);
  }

  private onBatchError(b: WriteBatch<T>, err: FlussError): void {
    const state = this.buckets.get(targetKey(b.target))!;
    state.inFlight--;
    if (this.opts.acks === 0) {
      // Settled when sent; nothing to retry. Report what cannot be ignored.
      if (err.retriable) {
        this.ctx.onRetriableError(err);
        if (b.target.partitionId !== null) this.moves.suspect(b.target.partitionId);
      } else this.failWriter(err);
      return;
    }
    if (err.is(Errors.DUPLICATE_SEQUENCE_EXCEPTION)) {
      // Already stored by an earlier attempt whose answer was lost.
      this.succeed(b, -1n);
      return;
    }
    if (b.sequence >= 0 && b.sequence < state.ackedSequence) {
      // A later batch of its bucket was acknowledged, and leaders append a writer's batches only in
      // sequence: this one was written before it (its answer was lost — sent to a leader that
      // stopped answering and lost its leadership after a follower copied it — while the later
      // batches went to the new leader). Sent again it may fall outside the server's window of
      // retained batches (OUT_OF_ORDER_SEQUENCE), so it is settled as written, its offset unknown.
      this.succeed(b, -1n);
      return;
    }
    // Out of order behind an earlier batch of the same bucket that is not acknowledged yet (queued
    // for a retry, or in flight: after a leader change the retries may reach the new leader in any
    // order): resend after it.
    const behindRetry = err.is(Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION) && this.hasEarlierUnsettled(b);
    // A leader that names the partition gone: ask where it is (retryLater), as for an unknown bucket.
    const partitionGone = err.is(Errors.PARTITION_NOT_EXISTS) && b.target.partitionId !== null;
    if (err.retriable || behindRetry || partitionGone) this.retryLater(b, err);
    else this.failWriter(err);
  }

  /** An earlier closed batch of `b`'s bucket is still waiting for its acknowledgement. */
  private hasEarlierUnsettled(b: WriteBatch<T>): boolean {
    const key = targetKey(b.target);
    for (const q of this.unsettled) {
      if (q !== b && q.sequence >= 0 && q.sequence < b.sequence && targetKey(q.target) === key) return true;
    }
    return false;
  }

  private retryLater(b: WriteBatch<T>, err: FlussError): void {
    const state = this.buckets.get(targetKey(b.target))!;
    const age = this.clock.nowMs() - b.createdMs;
    if (b.attempts > this.opts.retries || age > this.opts.deliveryTimeoutMs) {
      this.failWriter(
        new FlussError(
          err.kind,
          `gave up on a batch for bucket ${describe(b.target)} after ${b.attempts} attempts: ${err.message}`,
        ),
      );
      return;
    }
    if (b.state === "in-flight") b.state = "ready";
    if (!state.queue.includes(b)) {
      state.queue.push(b);
      state.queue.sort((x, y) => x.sequence - y.sequence);
    }
    state.blockedUntilMs = this.clock.nowMs() + state.backoffMs;
    state.backoffMs = Math.min(RETRY_BACKOFF_MS_MAX, state.backoffMs * 2);
    this.ctx.onRetriableError(err);
    if (b.target.partitionId !== null) this.moves.suspect(b.target.partitionId);
    this.scheduleDrain(state.backoffMs);
  }

  /** A route with a dropped partition's id goes to its successor (PARTITION_NOT_EXISTS: none). */
  private redirect(route: Route): Route {
    const id = this.moves.redirect(route.partitionId!);
    if (id === route.partitionId) return route;
    if (id === null) {
      throw new FlussError(Errors.PARTITION_NOT_EXISTS, `partition ${route.partitionId} was dropped`);
    }
    return { partitionId: id, bucket: route.bucket };
  }

  /** Where a suspect partition is now: unchanged (send again), or its buckets leave. */
  private onPartitionChecked(from: bigint, to: bigint | null): void {
    if (this.fatal) return;
    if (to !== from) {
      for (const state of [...this.buckets.values()]) {
        if (state.target.partitionId !== from) continue;
        state.leaving = true;
        if (state.inFlight === 0) this.move(state);
      }
    }
    this.drain();
  }

  /** After answers: move the leaving buckets of these batches that have nothing in flight now. */
  private moveIdle(batches: readonly WriteBatch<T>[]): void {
    for (const b of batches) {
      const state = this.buckets.get(targetKey(b.target));
      if (state?.leaving && state.inFlight === 0) this.move(state);
    }
  }

  /**
   * Move a leaving bucket's batches (none in flight) to the same bucket of its partition's
   * successor, in order, with that bucket's next sequences; fail them if the partition is gone.
   */
  private move(from: BucketState<T>): void {
    assert(from.leaving && from.inFlight === 0, "a bucket moves once nothing of it is in flight");
    if (this.fatal) return;
    const partitionId = from.target.partitionId!;
    const to = this.moves.redirect(partitionId);
    this.buckets.delete(from.key);
    this.scheduler.clearTimeout(from.lingerTimer);
    this.sticky.delete(String(partitionId));
    const batches = from.queue;
    if (from.open) {
      from.open.close(NO_BATCH_SEQUENCE);
      batches.push(from.open);
    }
    from.open = undefined;
    from.queue = [];
    if (to === null) {
      const err = new FlussError(
        Errors.PARTITION_NOT_EXISTS,
        `partition ${partitionId} was dropped and not re-created; its buffered rows were not written`,
      );
      for (const b of batches) {
        this.release(b);
        b.fail(err);
      }
      return;
    }
    const state = this.stateOf({ partitionId: to, bucket: from.target.bucket });
    for (const b of batches) {
      b.retarget(state.target, this.opts.idempotence ? state.nextSequence++ : NO_BATCH_SEQUENCE);
      state.queue.push(b);
    }
    state.queue.sort((x, y) => x.sequence - y.sequence);
  }

  /** A batch is written (acknowledged, or sent with acks 0): free its memory and settle it. */
  private succeed(b: WriteBatch<T>, baseOffset: bigint): void {
    this.release(b);
    this.acknowledged += b.items;
    b.succeed(baseOffset);
  }

  private release(b: WriteBatch<T>): void {
    this.unsettled.delete(b);
    this.bufferedBytes -= b.sizeBytes;
    const waiters = this.spaceWaiters.splice(0);
    for (const w of waiters) w();
  }

  private failWriter(err: FlussError): void {
    if (this.fatal) return;
    this.fatal = err;
    for (const state of this.buckets.values()) {
      this.scheduler.clearTimeout(state.lingerTimer);
      state.open = undefined;
      state.queue.length = 0;
    }
    for (const b of this.unsettled) b.fail(err);
    this.unsettled.clear();
    this.bufferedBytes = 0;
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  /** Send everything buffered now and wait until all items written so far are acknowledged. */
  async flush(): Promise<void> {
    if (this.fatal) throw this.fatal;
    const pending = [...this.unsettled];
    for (const key of [...this.buckets.keys()]) this.closeBatch(key);
    try {
      await Promise.all(pending.map((p) => p.done));
    } catch (err) {
      throw isFlussError(err) ? err : toFlussError(err);
    }
    if (this.fatal) throw this.fatal;
  }

  /** Flush, then refuse further writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.scheduler.clearTimeout(this.drainTimer);
    }
  }

  /** Bytes of items held in memory until acknowledged. */
  get bufferedBytesNow(): number {
    return this.bufferedBytes;
  }

  /** Items acknowledged so far (with acks 0: sent so far). */
  get acknowledgedCount(): number {
    return this.acknowledged;
  }
}

function targetKey(t: BucketTarget): string {
  return t.partitionId === null ? `-/${t.bucket}` : `${t.partitionId}/${t.bucket}`;
}

function describe(t: BucketTarget): string {
  return t.partitionId === null ? `${t.bucket}` : `${t.bucket} of partition ${t.partitionId}`;
}
