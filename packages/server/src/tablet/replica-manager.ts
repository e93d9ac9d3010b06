// The replicas a tablet server hosts and their lifecycle (Fluss's ReplicaManager, the lifecycle
// part): become leader or follower as the coordinator says (the role changes themselves in
// replica-roles.ts, followers run by replica-fetchers.ts), stop (and delete) replicas, find the
// replica of a request. The data path lives beside it: writes in replica-writes.ts, the fetch
// long-poll engine in delayed-fetch.ts (over log-reader.ts), follower fetches in
// follower-fetches.ts, offsets in offsets.ts, periodic work in tablet-tasks.ts.
// A replica whose storage fails to open (e.g. a corrupt batch below the recovery point, which
// recovery refuses to cut, or a primary-key bucket beyond the open-files budget) goes offline
// alone: every request for its bucket is answered with that typed error (logged once, at error),
// while the other buckets of the server keep serving; torn tails cut at open are logged at warn.
// Fencing (Fluss's rules): a notification whose leader epoch is older than the replica's is refused
// with FENCED_LEADER_EPOCH_EXCEPTION, as is a stop with an older epoch; a notification for a bucket
// this server is not a replica of is refused with UNKNOWN_TABLE_OR_BUCKET_EXCEPTION. Each bucket of
// a request gets its own answer; one failing bucket never fails the others.
// Stopping a replica with deleteData removes its log and KV directories, the emptied
// partition/table directories and its remote KV snapshots.

import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type Clock,
  Errors,
  FlussError,
  isFlussError,
  type Scheduler,
  type TableInfo,
  toFlussError,
} from "@fluss-ts/common";
import {
  type FileCache,
  KvTablet,
  LocalRemoteSnapshotStore,
  type LogConfigInput,
  LogTablet,
  type RemoteSnapshotStore,
  RemoteStorageSnapshotStore,
  resolveKvOptions,
  type SnapshotScope,
} from "@fluss-ts/storage";
import type { ReplicaAssignment, ReplicaRef } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import type { OpenFilesBudget } from "../open-files.ts";
import type { LeaderReplicaOptions } from "../replication/leader-replica.ts";
import { type IdRangeSource, RangeIdAllocator } from "./id-allocator.ts";
import type { RemoteLogManager } from "./remote-log-manager.ts";
import { Replica, type ReplicaId, replicaKey } from "./replica.ts";
import type { ReplicaFetchers } from "./replica-fetchers.ts";
import { bucketDir, removeEmptyDirs, removeReplicaDirs } from "./replica-files.ts";
import { ReplicaRoles } from "./replica-roles.ts";

export interface ReplicaManagerOptions {
  serverId: number;
  dataDir: string;
  logConfig: LogConfigInput;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  /** Where KV snapshots go (a local directory standing in for object storage). */
  remoteDataDir: string;
  kvSnapshotsRetained: number;
  /** Reserves auto-increment id ranges (the coordinator). */
  idRanges: IdRangeSource;
  /** The bounded cache of open files the log tablets share (default: storage's process-wide one). */
  files?: FileCache;
  /** Descriptors for primary-key buckets' stores (no budget: unchecked). */
  openFiles?: OpenFilesBudget;
  /** Remote storage (KV snapshots, tiered log segments) and log tiering; absent: snapshots in remoteDataDir, no tiering. */
  remoteLog?: RemoteLogManager;
  /** Replication: the leader core's options, the follower backoff, the fetchers running followers. */
  replication: {
    leader: LeaderReplicaOptions;
    fetchBackoffMs: number;
    fetchers: ReplicaFetchers;
  };
}

/** One bucket's answer to a NotifyLeaderAndIsr or StopReplica: null when it went through. */
export interface ReplicaResult {
  readonly ref: ReplicaRef;
  readonly error: FlussError | null;
}

/** A replica whose storage could not be opened: every request for its bucket gets `error`. */
interface OfflineReplica {
  readonly table: TableInfo;
  readonly dir: string;
  readonly partitionName: string | null;
  readonly error: FlussError;
}

function refOf(a: ReplicaAssignment): ReplicaRef {
  return { tableId: a.table.tableId, partitionId: a.partitionId, bucket: a.bucket };
}

/** `bucket N of table db.t [partition p]`, for messages about one bucket. */
export function bucketName(table: TableInfo, bucket: number, partitionName: string | null): string {
  const part = partitionName === null ? "" : ` partition ${partitionName}`;
  return `bucket ${bucket} of table ${table.path.database}.${table.path.table}${part}`;
}

export class ReplicaManager {
  readonly opts: ReplicaManagerOptions;
  private readonly replicas = new Map<string, Replica>();
  /** Replicas that failed to open, by replica key: offline until the server restarts. */
  private readonly offline = new Map<string, OfflineReplica>();
  private readonly remote: RemoteSnapshotStore;
  /** Partition name of each partition replica (names KV snapshot scopes), by replica key. */
  private readonly partitionNames = new Map<string, string>();
  /** Replicas whose KV store holds a reservation from `openFiles`, by replica key. */
  private readonly kvReserved = new Set<string>();
  /** Told the key of a replica whose high watermark moved (wakes delayed fetches). */
  private readonly hwWatchers = new Set<(key: string) => void>();
  /** Told the key of a replica whose log grew (wakes delayed follower fetches). */
  private readonly appendWatchers = new Set<(key: string) => void>();
  private readonly roles: ReplicaRoles;

  constructor(opts: ReplicaManagerOptions) {
    this.opts = opts;
    this.remote = opts.remoteLog
      ? new RemoteStorageSnapshotStore(opts.remoteLog.storage)
      : new LocalRemoteSnapshotStore(opts.remoteDataDir);
    this.roles = new ReplicaRoles({
      ...opts.replication,
      logger: opts.logger,
      openKv: (replica) => this.openKvOf(replica),
      closeKv: (replica) => this.closeKvOf(replica),
    });
  }

  get serverId(): number {
    return this.opts.serverId;
  }

  /** Call `fn` with a replica's key whenever its high watermark moves. */
  watchHighWatermarks(fn: (key: string) => void): () => void {
    this.hwWatchers.add(fn);
    return () => this.hwWatchers.delete(fn);
  }

  /** Call `fn` with a replica's key whenever its log grows. */
  watchAppends(fn: (key: string) => void): () => void {
    this.appendWatchers.add(fn);
    return () => this.appendWatchers.delete(fn);
  }

  /** The replicas hosted now (online ones). */
  all(): IterableIterator<Replica> {
    return this.replicas.values();
  }

  /** The online replica of a bucket, if hosted (no error for a missing one). */
  peek(id: ReplicaId): Replica | undefined {
    return this.replicas.get(replicaKey(id));
  }

  /** The partition name of a hosted partition replica (null for a table bucket). */
  partitionNameOf(id: ReplicaId): string | null {
    return id.partitionId === null ? null : (this.partitionNames.get(replicaKey(id)) ?? null);
  }

  /** The replica of a request: its offline error, or UNKNOWN_TABLE_OR_BUCKET when not hosted. */
  replica(id: ReplicaId): Replica {
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

  /** The KV tablet of a bucket this server leads (for lookups and scans). */
  kv(id: ReplicaId): KvTablet {
    return this.replica(id).kvForRead();
  }

  // ---- become leader or follower -------------------------------------------------------------

  /**
   * Create (or update) the replicas the coordinator assigned to this server, each leading or
   * following as `assignments` say; one answer per bucket. `coordinatorEpoch`: the sender's.
   */
  async becomeLeaderOrFollower(
    assignments: readonly ReplicaAssignment[],
    coordinatorEpoch = 0,
  ): Promise<ReplicaResult[]> {
    const out: ReplicaResult[] = [];
    for (const a of assignments) {
      try {
        await this.becomeOne(a, coordinatorEpoch);
        out.push({ ref: refOf(a), error: null });
      } catch (err) {
        out.push({ ref: refOf(a), error: toFlussError(err) });
      }
    }
    return out;
  }

  private async becomeOne(a: ReplicaAssignment, coordinatorEpoch: number): Promise<void> {
    const key = replicaKey(refOf(a));
    const off = this.offline.get(key);
    if (off) throw off.error;
    if (!a.replicas.includes(this.opts.serverId)) {
      throw new FlussError(
        Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION,
        `server ${this.opts.serverId} is not a replica of ${bucketName(a.table, a.bucket, a.partitionName)} (replicas ${a.replicas.join(", ")})`,
      );
    }
    let replica = this.replicas.get(key);
    if (replica && a.leaderEpoch < replica.leaderEpoch) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${a.leaderEpoch} of ${bucketName(a.table, a.bucket, a.partitionName)} is older than the current ${replica.leaderEpoch}`,
      );
    }
    replica ??= await this.openReplica(a, key);
    if (a.leader === this.opts.serverId) await this.roles.becomeLeader(replica, a, coordinatorEpoch);
    else await this.roles.becomeFollower(replica, a);
  }

  private async openReplica(a: ReplicaAssignment, key: string): Promise<Replica> {
    const dir = bucketDir(this.opts.dataDir, a, "log");
    let log: LogTablet;
    try {
      log = await LogTablet.open({
        dir,
        config: this.opts.logConfig,
        clock: this.opts.clock,
        scheduler: this.opts.scheduler,
        ...(this.opts.files ? { files: this.opts.files } : {}),
        remote: this.opts.remoteLog?.tabletRemote(a.table.tableId, a.partitionName, a.bucket),
      });
    } catch (err) {
      throw this.takeOffline(key, a, dir, err);
    }
    this.logTailCuts(a, log);
    // A new replica starts without a role (epoch -1): the notice that opened it sets one.
    const replica = new Replica(refOf(a), a.table, log, dir, -1, this.opts.scheduler);
    replica.onHighWatermark(() => {
      for (const w of this.hwWatchers) w(key);
    });
    log.onAppend(() => {
      for (const w of this.appendWatchers) w(key);
    });
    this.replicas.set(key, replica);
    if (a.partitionName !== null) this.partitionNames.set(key, a.partitionName);
    return replica;
  }

  /**
   * Open the KV tablet of a primary-key leader (its store plus the changelog up to the high
   * watermark; the rest staged); a failure takes the whole replica offline, except a passing one.
   */
  private async openKvOf(replica: Replica): Promise<void> {
    const key = replicaKey(replica.id);
    const a = this.assignmentOf(replica);
    try {
      this.reserveKv(key);
      replica.kv = await this.openKv(a, replica.log);
    } catch (err) {
      this.releaseKv(key);
      this.replicas.delete(key);
      this.partitionNames.delete(key);
      await this.roles.stop(replica);
      await replica.close().catch(() => undefined);
      // A passing condition (the coordinator out of reach for id ranges) fails this attempt only:
      // the next notification opens it again. Anything else keeps the bucket offline.
      if (isFlussError(err) && err.retriable && !err.is(Errors.CORRUPT_RECORD_EXCEPTION)) throw err;
      throw this.takeOffline(key, a, replica.dir, err);
    }
  }

  /** Close the KV tablet of a replica that follows now (followers keep the changelog only). */
  private async closeKvOf(replica: Replica): Promise<void> {
    const kv = replica.kv;
    replica.kv = null;
    try {
      await kv?.close();
    } finally {
      this.releaseKv(replicaKey(replica.id));
    }
  }

  /** What bucketDir and openKv need of a hosted replica. */
  private assignmentOf(replica: Replica): ReplicaAssignment {
    return {
      table: replica.table,
      partitionId: replica.id.partitionId,
      partitionName: this.partitionNameOf(replica.id),
      bucket: replica.id.bucket,
      leader: this.opts.serverId,
      leaderEpoch: replica.leaderEpoch,
      bucketEpoch: 0,
      replicas: [],
      isr: [],
    };
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
      dir: bucketDir(this.opts.dataDir, a, "kv"),
      log,
      schema: t.descriptor.schema,
      schemaId: t.schemaId,
      options,
      clock: this.opts.clock,
      scheduler: this.opts.scheduler,
      idAllocator,
      partitionKeys: t.descriptor.partitionKeys,
      snapshots: {
        remote: this.remote,
        scope: { tableId: t.tableId, partition: a.partitionName, bucket: a.bucket },
        retained: this.opts.kvSnapshotsRetained,
      },
    });
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

  /**
   * Record a replica whose storage failed to open and return the error its requests get. Anything
   * but a FlussError is a bug and rethrown.
   */
  private takeOffline(key: string, a: ReplicaAssignment, dir: string, err: unknown): FlussError {
    if (!isFlussError(err)) throw err;
    const kind = err.is(Errors.KV_STORAGE_EXCEPTION)
      ? Errors.KV_STORAGE_EXCEPTION
      : Errors.LOG_STORAGE_EXCEPTION;
    const name = bucketName(a.table, a.bucket, a.partitionName);
    const error = new FlussError(kind, `${name} is offline: ${err.message}`, { cause: err });
    this.opts.logger.error({ err, dir }, `${name} is offline: its storage could not be opened`);
    this.offline.set(key, { table: a.table, dir, partitionName: a.partitionName, error });
    return error;
  }

  /** Log, at warn, each torn tail recovery cut when the log was opened. */
  private logTailCuts(a: ReplicaAssignment, log: LogTablet): void {
    for (const cut of log.stats().tailCuts) {
      this.opts.logger.warn(
        { file: cut.file, position: cut.position, bytesCut: cut.bytes, reason: cut.reason },
        `recovery of ${bucketName(a.table, a.bucket, a.partitionName)} cut ${cut.bytes} bytes at byte ${cut.position} of ${cut.file}`,
      );
    }
  }

  // ---- stop --------------------------------------------------------------------------------

  /**
   * Stop replicas (and delete their data with `deleteData`); one answer per bucket. `leaderEpoch`
   * per bucket fences a stop older than the replica's epoch (undefined: no check).
   */
  async stopReplicas(
    refs: ReadonlyArray<ReplicaRef & { leaderEpoch?: number }>,
    deleteData: boolean,
  ): Promise<ReplicaResult[]> {
    const out: ReplicaResult[] = [];
    for (const ref of refs) {
      const plain = { tableId: ref.tableId, partitionId: ref.partitionId, bucket: ref.bucket };
      try {
        await this.stopOne(plain, ref.leaderEpoch, deleteData);
        out.push({ ref: plain, error: null });
      } catch (err) {
        out.push({ ref: plain, error: toFlussError(err) });
      }
    }
    return out;
  }

  private async stopOne(
    ref: ReplicaRef,
    leaderEpoch: number | undefined,
    deleteData: boolean,
  ): Promise<void> {
    const key = replicaKey(ref);
    const off = this.offline.get(key);
    if (off) {
      this.offline.delete(key);
      if (deleteData) await this.deleteReplicaData(ref, off.dir, off.table, off.partitionName);
      return;
    }
    const replica = this.replicas.get(key);
    if (!replica) return;
    if (leaderEpoch !== undefined && leaderEpoch < replica.leaderEpoch) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `stop of ${bucketName(replica.table, ref.bucket, this.partitionNameOf(ref))} at leader epoch ${leaderEpoch} is older than the current ${replica.leaderEpoch}`,
      );
    }
    this.replicas.delete(key);
    const partitionName = this.partitionNames.get(key) ?? null;
    this.partitionNames.delete(key);
    await this.roles.stop(replica);
    try {
      await replica.close();
    } finally {
      this.releaseKv(key);
    }
    if (deleteData) await this.deleteReplicaData(ref, replica.dir, replica.table, partitionName);
  }

  /** Remove a stopped replica's log and KV directories, emptied parents and remote KV snapshots. */
  private async deleteReplicaData(
    ref: ReplicaRef,
    dir: string,
    table: TableInfo,
    partitionName: string | null,
  ): Promise<void> {
    await removeReplicaDirs(this.opts.dataDir, dir, table);
    await this.opts.remoteLog?.deleteBucket(ref.tableId, partitionName, ref.bucket);
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
    if (this.remote instanceof RemoteStorageSnapshotStore) return this.remote.deleteAll(scope);
    for (const m of await this.remote.list(scope)) await this.remote.delete(scope, m.snapshotId);
    if (this.remote instanceof LocalRemoteSnapshotStore) {
      const dir = this.remote.bucketDir(scope);
      await rm(dir, { recursive: true, force: true });
      await removeEmptyDirs(dirname(dir), this.remote.root);
    }
  }

  /** Start the periodic remote log tiering rounds over the replicas this server leads. */
  startRemoteLogTiering(): void {
    this.opts.remoteLog?.start(() => this.replicas.values());
  }

  /** The remote log manager (tests run its rounds directly); undefined without one. */
  get remoteLog(): RemoteLogManager | undefined {
    return this.opts.remoteLog;
  }

  /** Close every replica (server shutdown); their files are flushed, nothing is deleted. */
  async close(): Promise<void> {
    await this.opts.remoteLog?.stop(); // no tiering round starts or runs past this point
    await this.opts.replication.fetchers.close(); // no follower append starts past this point
    const all = [...this.replicas.values()];
    this.replicas.clear();
    try {
      for (const r of all) await this.roles.stop(r);
      await Promise.all(all.map((r) => r.close()));
    } finally {
      for (const key of [...this.kvReserved]) this.releaseKv(key);
      await this.opts.remoteLog?.storage.close();
    }
  }
}
