// The tablet server's replicas and the data-path operations on them: produce (append as leader),
// fetch (read committed data, long-polling until min bytes or max wait), list offsets, retention.
// A replica whose storage fails to open (e.g. a corrupt batch below the recovery point, which
// recovery refuses to cut) goes offline alone: every request for its bucket is answered with that
// typed error (logged once, at error), while the other buckets of the server keep serving. A
// corrupt batch met by a fetch is answered as CORRUPT_RECORD_EXCEPTION naming table, bucket and
// the batch's file, byte and offset (logged at error); torn tails cut at open are logged at warn.
// Handlers above translate protobuf to these calls; storage below knows nothing of RPC. Replicas of
// a partition live under `<table>-<id>/<partition name>-p<partition id>/`; stopping a replica with
// deleteData removes its log and KV directories, the emptied partition/table directories and its
// remote KV snapshots.
// Open files: log tablets reach their files through the server's file cache (`files`); each
// primary-key bucket's store holds descriptors while hosted, reserved from the process's budget
// (`openFiles`, open-files.ts) before it opens — beyond the budget the bucket goes offline with the
// reason instead of the process running out of descriptors.

import { rm, rmdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import {
  type Clock,
  createProjectionPlan,
  Errors,
  FlussError,
  isFlussError,
  logOptionsOf,
  type PbPredicateShape,
  type Predicate,
  type ProjectionPlan,
  predicateFromPb,
  projectBatchFrom,
  projectLogBatches,
  splitBatches,
  type TableInfo,
  toFlussError,
} from "@fluss-ts/common";
import {
  type BatchVisitor,
  type FileCache,
  KvTablet,
  LocalRemoteSnapshotStore,
  type LogConfigInput,
  LogTablet,
  type ReadAllocator,
  type RemoteSnapshotStore,
  resolveKvOptions,
  type SnapshotScope,
} from "@fluss-ts/storage";
import type { ReplicaAssignment, ReplicaRef } from "../coordinator/coordinator.ts";
import type { Logger } from "../logging.ts";
import type { BucketOffsets } from "../metrics/server-metrics.ts";
import type { OpenFilesBudget } from "../open-files.ts";
import { backgroundFailure } from "../util/background.ts";
import { batchSelector } from "./batch-filter.ts";
import { type IdRangeSource, RangeIdAllocator } from "./id-allocator.ts";
import { KvScanners } from "./kv-scanners.ts";
import { ReadBufferPool } from "./read-buffers.ts";
import { Replica, type ReplicaId, type RequiredAcks, replicaKey } from "./replica.ts";

export interface ReplicaManagerOptions {
  serverId: number;
  dataDir: string;
  logConfig: LogConfigInput;
  clock: Clock;
  logger: Logger;
  fetchWaitMsMax: number;
  fetchBytesMax: number;
  /** Where KV snapshots go (a local directory standing in for object storage). */
  remoteDataDir: string;
  kvSnapshotsRetained: number;
  /** Reserves auto-increment id ranges (the coordinator). */
  idRanges: IdRangeSource;
  /** The bounded cache of open files the log tablets share (default: storage's process-wide one). */
  files?: FileCache;
  /** Descriptors for primary-key buckets' stores (no budget: unchecked). */
  openFiles?: OpenFilesBudget;
}

export interface ProduceBucket {
  partitionId: bigint | null;
  bucket: number;
  records: Uint8Array;
}

export interface ProduceBucketResult {
  partitionId: bigint | null;
  bucket: number;
  error: FlussError | null;
  baseOffset: bigint;
}

export interface FetchBucket {
  partitionId: bigint | null;
  bucket: number;
  fetchOffset: bigint;
  maxBytes: number;
}

export interface FetchTable {
  tableId: bigint;
  /** Column indexes to send, or null for all columns. */
  projection: readonly number[] | null;
  /** Batches whose statistics rule this out are not sent (wire form, with the schema it names). */
  filter: { predicate: PbPredicateShape; schemaId: number } | null;
  buckets: readonly FetchBucket[];
}

export interface FetchBucketResult {
  partitionId: bigint | null;
  bucket: number;
  error: FlussError | null;
  highWatermark: bigint;
  logStartOffset: bigint;
  records: Uint8Array;
  /** With a filter: the offset after the last batch examined, when past the records sent. */
  filteredEndOffset: bigint | null;
}

/** A replica whose storage could not be opened: every request for its bucket gets `error`. */
interface OfflineReplica {
  readonly table: TableInfo;
  readonly dir: string;
  readonly partitionName: string | null;
  readonly error: FlussError;
}

export interface FetchTableResult {
  tableId: bigint;
  buckets: FetchBucketResult[];
}

export interface FetchParams {
  tables: readonly FetchTable[];
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
  /** Where log reads put their bytes (a request's arena of pooled buffers); fresh buffers if absent. */
  allocate?: ReadAllocator;
}

const EMPTY = new Uint8Array(0);
/** Fluss's fetch offset sentinel (FetchParams.FETCH_FROM_EARLIEST_OFFSET): "from the log start". */
export const FETCH_FROM_EARLIEST_OFFSET = -2n;
const PROJECTION_PLANS_MAX = 1024;
/** A filtered fetch examines at most this many bytes of skipped batches per bucket. */
const FILTER_SCAN_BYTES_MAX = 256 * 1024 * 1024;
/** A visited read examines at most this many times fetchBytesMax of log (projections). */
const VISIT_EXAMINE_FACTOR = 4;
/** First bytes of a batch a projection looks at: header, statistics, change types, Arrow metadata. */
const PROJECTION_PREFIX_BYTES = 16 * 1024;

/** Remove `dir` and its parents while they are empty, stopping before `stopAt` (never removed). */
async function removeEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let d = dir;
  while (d !== stopAt && !relative(stopAt, d).startsWith("..") && relative(stopAt, d) !== "") {
    try {
      await rmdir(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        d = dirname(d);
        continue;
      }
      return; // not empty (or not ours to remove): stop
    }
    d = dirname(d);
  }
}

export class ReplicaManager {
  private readonly opts: ReplicaManagerOptions;
  private readonly replicas = new Map<string, Replica>();
  /** Replicas that failed to open, by replica key: offline until the server restarts. */
  private readonly offline = new Map<string, OfflineReplica>();
  private readonly plans = new Map<string, ProjectionPlan>();
  private readonly filters = new WeakMap<FetchTable, Predicate>();
  private readonly remote: RemoteSnapshotStore;
  /** Partition name of each partition replica (names KV snapshot scopes), by replica key. */
  private readonly partitionNames = new Map<string, string>();
  /** Replicas whose KV store holds a reservation from `openFiles`, by replica key. */
  private readonly kvReserved = new Set<string>();
  /** Open ScanKv sessions. */
  readonly scanners: KvScanners;
  /** Reused buffers for log reads (see read-buffers.ts). */
  readonly readBuffers = new ReadBufferPool();
  private retentionTimer: NodeJS.Timeout | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;

  constructor(opts: ReplicaManagerOptions) {
    this.opts = opts;
    this.remote = new LocalRemoteSnapshotStore(opts.remoteDataDir);
    this.scanners = new KvScanners(opts.clock);
    this.scanners.startExpiry();
  }

  private bucketDir(a: ReplicaAssignment, kind: "log" | "kv"): string {
    const t = a.table;
    const tableDir = join(this.opts.dataDir, t.path.database, `${t.path.table}-${t.tableId}`);
    const partDir =
      a.partitionId === null ? tableDir : join(tableDir, `${a.partitionName}-p${a.partitionId}`);
    return join(partDir, `${kind}-${a.bucket}`);
  }

  /** Open the KV tablet of a primary-key replica over its log (recovering from snapshot + log). */
  private async openKv(a: ReplicaAssignment, log: LogTablet): Promise<KvTablet> {
    const t = a.table;
    const options = resolveKvOptions(t.descriptor.properties);
    let idAllocator: RangeIdAllocator | null = null;
    if (options.autoIncrementColumns.length > 0) {
      idAllocator = new RangeIdAllocator(this.opts.idRanges, t.tableId);
      await idAllocator.prepare(options.autoIncrementColumns);
    }
    return KvTablet.open({
      dir: this.bucketDir(a, "kv"),
      log,
      schema: t.descriptor.schema,
      schemaId: t.schemaId,
      options,
      clock: this.opts.clock,
      idAllocator,
      partitionKeys: t.descriptor.partitionKeys,
      snapshots: {
        remote: this.remote,
        scope: { tableId: t.tableId, partition: a.partitionName, bucket: a.bucket },
        retained: this.opts.kvSnapshotsRetained,
      },
    });
  }

  /** Create (or update) the replicas the coordinator assigned to this server. */
  async becomeLeaderOrFollower(assignments: readonly ReplicaAssignment[]): Promise<void> {
    for (const a of assignments) {
      const id: ReplicaId = { tableId: a.table.tableId, partitionId: a.partitionId, bucket: a.bucket };
      const key = replicaKey(id);
      if (this.offline.has(key)) continue;
      let replica = this.replicas.get(key);
      if (!replica) {
        const dir = this.bucketDir(a, "log");
        let log: LogTablet;
        try {
          log = await LogTablet.open({
            dir,
            config: this.opts.logConfig,
            clock: this.opts.clock,
            ...(this.opts.files ? { files: this.opts.files } : {}),
          });
        } catch (err) {
          this.takeOffline(key, a, dir, err);
          continue;
        }
        this.logTailCuts(a, log);
        replica = new Replica(id, a.table, log, dir, a.leaderEpoch, false);
        this.replicas.set(key, replica);
        if (a.partitionName !== null) this.partitionNames.set(key, a.partitionName);
      }
      if (a.leader === this.opts.serverId) {
        replica.becomeLeader(a.leaderEpoch, a.table);
        if (a.table.descriptor.schema.primaryKey.length > 0 && !replica.kv) {
          try {
            this.reserveKv(key);
            replica.kv = await this.openKv(a, replica.log);
          } catch (err) {
            this.releaseKv(key);
            this.replicas.delete(key);
            this.partitionNames.delete(key);
            await replica.close().catch(() => undefined);
            this.takeOffline(key, a, replica.dir, err);
          }
        }
      }
    }
  }

  /** Reserve the descriptors of a primary-key bucket's store; KV_STORAGE_EXCEPTION beyond the budget. */
  private reserveKv(key: string): void {
    if (!this.opts.openFiles) return;
    this.opts.openFiles.reserveKvBucket();
    this.kvReserved.add(key);
  }

  private releaseKv(key: string): void {
    if (this.kvReserved.delete(key)) this.opts.openFiles?.releaseKvBucket();
  }

  /** `table bucket N [partition p]`, for messages about one bucket. */
  private bucketName(table: TableInfo, bucket: number, partitionName: string | null): string {
    const part = partitionName === null ? "" : ` partition ${partitionName}`;
    return `bucket ${bucket} of table ${table.path.database}.${table.path.table}${part}`;
  }

  /** Record a replica whose storage failed to open; anything but a FlussError is a bug and rethrown. */
  private takeOffline(key: string, a: ReplicaAssignment, dir: string, err: unknown): void {
    if (!isFlussError(err)) throw err;
    const kind = err.is(Errors.KV_STORAGE_EXCEPTION)
      ? Errors.KV_STORAGE_EXCEPTION
      : Errors.LOG_STORAGE_EXCEPTION;
    const name = this.bucketName(a.table, a.bucket, a.partitionName);
    const error = new FlussError(kind, `${name} is offline: ${err.message}`, { cause: err });
    this.opts.logger.error({ err, dir }, `${name} is offline: its storage could not be opened`);
    this.offline.set(key, { table: a.table, dir, partitionName: a.partitionName, error });
  }

  /** Log, at warn, each torn tail recovery cut when the log was opened. */
  private logTailCuts(a: ReplicaAssignment, log: LogTablet): void {
    for (const cut of log.stats().tailCuts) {
      this.opts.logger.warn(
        { file: cut.file, position: cut.position, bytesCut: cut.bytes, reason: cut.reason },
        `recovery of ${this.bucketName(a.table, a.bucket, a.partitionName)} cut ${cut.bytes} bytes at byte ${cut.position} of ${cut.file}`,
      );
    }
  }

  async stopReplicas(refs: readonly ReplicaRef[], deleteData: boolean): Promise<void> {
    for (const ref of refs) {
      const key = replicaKey(ref);
      const off = this.offline.get(key);
      if (off) {
        this.offline.delete(key);
        if (deleteData) await this.deleteReplicaData(ref, off.dir, off.table, off.partitionName);
        continue;
      }
      const replica = this.replicas.get(key);
      if (!replica) continue;
      this.replicas.delete(key);
      const partitionName = this.partitionNames.get(key) ?? null;
      this.partitionNames.delete(key);
      try {
        await replica.close();
      } finally {
        this.releaseKv(key);
      }
      if (deleteData) await this.deleteReplicaData(ref, replica.dir, replica.table, partitionName);
    }
  }

  /** Remove a stopped replica's log and KV directories, emptied parents and remote KV snapshots. */
  private async deleteReplicaData(
    ref: ReplicaRef,
    dir: string,
    table: TableInfo,
    partitionName: string | null,
  ): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await rm(dir.replace(/log-(\d+)$/, "kv-$1"), { recursive: true, force: true });
    // The partition directory, then the table directory, once nothing else is in them.
    const dbDir = join(this.opts.dataDir, table.path.database);
    await removeEmptyDirs(dirname(dir), dbDir);
    if (table.descriptor.schema.primaryKey.length > 0) {
      await this.deleteRemoteSnapshots({
        tableId: ref.tableId,
        partition: partitionName,
        bucket: ref.bucket,
      });
    }
  }

  /** Delete every remote KV snapshot of a bucket (its table or partition is being dropped). */
  private async deleteRemoteSnapshots(scope: SnapshotScope): Promise<void> {
    for (const m of await this.remote.list(scope)) await this.remote.delete(scope, m.snapshotId);
    if (this.remote instanceof LocalRemoteSnapshotStore) {
      const dir = this.remote.bucketDir(scope);
      await rm(dir, { recursive: true, force: true });
      await removeEmptyDirs(dirname(dir), this.remote.root);
    }
  }

  private replica(id: ReplicaId): Replica {
    const key = replicaKey(id);
    const off = this.offline.get(key);
    if (off) throw off.error;
    const r = this.replicas.get(key);
    if (!r) {
      throw new FlussError(
        Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION,
        id.partitionId === null
          ? `this server hosts no bucket ${id.bucket} of table ${id.tableId}`
          : `this server hosts no bucket ${id.bucket} of partition ${id.partitionId} of table ${id.tableId}`,
      );
    }
    return r;
  }

  // ---- produce -----------------------------------------------------------------------------

  /** Append to each bucket as leader, answering per `acks` (Fluss's required acks; see replica.ts). */
  async produce(
    tableId: bigint,
    buckets: readonly ProduceBucket[],
    acks: RequiredAcks = -1,
  ): Promise<ProduceBucketResult[]> {
    return Promise.all(
      buckets.map(async (b): Promise<ProduceBucketResult> => {
        try {
          const replica = this.replica({ tableId, partitionId: b.partitionId, bucket: b.bucket });
          this.checkSchemas(replica, b.records);
          const r = await replica.appendAsLeader(b.records, acks);
          return { partitionId: b.partitionId, bucket: b.bucket, error: null, baseOffset: r.baseOffset };
        } catch (err) {
          const e = toFlussError(err);
          if (e.is(Errors.UNKNOWN_SERVER_ERROR)) this.opts.logger.error({ err }, "produce failed");
          return { partitionId: b.partitionId, bucket: b.bucket, error: e, baseOffset: -1n };
        }
      }),
    );
  }

  /** Every batch must name a schema the table has (today: its one schema). */
  private checkSchemas(replica: Replica, records: Uint8Array): void {
    for (const { header } of splitBatches(records, { verifyCrc: false, allowPartialTail: false })) {
      if (header.schemaId !== replica.table.schemaId) {
        throw new FlussError(
          Errors.SCHEMA_NOT_EXIST,
          `batch names schema ${header.schemaId}; table ${replica.table.tableId} has schema ${replica.table.schemaId}`,
        );
      }
    }
  }

  // ---- kv ----------------------------------------------------------------------------------

  async putKv(
    tableId: bigint,
    buckets: readonly ProduceBucket[],
    targetColumns: readonly number[] | null,
    acks: RequiredAcks = -1,
  ): Promise<ProduceBucketResult[]> {
    return Promise.all(
      buckets.map(async (b): Promise<ProduceBucketResult> => {
        try {
          const replica = this.replica({ tableId, partitionId: b.partitionId, bucket: b.bucket });
          const r = await replica.putKvAsLeader(b.records, targetColumns, acks);
          return { partitionId: b.partitionId, bucket: b.bucket, error: null, baseOffset: r.lastOffset + 1n };
        } catch (err) {
          const e = toFlussError(err);
          if (e.is(Errors.UNKNOWN_SERVER_ERROR)) this.opts.logger.error({ err }, "put kv failed");
          return { partitionId: b.partitionId, bucket: b.bucket, error: e, baseOffset: -1n };
        }
      }),
    );
  }

  /** The KV tablet of a bucket this server leads (for lookups and scans). */
  kv(id: ReplicaId): KvTablet {
    return this.replica(id).kvForRead();
  }

  /** Snapshot every KV tablet this server leads (the periodic task, and on demand in tests). */
  async snapshotKvTablets(): Promise<number> {
    let n = 0;
    for (const r of this.replicas.values()) {
      if (!r.kv || !r.isLeader) continue;
      await r.kv.snapshot();
      n++;
    }
    return n;
  }

  startKvSnapshots(intervalMs: number): void {
    this.snapshotTimer = setInterval(() => {
      this.snapshotKvTablets().catch(backgroundFailure(this.opts.logger, "kv snapshot"));
    }, intervalMs);
    this.snapshotTimer.unref();
  }

  // ---- fetch -------------------------------------------------------------------------------

  /** Long-poll fetch: returns once minBytes are available, maxWaitMs passed, or an error occurred. */
  async fetch(params: FetchParams, signal?: AbortSignal): Promise<FetchTableResult[]> {
    const waitMs = Math.max(0, Math.min(params.maxWaitMs, this.opts.fetchWaitMsMax));
    const deadline = this.opts.clock.nowMs() + waitMs;
    for (;;) {
      const { results, bytes, answerNow } = await this.readOnce(params);
      const remaining = deadline - this.opts.clock.nowMs();
      if (bytes >= Math.max(1, params.minBytes) || answerNow || remaining <= 0 || signal?.aborted)
        return results;
      await this.waitForData(params, remaining, signal);
    }
  }

  private async readOnce(
    params: FetchParams,
  ): Promise<{ results: FetchTableResult[]; bytes: number; answerNow: boolean }> {
    let budget = Math.min(params.maxBytes, this.opts.fetchBytesMax);
    let bytes = 0;
    let errors = 0;
    let progressed = 0;
    const results: FetchTableResult[] = [];
    for (const t of params.tables) {
      const out: FetchBucketResult[] = [];
      for (const b of t.buckets) {
        const r = await this.readBucket(t, b, budget, params.allocate);
        if (r.error) errors++;
        // Skipping filtered batches is progress too: answer now instead of long-polling.
        if (r.filteredEndOffset !== null) progressed++;
        bytes += r.records.byteLength;
        budget = Math.max(0, budget - r.records.byteLength);
        out.push(r);
      }
      results.push({ tableId: t.tableId, buckets: out });
    }
    // An error, or progress past filtered batches, is worth answering without waiting.
    return { results, bytes, answerNow: errors > 0 || progressed > 0 };
  }

  private async readBucket(
    t: FetchTable,
    b: FetchBucket,
    budget: number,
    allocate: ReadAllocator | undefined,
  ): Promise<FetchBucketResult> {
    const base = { partitionId: b.partitionId, bucket: b.bucket };
    let replica: Replica | null = null;
    try {
      replica = this.replica({ tableId: t.tableId, partitionId: b.partitionId, bucket: b.bucket });
      const wanted = Math.max(1, Math.min(b.maxBytes, budget));
      // An exhausted budget still reads (at least one batch) only when nothing was read yet.
      if (budget <= 0) {
        return { ...base, ...this.emptyRead(replica), filteredEndOffset: null };
      }
      const plan = t.projection ? this.plan(replica, t.projection) : null;
      const filter = this.filterOf(t, replica);
      // Fluss's FETCH_FROM_EARLIEST_OFFSET (-2): read from the log start, whatever it is now.
      const offset =
        b.fetchOffset === FETCH_FROM_EARLIEST_OFFSET ? replica.log.logStartOffset : b.fetchOffset;
      const read =
        plan || filter
          ? this.readVisited(replica, offset, wanted, plan, filter, allocate)
          : { ...(await replica.readCommitted(offset, wanted, allocate)), filteredEndOffset: null };
      return {
        ...base,
        error: null,
        highWatermark: read.highWatermark,
        logStartOffset: replica.log.logStartOffset,
        records: read.records,
        filteredEndOffset: read.filteredEndOffset,
      };
    } catch (err) {
      return {
        ...base,
        error: replica === null ? toFlussError(err) : this.readFailure(replica, b, err),
        highWatermark: -1n,
        logStartOffset: -1n,
        records: EMPTY,
        filteredEndOffset: null,
      };
    }
  }

  /**
   * A failed read of `replica`. A corrupt stored batch is final for the reader (not retriable: the
   * same bytes come back every time): logged at error and answered with table and bucket named.
   */
  private readFailure(replica: Replica, b: FetchBucket, err: unknown): FlussError {
    const e = toFlussError(err);
    if (!e.is(Errors.CORRUPT_RECORD_EXCEPTION)) return e;
    const partition =
      replica.id.partitionId === null ? null : (this.partitionNames.get(replicaKey(replica.id)) ?? null);
    const name = this.bucketName(replica.table, b.bucket, partition);
    this.opts.logger.error({ err: e, fetchOffset: b.fetchOffset }, `corrupt record batch in ${name}`);
    return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `${name}: ${e.message}`, {
      cause: e,
      retriable: false,
    });
  }

  /** The request's filter against the table's schema; none when it cannot be used (kept batches only). */
  private filterOf(t: FetchTable, replica: Replica): Predicate | null {
    if (!t.filter || t.filter.schemaId !== replica.table.schemaId) return null;
    let p = this.filters.get(t);
    if (p === undefined) {
      try {
        p = predicateFromPb(t.filter.predicate, replica.table.descriptor.schema);
      } catch (err) {
        throw new FlussError(Errors.INVALID_ARGUMENT, `invalid filter: ${(err as Error).message}`);
      }
      this.filters.set(t, p);
    }
    return p;
  }

  private emptyRead(replica: Replica): {
    error: null;
    highWatermark: bigint;
    logStartOffset: bigint;
    records: Uint8Array;
  } {
    return {
      error: null,
      highWatermark: replica.highWatermark,
      logStartOffset: replica.log.logStartOffset,
      records: EMPTY,
    };
  }

  /**
   * Read committed batches through a visitor: batches the filter's statistics rule out are
   * skipped unread, and a projection reads only its columns' buffers (plus each batch's header
   * and Arrow metadata). `wanted` counts bytes sent.
   */
  private readVisited(
    replica: Replica,
    fetchOffset: bigint,
    wanted: number,
    plan: ProjectionPlan | null,
    filter: Predicate | null,
    allocate: ReadAllocator | undefined,
  ): { records: Uint8Array; highWatermark: bigint; filteredEndOffset: bigint | null } {
    const select = filter ? batchSelector(replica.table.descriptor.schema, filter) : null;
    const visit: BatchVisitor = (b) => {
      if (select && !select(b.prefix, b.header)) return "skip";
      if (!plan) return "whole";
      return (
        projectBatchFrom(b.header, b.prefix, b.read, plan) ?? [
          projectLogBatches(b.read(0, b.header.sizeBytes), plan),
        ]
      );
    };
    const r = replica.readCommittedVisited(
      fetchOffset,
      wanted,
      visit,
      {
        examineBytesMax: filter ? FILTER_SCAN_BYTES_MAX : this.opts.fetchBytesMax * VISIT_EXAMINE_FACTOR,
        prefixBytes: plan ? PROJECTION_PREFIX_BYTES : 0,
      },
      allocate,
    );
    const records = joinParts(r.parts, r.bytes, allocate);
    const filteredEndOffset = filter && r.examinedEnd > fetchOffset ? r.examinedEnd : null;
    return { records, highWatermark: r.highWatermark, filteredEndOffset };
  }

  private plan(replica: Replica, projection: readonly number[]): ProjectionPlan {
    const key = `${replica.table.tableId}/${replica.table.schemaId}/${projection.join(",")}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const columns = replica.table.descriptor.schema.columns.length;
      for (const i of projection) {
        if (!Number.isInteger(i) || i < 0 || i >= columns) {
          throw new FlussError(
            Errors.INVALID_COLUMN_PROJECTION,
            `projected field ${i} is not in [0, ${columns})`,
          );
        }
      }
      if (this.plans.size >= PROJECTION_PLANS_MAX) this.plans.clear();
      plan = createProjectionPlan(replica.table.descriptor.schema, [...projection]);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Resolve when any fetched bucket's high watermark moves, the time is up, or the signal fires. */
  private waitForData(params: FetchParams, waitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const unsubscribe: Array<() => void> = [];
      const done = (): void => {
        clearTimeout(timer);
        for (const u of unsubscribe) u();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener("abort", done, { once: true });
      for (const t of params.tables) {
        for (const b of t.buckets) {
          const r = this.replicas.get(
            replicaKey({ tableId: t.tableId, partitionId: b.partitionId, bucket: b.bucket }),
          );
          if (r) unsubscribe.push(r.onHighWatermark(done));
        }
      }
    });
  }

  // ---- offsets -----------------------------------------------------------------------------

  /** Offsets of every hosted replica, read now (metrics). */
  *bucketOffsets(): Iterable<BucketOffsets> {
    for (const r of this.replicas.values()) {
      yield {
        tableId: r.id.tableId,
        partitionId: r.id.partitionId,
        bucket: r.id.bucket,
        leader: r.isLeader,
        logStartOffset: r.log.logStartOffset,
        logEndOffset: r.log.logEndOffset,
        highWatermark: r.highWatermark,
      };
    }
  }

  async listOffset(id: ReplicaId, type: number, timestampMs: number | null): Promise<bigint> {
    const r = this.replica(id);
    if (!r.isLeader) throw new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "not the leader");
    switch (type) {
      case 0:
        return r.log.logStartOffset;
      case 1:
        return r.highWatermark;
      case 2: {
        if (timestampMs === null)
          throw new FlussError(Errors.INVALID_TIMESTAMP_EXCEPTION, "timestamp missing");
        const offset = await r.log.offsetForTimestamp(timestampMs);
        return offset > r.highWatermark ? r.highWatermark : offset;
      }
      default:
        throw new FlussError(Errors.INVALID_ARGUMENT, `unknown offset type ${type}`);
    }
  }

  // ---- retention ---------------------------------------------------------------------------

  startRetention(intervalMs: number): void {
    this.retentionTimer = setInterval(() => {
      this.enforceRetention().catch(backgroundFailure(this.opts.logger, "log retention"));
    }, intervalMs);
    this.retentionTimer.unref();
  }

  /** Delete closed segments older than each table's `table.log.ttl`. */
  async enforceRetention(): Promise<number> {
    let deleted = 0;
    for (const r of this.replicas.values()) {
      const { ttlMs } = logOptionsOf(r.table.descriptor);
      deleted += await r.log.deleteExpiredSegments(ttlMs);
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.scanners.closeAll();
    const all = [...this.replicas.values()];
    this.replicas.clear();
    try {
      await Promise.all(all.map((r) => r.close()));
    } finally {
      for (const key of [...this.kvReserved]) this.releaseKv(key);
    }
  }
}

/** One buffer holding a visited read's parts (from the request's allocator when given). */
function joinParts(
  parts: readonly Uint8Array[],
  bytes: number,
  allocate: ReadAllocator | undefined,
): Uint8Array {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0]!;
  const out = allocate ? allocate(bytes) : new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
