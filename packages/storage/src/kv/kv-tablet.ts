// The KV tablet of one primary-key bucket (Fluss KvTablet): the KV store (lmdb), its pre-write
// buffer, and the bucket's log tablet, which holds the changelog.
// Write path (putAsLeader): verify the KV batch (CRC); idempotence first — a retried batch is
// answered with the original offsets and NOT merged again, an out-of-order one refused; merge
// every record against the current value and stage the results (kv-write-path.ts); append ONE
// ARROW changelog batch with the KV batch's writer id and sequence (an empty batch when nothing
// changed: it still takes one offset and advances the writer's sequence). Everything from the
// first read to the synchronous part of the log append runs without an await, so concurrent
// calls never interleave. The pre-write buffer mirrors the log above the high watermark: a failed
// append rolls back the staged values the log does not hold (all of them when it wrote nothing
// or took its write back; none when it kept the records).
// Read path: as the high watermark moves, the buffer queues what it passed to the store, which
// commits it on lmdb's write thread; reads see exactly the changelog below the high watermark,
// never uncommitted data: point lookups read the buffer's in-flight entries, then the store;
// prefix lookups and limit scans first wait for the queued commits (when a commit has failed,
// they read the store with the in-flight entries laid over it instead); a full scan reads one
// committed store transaction with the in-flight entries laid over it and reports the offset
// that holds.
// Recovery at open: the store (local, restored from the newest snapshot, or empty; kv-open.ts),
// then the changelog from its applied offset (kv-recovery.ts).
// A full disk: a failed store commit is retried by the store (kv-store.ts) while reads go on; new
// writes are refused with the store's STORAGE_EXCEPTION (retriable) until a commit succeeds, so
// they resume by themselves once space is freed. A failed changelog append rolls back what the
// batch staged.
// Damage: when a read finds an entry whose checksum fails, that read fails with
// CORRUPT_RECORD_EXCEPTION and the tablet rebuilds its store — moved aside, replaced by the newest
// sound snapshot (or an empty store when the whole log is there) plus the changelog, exactly as
// at open; until then every call fails with CORRUPT_RECORD_EXCEPTION (retriable). A rebuild that
// fails on a full disk is tried again by the next call; any other failure of it is final.
// After a final failure the tablet refuses all further work with that failure.

import fs from "node:fs";
import {
  assert,
  type Clock,
  Errors,
  FlussError,
  invalidArgument,
  readKvRecordBatch,
  type Scheduler,
  type Schema,
} from "@fluss-ts/common";
import type { LogTablet } from "../log/log-tablet.ts";
import { AutoIncrement } from "./auto-increment.ts";
import { kvError } from "./kv-format.ts";
import { openStore, removeOpenMarker, stagingDirOf } from "./kv-open.ts";
import { validateKvTable } from "./kv-options.ts";
import { RECOVERY_READ_BYTES_DEFAULT, replayChangelog } from "./kv-recovery.ts";
import { type SnapshotTarget, takeSnapshot } from "./kv-snapshots.ts";
import type { KvStore, KvStoreOptions } from "./kv-store.ts";
import { KvWritePath } from "./kv-write-path.ts";
import { createRowMerger, type RowMerger } from "./merge/row-merger.ts";
import { overlaid, PreWriteBuffer } from "./pre-write-buffer.ts";
import { RowCodec } from "./row-codec.ts";
import type { IdAllocator, KvOptions, PutOptions, PutResult, SnapshotManifest } from "./types.ts";
import { ValueArena } from "./value-arena.ts";

/** Default bound of the pre-write buffer. */
export const PRE_WRITE_BUFFER_BYTES_DEFAULT = 256 * 1024 * 1024;
/** Distinct target-column sets whose mergers are cached. */
const MERGERS_CACHED_MAX = 16;
/** A lookup's values are copied into chunks sized for this many bytes per key (value-arena.ts)... */
const LOOKUP_VALUE_BYTES_GUESS = 128;
/** ...but no chunk is made larger than this up front (a larger value gets a chunk of its own). */
const LOOKUP_ARENA_BYTES_MAX = 256 * 1024;

export interface KvTabletOptions {
  readonly dir: string;
  readonly log: LogTablet;
  readonly schema: Schema;
  readonly schemaId: number;
  readonly options: KvOptions;
  readonly clock: Clock;
  /** Timers of store commit retries (default: the process's). */
  readonly scheduler?: Scheduler;
  /** Required when the table has an auto-increment column. */
  readonly idAllocator?: IdAllocator | null;
  readonly preWriteBufferBytesMax?: number;
  /** Partition key columns (left out of the stored key). */
  readonly partitionKeys?: readonly string[];
  /** Remote snapshots: restored from when the local store is unusable, taken by snapshot(). */
  readonly snapshots?: SnapshotTarget | null;
  /** Flush to the store whenever the log's high watermark grows (default true). */
  readonly followHighWatermark?: boolean;
  readonly recoveryReadBytes?: number;
  /** First wait before a failed store commit is retried (kv-store.ts default otherwise). */
  readonly storeCommitRetryMs?: number;
}

export interface KvScan {
  /** The scan holds exactly the changelog below this offset. */
  readonly logOffset: bigint;
  readonly rowCount: bigint | null;
  /** Stored values (i16 schema id + row), in key order; ending the iteration frees the view. */
  readonly values: Iterable<Uint8Array>;
}

export interface KvTabletStats {
  readonly appliedLogOffset: bigint;
  readonly rowCount: bigint | null;
  readonly preWriteBufferBytes: number;
  readonly preWriteBufferEntries: number;
  /** Entries flushed below the high watermark whose store commit has not settled. */
  readonly inFlightEntries: number;
  readonly puts: number;
  readonly duplicates: number;
  readonly recoveredRecords: number;
  /** Why the local store was replaced (at open or by the newest rebuild), or null. */
  readonly discardedLocalStore: string | null;
  /** Store rebuilds started (damage found while running; a retried attempt counts again). */
  readonly storeRebuilds: number;
  /** Why the store's last commit failed (its writes are being retried), or null. */
  readonly storeCommitFailure: string | null;
}

export class KvTablet {
  readonly dir: string;
  readonly log: LogTablet;
  readonly schema: Schema;
  readonly schemaId: number;
  readonly options: KvOptions;
  private readonly clock: Clock;
  private store: KvStore;
  private readonly storeOptions: Omit<KvStoreOptions, "readOnly">;
  private readonly recoveryReadBytes: number;
  private readonly buffer: PreWriteBuffer;
  private readonly codec: RowCodec;
  private readonly writePath: KvWritePath;
  private readonly autoIncrement: AutoIncrement | null;
  private readonly snapshots: SnapshotTarget | null;
  private readonly mergers = new Map<string, RowMerger>();
  private readonly counters = { puts: 0, duplicates: 0, recoveredRecords: 0, storeRebuilds: 0 };
  private discarded: string | null = null;
  private latest: SnapshotManifest | null = null;
  private snapshotRunning: Promise<SnapshotManifest> | null = null;
  private unsubscribe: (() => void) | null = null;
  private failure: FlussError | null = null;
  /** The damage that made the store unusable, until a rebuild replaced it. */
  private damage: FlussError | null = null;
  private rebuilding: Promise<void> | null = null;
  private closed = false;

  private constructor(o: KvTabletOptions, store: KvStore, storeOptions: Omit<KvStoreOptions, "readOnly">) {
    this.dir = o.dir;
    this.storeOptions = storeOptions;
    this.recoveryReadBytes = o.recoveryReadBytes ?? RECOVERY_READ_BYTES_DEFAULT;
    this.log = o.log;
    this.schema = o.schema;
    this.schemaId = o.schemaId;
    this.options = o.options;
    this.clock = o.clock;
    this.store = store;
    this.snapshots = o.snapshots ?? null;
    this.buffer = new PreWriteBuffer(o.preWriteBufferBytesMax ?? PRE_WRITE_BUFFER_BYTES_DEFAULT);
    this.codec = new RowCodec(o.schema, o.schemaId, o.partitionKeys ?? []);
    this.autoIncrement = AutoIncrement.of(o.schema, o.options.autoIncrementColumns, o.idAllocator ?? null);
    this.writePath = new KvWritePath({
      codec: this.codec,
      buffer: this.buffer,
      store: () => this.store,
      image: o.options.changelogImage,
      autoIncrement: this.autoIncrement,
    });
  }

  /** Open the tablet in `dir`: put a store in place, replay the changelog, follow the HW. */
  static async open(o: KvTabletOptions): Promise<KvTablet> {
    if (o.schema.primaryKey.length === 0) throw invalidArgument("a kv tablet needs a primary-key table");
    validateKvTable(o.schema, o.options, o.partitionKeys ?? []);
    fs.mkdirSync(o.dir, { recursive: true });
    let self: KvTablet | null = null;
    const storeOptions: Omit<KvStoreOptions, "readOnly"> = {
      onCorrupt: (err) => self?.storeDamaged(err),
      ...(o.storeCommitRetryMs === undefined ? {} : { commitRetryMs: o.storeCommitRetryMs }),
      ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    };
    const opened = await openStore(o.dir, o.log, o.snapshots ?? null, o.clock.nowMs(), {
      store: storeOptions,
    });
    let tablet: KvTablet;
    try {
      tablet = new KvTablet(o, opened.store, storeOptions);
      self = tablet;
      tablet.discarded = opened.discarded;
      tablet.latest = opened.restored;
      await tablet.recover();
    } catch (err) {
      await opened.store.close();
      removeOpenMarker(o.dir);
      throw err;
    }
    if (o.followHighWatermark !== false) {
      tablet.unsubscribe = o.log.onHighWatermark((e) => tablet.flushQuietly(e.highWatermark));
    }
    return tablet;
  }

  private async recover(): Promise<void> {
    if (this.options.changelogImage === "WAL" && this.store.state.rowCount !== null) {
      this.store.write([], { appliedLogOffset: this.store.state.appliedLogOffset, rowCount: null });
    }
    const r = await replayChangelog({
      log: this.log,
      store: this.store,
      buffer: this.buffer,
      codec: this.codec,
      readBytes: this.recoveryReadBytes,
    });
    this.counters.recoveredRecords = r.appliedRecords + r.stagedRecords;
    if (this.snapshots !== null && this.latest === null) {
      this.latest = (await this.snapshots.remote.list(this.snapshots.scope)).at(-1) ?? null;
    }
  }

  /** Every changelog record below this offset is committed to the store. */
  get appliedLogOffset(): bigint {
    return this.store.state.appliedLogOffset;
  }

  /**
   * Resolves true once everything flushed so far is committed to the store, false when a commit
   * failed first (the store retries it).
   */
  committed(): Promise<boolean> {
    return this.store.whenCommitted();
  }

  /** Rows in the store (FULL changelog image), else null. */
  get rowCount(): bigint | null {
    return this.store.state.rowCount;
  }

  private assertUsable(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `kv tablet ${this.dir} is closed`);
    const damage = this.damage;
    if (damage !== null) {
      if (this.rebuilding === null) this.startRebuild(damage); // an earlier attempt hit a full disk
      throw new FlussError(
        Errors.CORRUPT_RECORD_EXCEPTION,
        `the kv store of ${this.dir} is being rebuilt from its snapshot and changelog (${damage.message}); retry`,
      );
    }
  }

  /** A read found damage in the store (kv-store.ts onCorrupt): rebuild it. */
  private storeDamaged(err: FlussError): void {
    if (this.closed || this.failure !== null || this.damage !== null) return;
    this.damage = err;
    this.startRebuild(err);
  }

  /** Rebuild the store after the current call returns; `damage` stays set until it succeeds. */
  private startRebuild(damage: FlussError): void {
    this.counters.storeRebuilds++;
    const run = Promise.resolve()
      .then(() => this.rebuild(damage))
      .then(
        () => {
          this.damage = null;
          this.flushQuietly(this.log.highWatermark); // what the HW passed while rebuilding
        },
        (err: unknown) => {
          const e = kvError("rebuild", this.dir, err);
          if (!e.retriable) this.failure = e; // else the next call tries again
        },
      )
      .finally(() => {
        this.rebuilding = null;
      });
    this.rebuilding = run;
  }

  /** Replace the damaged store: snapshot (or empty) plus the changelog, as at open. */
  private async rebuild(damage: FlussError): Promise<void> {
    await this.snapshotRunning?.catch(() => undefined);
    await this.store.close(); // waits for a running commit; drops queued writes (the log has them)
    if (this.closed) return;
    this.buffer.clear(); // re-staged from the log by the replay
    const opened = await openStore(this.dir, this.log, this.snapshots, this.clock.nowMs(), {
      store: this.storeOptions,
      discard: `it is damaged: ${damage.message}`,
    });
    this.store = opened.store;
    this.discarded = opened.discarded;
    if (opened.restored !== null) this.latest = opened.restored;
    await this.recover();
  }

  private mergerFor(targetColumns: readonly number[] | null): RowMerger {
    const id = targetColumns === null ? "*" : targetColumns.join(",");
    let merger = this.mergers.get(id);
    if (merger === undefined) {
      merger = createRowMerger(this.options, this.schema, targetColumns);
      if (this.mergers.size >= MERGERS_CACHED_MAX) this.mergers.clear();
      this.mergers.set(id, merger);
    }
    return merger;
  }

  private checkSchemaId(schemaId: number): void {
    if (schemaId !== this.schemaId) {
      throw new FlussError(
        Errors.SCHEMA_NOT_EXIST,
        `kv batch has schema id ${schemaId}; this tablet accepts schema id ${this.schemaId}`,
      );
    }
  }

  /**
   * Apply one KV batch as the bucket leader; resolves once its changelog batch is appended (and
   * durable under the log's flush mode). `targetColumns` are column indexes of a partial update.
   */
  async putAsLeader(
    kvBatch: Uint8Array,
    targetColumns: readonly number[] | null,
    opts: PutOptions,
  ): Promise<PutResult> {
    this.assertUsable();
    const storeFailure = this.store.commitFailure;
    if (storeFailure !== null) throw storeFailure; // a full disk: writes resume once a commit succeeds
    const batch = readKvRecordBatch(kvBatch, { verifyCrc: true });
    if (batch.sizeInBytes !== kvBatch.byteLength) {
      throw new FlussError(
        Errors.CORRUPT_RECORD_EXCEPTION,
        `${kvBatch.byteLength - batch.sizeInBytes} bytes after the kv batch`,
      );
    }
    this.checkSchemaId(batch.schemaId);
    const duplicate = this.log.checkWriterSequence(batch.writerId, batch.batchSequence);
    if (duplicate !== null) {
      this.counters.duplicates++;
      await this.log.whenDurable(duplicate.lastOffset + 1n);
      return { ...duplicate, logEndOffset: this.log.logEndOffset };
    }
    this.buffer.checkAdmission(batch.sizeInBytes);
    this.autoIncrement?.checkTargets(targetColumns);
    const merger = this.mergerFor(targetColumns);
    const start = this.log.logEndOffset;
    this.buffer.truncateTo(start); // the buffer mirrors the log: nothing staged past its end
    let appended: Promise<{ firstOffset: bigint; lastOffset: bigint; duplicate: boolean }>;
    try {
      const changelog = this.writePath.stage(batch, merger, start);
      const logBatch = changelog.build({
        schemaId: this.schemaId,
        compression: opts.compression,
        writerId: batch.writerId,
        batchSequence: batch.batchSequence,
      });
      appended = this.log.append(
        logBatch,
        opts.leaderEpoch === undefined ? {} : { leaderEpoch: opts.leaderEpoch },
      );
    } catch (err) {
      this.buffer.truncateTo(start);
      throw err;
    }
    const written = this.log.logEndOffset > start;
    if (!written) this.buffer.truncateTo(start); // the append failed before writing: undo now
    try {
      const info = await appended;
      assert(info.firstOffset === start && !info.duplicate, "the changelog batch lands where it was staged");
      this.counters.puts++;
      return {
        firstOffset: info.firstOffset,
        lastOffset: info.lastOffset,
        logEndOffset: this.log.logEndOffset,
        duplicate: false,
      };
    } catch (err) {
      // The append or its flush failed (e.g. a full disk). The buffer keeps mirroring the log:
      // what the log rolled back is dropped, what it kept (its records are the changelog) stays.
      if (written && !this.closed) this.buffer.truncateTo(this.log.logEndOffset);
      throw err;
    }
  }

  /** Flush everything staged below `highWatermark` into the store. */
  onHighWatermark(highWatermark: bigint): void {
    this.assertUsable();
    const end = this.log.logEndOffset;
    const upTo = highWatermark < end ? highWatermark : end;
    try {
      this.buffer.flush(upTo, this.store);
    } catch (err) {
      this.failure = new FlussError(
        Errors.KV_STORAGE_EXCEPTION,
        `kv flush in ${this.dir} failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
      throw this.failure;
    }
  }

  private flushQuietly(highWatermark: bigint): void {
    if (this.closed || this.failure !== null) return;
    try {
      this.onHighWatermark(highWatermark);
    } catch {
      // recorded in this.failure: every later call on the tablet reports it
    }
  }

  /**
   * Stored values (i16 schema id + row) of `keys`, null where absent. Never above the HW. The
   * values are copies, packed into a few shared chunks (value-arena.ts).
   */
  lookup(keys: readonly Uint8Array[]): (Uint8Array | null)[] {
    this.assertUsable();
    const buffer = this.buffer;
    const store = this.store;
    const arena = new ValueArena(Math.min(LOOKUP_ARENA_BYTES_MAX, keys.length * LOOKUP_VALUE_BYTES_GUESS));
    const out = new Array<Uint8Array | null>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.byteLength === 0) {
        out[i] = null;
        continue;
      }
      const flushed = buffer.getFlushed(k);
      if (flushed !== undefined) {
        out[i] = flushed;
        continue;
      }
      const view = store.getFast(k); // valid until the next read of the store
      out[i] = view === null ? null : arena.copy(view);
    }
    return out;
  }

  /** For each prefix (e.g. a bucket key that prefixes the primary key), every stored value under it. */
  async prefixLookup(prefixes: readonly Uint8Array[]): Promise<Uint8Array[][]> {
    this.assertUsable();
    for (const p of prefixes) {
      if (p.byteLength === 0) throw invalidArgument("a lookup prefix must not be empty");
    }
    const committed = await this.store.whenCommitted();
    this.assertUsable();
    const store = this.store;
    if (committed) return prefixes.map((p) => [...store.prefixScan(p)].map((e) => e.value));
    return prefixes.map((p) => [...overlaid(store.prefixScan(p), this.buffer.inFlightUnder(p))]);
  }

  /**
   * A consistent scan of every value below the high watermark flushed so far, with the log offset
   * it corresponds to: one committed store transaction with the in-flight entries (flushed, not
   * yet committed: a commit that is running or failed) laid over it, both taken now.
   */
  scan(): KvScan {
    this.assertUsable();
    const { state, entries } = this.store.snapshotScan();
    const overlay = this.buffer.inFlightUnder(new Uint8Array(0));
    if (overlay.length === 0 && state.appliedLogOffset === this.store.queuedState.appliedLogOffset) {
      function* values(): Generator<Uint8Array> {
        for (const e of entries) yield e.value;
      }
      return { logOffset: state.appliedLogOffset, rowCount: state.rowCount, values: values() };
    }
    const queued = this.store.queuedState;
    return {
      logOffset: queued.appliedLogOffset,
      rowCount: queued.rowCount,
      values: overlaid(entries, overlay),
    };
  }

  /** The first `limit` stored values in key order. */
  async limitScan(limit: number): Promise<Uint8Array[]> {
    this.assertUsable();
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw invalidArgument(`scan limit ${limit} is not a count`);
    const committed = await this.store.whenCommitted();
    this.assertUsable();
    const store = this.store;
    if (committed) return [...store.scan(limit)].map((e) => e.value);
    const out: Uint8Array[] = [];
    if (limit === 0) return out;
    for (const v of overlaid(store.scan(), this.buffer.inFlightUnder(new Uint8Array(0)))) {
      out.push(v);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Take a snapshot into the configured remote store (one at a time); returns its manifest. */
  snapshot(): Promise<SnapshotManifest> {
    this.assertUsable();
    const target = this.snapshots;
    if (target === null) throw invalidArgument(`kv tablet ${this.dir} has no snapshot target`);
    if (this.snapshotRunning !== null) return this.snapshotRunning;
    const latest = this.latest;
    if (latest !== null && latest.logOffset === this.appliedLogOffset) return Promise.resolve(latest);
    const id = latest === null ? 0 : latest.snapshotId + 1;
    const run = takeSnapshot(this.store, stagingDirOf(this.dir), target, id, this.clock.nowMs());
    this.snapshotRunning = run
      .then((m) => {
        this.latest = m;
        return m;
      })
      .finally(() => {
        this.snapshotRunning = null;
      });
    return this.snapshotRunning;
  }

  /** The newest snapshot taken, restored or found in the remote store at open. */
  latestSnapshot(): SnapshotManifest | null {
    return this.latest;
  }

  stats(): KvTabletStats {
    return {
      appliedLogOffset: this.store.state.appliedLogOffset,
      rowCount: this.store.state.rowCount,
      preWriteBufferBytes: this.buffer.pendingBytes,
      preWriteBufferEntries: this.buffer.size,
      inFlightEntries: this.buffer.inFlightSize,
      ...this.counters,
      discardedLocalStore: this.discarded,
      storeCommitFailure: this.store.commitFailure?.message ?? null,
    };
  }

  /** Stop following the log and close the store (staged values are rebuilt from the log at open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    await this.rebuilding;
    await this.snapshotRunning?.catch(() => undefined);
    await this.store.close();
    removeOpenMarker(this.dir);
  }
}
