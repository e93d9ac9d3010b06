// The log scanner: follows a table's buckets from a start position and yields their records, as
// Arrow batches (`batches()`) or typed rows (iterate the scanner). One long-poll fetch per leader
// is in flight at a time, carrying every bucket that leader serves (Fluss's LogFetcher). Fetched
// data waits in a buffer bounded by bytes; while it is full no new fetch is sent, so a slow
// consumer holds at most that much memory.
// Positions advance by each batch's last offset + 1 (offsets are not dense per record). A start
// offset inside a batch skips the batch's earlier records.
// Errors: retriable ones (not leader, network) back off and retry that bucket. A corrupt batch —
// reported by the server (CORRUPT_RECORD_EXCEPTION / CORRUPT_MESSAGE for a fetch) or failing the
// client's own checks (CRC of unprojected data, Arrow decoding) — ends the scan with a
// non-retriable CORRUPT_RECORD_EXCEPTION naming the bucket and offset: the same bytes would come
// back on every retry (Fluss's LogFetchCollector fails the fetch the same way).
// Positions (`positions()`, resumable reads): besides its fetch offset, each bucket keeps the
// offset after the last record handed to the caller. A buffered batch carries the offset its bucket
// continues at once it is handed out (stretched over data skipped after it: filtered batches), and
// the record iterator refines it per record, so saved positions never skip a record the caller has
// not seen, nor repeat one it has. `close()`, `Symbol.dispose` and `Symbol.asyncDispose` stop it;
// the `signal` option's abort stops it too, and iteration then rejects with `signal.reason` (like
// `signal.throwIfAborted()`, fetch and web streams), so an aborted scan is never taken for a finished one.

import {
  type Column,
  changeTypeName,
  computeBatchCrc,
  decodeArrowLogBatch,
  Errors,
  errorFromCode,
  FlussError,
  filterRecordBatch,
  nextOffsetOf,
  readRows,
  splitBatches,
  type TimerHandle,
  toFlussError,
} from "@fluss-ts/common";
import type { AnyRow } from "../schema-types.ts";
import { positionKey, type ScanPositions } from "./positions.ts";
import type { ScanContext } from "./scan-context.ts";
import type {
  BucketCursor,
  BucketStart,
  BufferEntry,
  ScanBatch,
  ScannerSettings,
  ScanRecord,
} from "./scan-types.ts";

export type { BucketStart, ScanBatch, ScannerSettings, ScanRecord } from "./scan-types.ts";

const BACKOFF_MS_MIN = 50;
const BACKOFF_MS_MAX = 2000;

export class LogScanner<R extends object = AnyRow>
  implements AsyncIterable<ScanRecord<R>>, Disposable, AsyncDisposable
{
  readonly columns: readonly Column[];
  private readonly ctx: ScanContext;
  private readonly s: ScannerSettings;
  private cursors: BucketCursor[] = [];
  private started = false;
  /** True once the start positions are known (the cursors exist). */
  private positioned = false;
  private readonly buffer: BufferEntry[] = [];
  /** The batch the record iterator is in, and the index of the record it handed out last. */
  private rowBatch: ScanBatch | undefined;
  private rowIndex = 0;
  private bufferedBytes = 0;
  private readonly leadersInFlight = new Set<string>();
  private wake: (() => void) | undefined;
  private failure: FlussError | undefined;
  private closed = false;
  /** Set when the caller's signal aborted the scan: iteration rejects with `reason` (as Node's APIs do). */
  private aborted: { reason: unknown } | undefined;
  private readonly onAbort: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  private discoverTimer: TimerHandle | undefined;
  private readonly controller = new AbortController();
  private fetchedBytesTotal = 0;
  private fetchedBatchesTotal = 0;

  constructor(ctx: ScanContext, settings: ScannerSettings) {
    this.ctx = ctx;
    this.s = settings;
    this.columns = settings.columns;
    const signal = settings.signal;
    if (signal?.aborted) this.abort(signal.reason);
    else if (signal) {
      this.onAbort = () => this.abort(signal.reason);
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.addCursors(await this.s.positions());
    this.positioned = true;
    if (this.s.discover) this.scheduleDiscovery();
  }

  private addCursors(starts: readonly BucketStart[]): void {
    const known = new Set(this.cursors.map((c) => c.key));
    for (const st of starts) {
      const key = positionKey(st.partitionId, st.bucket);
      if (known.has(key)) continue;
      known.add(key);
      this.cursors.push({
        partitionId: st.partitionId,
        partition: st.partition,
        key,
        bucket: st.bucket,
        offset: st.offset,
        delivered: st.offset,
        lastBuffered: undefined,
        end: st.end,
        inFlight: false,
        blockedUntilMs: 0,
        backoffMs: BACKOFF_MS_MIN,
      });
    }
  }

  /** Poll for partitions created after the scan started (following scans of partitioned tables). */
  private scheduleDiscovery(): void {
    const discover = this.s.discover;
    if (!discover || this.closed) return;
    this.discoverTimer = this.ctx.scheduler.setTimeout(() => {
      const known = new Set(this.cursors.map((c) => c.partition ?? ""));
      discover(known).then(
        (found) => {
          if (this.closed) return;
          this.addCursors(found);
          this.pump();
          this.scheduleDiscovery();
        },
        () => this.scheduleDiscovery(),
      );
    }, this.s.discoverIntervalMs);
    this.discoverTimer.unref();
  }

  private done(c: BucketCursor): boolean {
    return c.end !== null && c.offset >= c.end;
  }

  /** True once every bucket reached its end (only with untilLatest). */
  private get finished(): boolean {
    return this.cursors.every((c) => this.done(c));
  }

  /** Send a fetch to every leader that has idle buckets and no fetch in flight. */
  private pump(): void {
    if (this.closed || this.failure || this.bufferedBytes >= this.s.bufferBytesMax) return;
    const now = this.ctx.clock.nowMs();
    const byLeader = new Map<string, BucketCursor[]>();
    let nextRetryMs = Number.POSITIVE_INFINITY;
    for (const c of this.cursors) {
      if (c.inFlight || this.done(c)) continue;
      if (c.blockedUntilMs > now) {
        nextRetryMs = Math.min(nextRetryMs, c.blockedUntilMs - now);
        continue;
      }
      let leader: string;
      try {
        leader = this.ctx.leaderKey({ partitionId: c.partitionId, bucket: c.bucket });
      } catch (err) {
        this.backoff(c, toFlussError(err));
        nextRetryMs = Math.min(nextRetryMs, c.backoffMs);
        continue;
      }
      if (this.leadersInFlight.has(leader)) continue;
      const list = byLeader.get(leader) ?? [];
      list.push(c);
      byLeader.set(leader, list);
    }
    for (const [leader, list] of byLeader) void this.fetch(leader, list);
    if (nextRetryMs !== Number.POSITIVE_INFINITY && !this.retryTimer) {
      this.retryTimer = this.ctx.scheduler.setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, nextRetryMs);
    }
  }

  private async fetch(leader: string, list: BucketCursor[]): Promise<void> {
    this.leadersInFlight.add(leader);
    for (const c of list) c.inFlight = true;
    try {
      const resp = await this.ctx.fetch(
        leader,
        {
          buckets: list.map((c) => ({ partitionId: c.partitionId, bucket: c.bucket, offset: c.offset })),
          projection: this.s.projection,
          filter: this.s.filter,
          maxWaitMs: this.s.fetchWaitMs,
          minBytes: this.s.fetchMinBytes,
          maxBytes: this.s.fetchMaxBytes,
          bucketMaxBytes: this.s.fetchBucketMaxBytes,
        },
        this.controller.signal,
      );
      const byBucket = new Map(resp.map((r) => [positionKey(r.partitionId, r.bucket), r]));
      for (const c of list) {
        const r = byBucket.get(c.key);
        if (!r)
          this.backoff(c, new FlussError(Errors.PROTOCOL_ERROR, `no fetch result for bucket ${c.bucket}`));
        else if (r.errorCode !== 0) this.onBucketError(c, errorFromCode(r.errorCode, r.errorMessage));
        else this.absorbOrFail(c, r.records, r.filteredEndOffset);
      }
    } catch (err) {
      if (!this.closed) for (const c of list) this.backoff(c, toFlussError(err));
    } finally {
      this.leadersInFlight.delete(leader);
      for (const c of list) c.inFlight = false;
      this.signal();
      this.pump();
    }
  }

  /** `absorb`, where data that fails its checks ends the scan instead of being retried. */
  private absorbOrFail(c: BucketCursor, records: Uint8Array, filteredEnd: bigint | null): void {
    try {
      this.absorb(c, records, filteredEnd);
    } catch (err) {
      const e = toFlussError(err);
      if (!isCorruption(e)) throw e;
      this.fail(corruptionAt(c, c.offset, e)); // the batches before the bad one were taken
    }
  }

  /** Decode a bucket's fetched batches into the buffer and advance its position. */
  private absorb(c: BucketCursor, records: Uint8Array, filteredEnd: bigint | null): void {
    c.backoffMs = BACKOFF_MS_MIN;
    // A projected batch's CRC is stale by design (the server checked the stored batch before
    // cutting it); an unprojected one is checked here too, end to end.
    const verifyCrc = this.s.projection === null;
    this.fetchedBytesTotal += records.byteLength;
    for (const { header, bytes } of splitBatches(records, { verifyCrc: false, allowPartialTail: true })) {
      this.fetchedBatchesTotal++;
      const next = nextOffsetOf(header);
      if (next <= c.offset) continue;
      if (verifyCrc && computeBatchCrc(bytes, header.magic) !== header.crc) {
        throw new FlussError(
          Errors.CORRUPT_RECORD_EXCEPTION,
          `record batch at offset ${header.baseOffset} fails its CRC check`,
        );
      }
      const decoded = decodeArrowLogBatch(bytes, this.s.fetchColumns);
      let recordBatch = decoded.recordBatch;
      let changeTypes = decoded.changeTypes;
      let baseOffset = header.baseOffset;
      if (c.offset > header.baseOffset && header.recordCount > 0) {
        // Start position inside this batch: drop the records before it.
        const skip = Number(c.offset - header.baseOffset);
        recordBatch = recordBatch.slice(skip);
        changeTypes = changeTypes ? changeTypes.subarray(skip) : null;
        baseOffset = c.offset;
      }
      if (c.end !== null && next > c.end) {
        const keep = Math.max(0, Number(c.end - baseOffset));
        recordBatch = recordBatch.slice(0, keep);
        changeTypes = changeTypes ? changeTypes.subarray(0, keep) : null;
      }
      c.offset = next;
      let selection: Uint32Array | null = null;
      if (this.s.filter && recordBatch.numRows > 0) {
        const f = filterRecordBatch(recordBatch, this.s.fetchColumns, this.s.filter, changeTypes);
        if (f.batch !== recordBatch) selection = f.selection;
        recordBatch = f.batch;
        changeTypes = f.changeTypes ?? null;
      }
      if (recordBatch.numRows === 0) continue;
      if (this.s.fetchColumns.length !== this.columns.length) {
        recordBatch = recordBatch.select(this.columns.map((col) => col.name));
      }
      const batch: ScanBatch = {
        bucket: c.bucket,
        partitionId: c.partitionId,
        partition: c.partition,
        baseOffset,
        nextOffset: next,
        commitTimestamp: Number(header.commitTimestamp),
        changeTypes,
        recordBatch,
        selection,
      };
      const entry: BufferEntry = { batch, sizeBytes: bytes.byteLength, cursor: c, resumeAt: next };
      this.buffer.push(entry);
      c.lastBuffered = entry;
      this.bufferedBytes += bytes.byteLength;
    }
    // Batches the server skipped by their statistics still move the position past them.
    if (filteredEnd !== null && filteredEnd > c.offset) {
      c.offset = c.end !== null && filteredEnd > c.end ? c.end : filteredEnd;
    }
    // Data skipped after the last buffered batch (or with none buffered) counts as handed out
    // together with that batch (or at once).
    if (c.lastBuffered) c.lastBuffered.resumeAt = c.offset;
    else c.delivered = c.offset;
  }

  private onBucketError(c: BucketCursor, err: FlussError): void {
    if (isCorruption(err)) this.fail(corruptionAt(c, c.offset, err));
    else if (err.retriable) this.backoff(c, err);
    else this.fail(err);
  }

  private backoff(c: BucketCursor, err: FlussError): void {
    if (!err.retriable) {
      this.fail(err);
      return;
    }
    c.blockedUntilMs = this.ctx.clock.nowMs() + c.backoffMs;
    c.backoffMs = Math.min(BACKOFF_MS_MAX, c.backoffMs * 2);
    this.ctx.onRetriableError(err);
  }

  private fail(err: FlussError): void {
    if (!this.failure) this.failure = err;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Arrow batches with their bucket and offsets, in fetch order (per bucket: offset order). */
  async *batches(): AsyncGenerator<ScanBatch> {
    try {
      this.throwIfAborted();
      await this.start();
      this.pump();
      for (;;) {
        this.throwIfAborted();
        // Batches taken before a failure are still yielded (they passed their checks).
        const next = this.buffer.shift();
        if (!next && this.failure) throw this.failure;
        if (next) {
          this.bufferedBytes -= next.sizeBytes;
          const c = next.cursor;
          c.delivered = next.resumeAt;
          if (c.lastBuffered === next) c.lastBuffered = undefined;
          this.pump();
          yield next.batch;
          continue;
        }
        if (this.closed) return;
        if (this.finished && this.leadersInFlight.size === 0) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ScanRecord<R>> {
    for await (const b of this.batches()) {
      const rows = readRows(b.recordBatch, this.columns) as unknown as R[];
      const ts = b.commitTimestamp;
      this.rowBatch = b;
      for (let i = 0; i < rows.length; i++) {
        this.rowIndex = i;
        yield {
          bucket: b.bucket,
          partition: b.partition,
          offset: b.baseOffset + BigInt(b.selection ? b.selection[i]! : i),
          timestamp: ts,
          changeType: b.changeTypes ? changeTypeName(b.changeTypes[i]!) : "+A",
          row: rows[i]!,
        };
      }
      this.rowBatch = undefined;
    }
  }

  /** What travelled from the servers so far: bytes of record batches, and batches. */
  stats(): { fetchedBytes: number; fetchedBatches: number } {
    return { fetchedBytes: this.fetchedBytesTotal, fetchedBatches: this.fetchedBatchesTotal };
  }

  /** True once the scan knows where it starts in each bucket, so `positions()` can answer. */
  get positionsKnown(): boolean {
    return this.positioned || this.s.resumeFrom !== null;
  }

  /**
   * Where the scan stands in each bucket: the offset after the last record (or batch) it handed
   * out. Save it (e.g. `JSON.stringify`) after processing what was handed out, and pass it back as
   * `from` to continue exactly there. Before the scan has resolved its start (on the first
   * iteration step), a resumed scan reports the positions it resumes from; any other throws
   * INVALID_ARGUMENT (see `positionsKnown`).
   */
  positions(): ScanPositions {
    if (!this.positioned) {
      if (this.s.resumeFrom !== null) return this.s.resumeFrom;
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        "the scan has not started yet: its positions are known once its first record or batch was asked for",
      );
    }
    const inRow = this.rowBatch;
    const rowKey = inRow ? positionKey(inRow.partitionId, inRow.bucket) : undefined;
    return {
      version: 1,
      table: this.s.table.path,
      tableId: String(this.s.table.tableId),
      buckets: this.cursors.map((c) => {
        let offset = c.delivered;
        if (inRow && c.key === rowKey) {
          const i = this.rowIndex;
          offset = inRow.baseOffset + BigInt(inRow.selection ? inRow.selection[i]! : i) + 1n;
        }
        return {
          partition: c.partition,
          partitionId: c.partitionId === null ? null : String(c.partitionId),
          bucket: c.bucket,
          offset: String(offset),
        };
      }),
    };
  }

  /** `using scanner = table.newLogScanner()` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  private throwIfAborted(): void {
    if (this.aborted) throw this.aborted.reason;
  }

  /** The caller's signal fired: stop, and make iteration reject with the signal's reason. */
  private abort(reason: unknown): void {
    if (this.closed) return;
    this.aborted = { reason };
    this.close();
  }

  /** Stop the scan: in-flight fetches are cancelled and iteration ends (without an error). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.onAbort) this.s.signal?.removeEventListener("abort", this.onAbort);
    this.ctx.scheduler.clearTimeout(this.retryTimer);
    this.ctx.scheduler.clearTimeout(this.discoverTimer);
    this.controller.abort();
    this.signal();
  }
}

/** Corrupt stored data (as opposed to a batch damaged in transit on a write): final for a reader. */
function isCorruption(err: FlussError): boolean {
  return err.is(Errors.CORRUPT_RECORD_EXCEPTION) || err.is(Errors.CORRUPT_MESSAGE);
}

/** The non-retriable error a reader gets for corrupt data at `offset` of the cursor's bucket. */
function corruptionAt(c: BucketCursor, offset: bigint, err: FlussError): FlussError {
  const where = c.partition === null ? `bucket ${c.bucket}` : `partition ${c.partition} bucket ${c.bucket}`;
  const message = `corrupt data reading ${where} at offset ${offset}: ${err.message}`;
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, message, { cause: err, retriable: false });
}
