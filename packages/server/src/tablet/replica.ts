// One bucket replica on a tablet server: the bucket's log tablet (for a primary-key table also, while
// it leads, its KV tablet, whose changelog is that log) plus its role: leader (a LeaderReplica of
// the replication core: follower progress, high watermark, ISR) or follower (a FollowerReplica the
// fetchers drive: replica-fetchers.ts), switched by replica-roles.ts. A record becomes visible to
// readers (and counted as committed) only once the high watermark passes it: durable under the
// flush policy on every in-sync replica (with one replica, once the leader's append is durable).
// Writes answer per Fluss's acks: -1 (all) once committed (the high watermark past the write); 0
// and 1 once the write is in the leader's log, before it is durable or visible (if the flush then
// fails, the log refuses all later work, so the failure is reported to the next request).
// A primary-key replica that leads but whose KV tablet is still opening (a new leader rebuilding
// its state) answers writes and reads with LEADER_NOT_AVAILABLE (retriable), as does a new leader
// whose high watermark has not reached the start of its epoch yet for lookups and offsets: until
// then it may not know every write the previous leader acknowledged.
// Invariant: highWatermark <= logEndOffset, and it never moves backwards while leading.

import { Errors, FlussError, logOptionsOf, type Scheduler, type TableInfo } from "@fluss-ts/common";
import type { BatchVisitor, KvTablet, LogTablet, ReadAllocator } from "@fluss-ts/storage";
import type { FollowerReplica } from "../replication/follower-replica.ts";
import type { LeaderReplica } from "../replication/leader-replica.ts";
import { AckWaiters } from "./ack-waiters.ts";

export interface ReplicaId {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

export function replicaKey(id: ReplicaId): string {
  return `${id.tableId}/${id.partitionId ?? "-"}/${id.bucket}`;
}

export type HighWatermarkListener = (highWatermark: bigint) => void;

export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  duplicate: boolean;
}

/** Time an acks=all write waits for its ISR when the request names no timeout. */
export const WRITE_TIMEOUT_MS_DEFAULT = 30_000;

/** Fluss's required acks of a write: -1 (all in-sync replicas), 1 (the leader), 0 (none). */
export type RequiredAcks = -1 | 0 | 1;

/** A request's acks field, or INVALID_REQUIRED_ACKS (Fluss refuses anything but 0, 1, -1). */
export function requiredAcks(acks: number): RequiredAcks {
  if (acks !== 0 && acks !== 1 && acks !== -1) {
    throw new FlussError(Errors.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1 (all), got ${acks}`);
  }
  return acks;
}

export class Replica {
  readonly id: ReplicaId;
  readonly log: LogTablet;
  /** The KV tablet of a primary-key table while this replica leads; null otherwise. */
  kv: KvTablet | null = null;
  readonly dir: string;
  table: TableInfo;
  /** The newest leader epoch this replica was told of (as leader or follower). */
  leaderEpoch: number;
  /** The leader side of replication while this replica leads. */
  leader: LeaderReplica | null = null;
  /** The follower side while it follows another server. */
  follower: FollowerReplica<Uint8Array> | null = null;
  private readonly listeners = new Set<HighWatermarkListener>();
  private readonly acks: AckWaiters;
  private readonly unsubscribe: () => void;

  constructor(
    id: ReplicaId,
    table: TableInfo,
    log: LogTablet,
    dir: string,
    leaderEpoch: number,
    scheduler: Scheduler,
  ) {
    this.id = id;
    this.table = table;
    this.log = log;
    this.dir = dir;
    this.leaderEpoch = leaderEpoch;
    this.acks = new AckWaiters(scheduler);
    this.unsubscribe = log.onHighWatermark((e) => {
      this.checkAcks();
      for (const l of this.listeners) l(e.highWatermark);
    });
  }

  get isLeader(): boolean {
    return this.leader !== null;
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  get isPrimaryKeyTable(): boolean {
    return this.table.descriptor.schema.primaryKey.length > 0;
  }

  /** Lead with `leader` (replica-roles.ts built it after claiming its epoch). */
  becomeLeader(leader: LeaderReplica, table: TableInfo): void {
    this.leader = leader;
    this.follower = null;
    this.leaderEpoch = leader.leaderEpoch;
    this.table = table;
  }

  /** Stop leading: waiting acks=all writes fail (retriable), reads and writes are refused. */
  loseLeadership(why: string): void {
    if (this.leader === null) return;
    this.leader = null;
    this.acks.failAll(this.notLeader(why));
  }

  private notLeader(why = "this server is not the leader"): FlussError {
    return new FlussError(
      Errors.NOT_LEADER_OR_FOLLOWER,
      `${why} of bucket ${this.id.bucket} of table ${this.id.tableId} (leader epoch ${this.leaderEpoch})`,
    );
  }

  private checkLeader(): LeaderReplica {
    if (this.leader === null) throw this.notLeader();
    return this.leader;
  }

  /** A primary-key leader whose KV tablet is not open yet (opening, or about to). */
  private kvNotReady(): FlussError {
    return new FlussError(
      Errors.LEADER_NOT_AVAILABLE_EXCEPTION,
      `the new leader of bucket ${this.id.bucket} of table ${this.id.tableId} is still opening its state`,
    );
  }

  /**
   * A new leader may serve state reads (lookups, latest offsets) only once its high watermark
   * reached the start of its epoch: below that, writes the previous leader acknowledged may not be
   * visible here yet. LEADER_NOT_AVAILABLE (retriable) until then.
   */
  checkCaughtUp(): void {
    const leader = this.checkLeader();
    if (this.log.highWatermark < leader.epochStartOffset) {
      throw new FlussError(
        Errors.LEADER_NOT_AVAILABLE_EXCEPTION,
        `the new leader of bucket ${this.id.bucket} of table ${this.id.tableId} has not caught up yet (high watermark ${this.log.highWatermark} < ${leader.epochStartOffset})`,
      );
    }
  }

  /** The leader's log or flushed offset moved: the high watermark may follow (the log emits it). */
  onLogAdvanced(): void {
    this.leader?.onLogAdvanced();
  }

  /** Settle acks=all writes the high watermark or an ISR change decided. */
  checkAcks(): void {
    const leader = this.leader;
    if (leader !== null && this.acks.size > 0) this.acks.check((end) => leader.ackState(end));
  }

  /** Append client batches as leader; resolves per `acks` (see the file comment). */
  async appendAsLeader(
    records: Uint8Array,
    acks: RequiredAcks = -1,
    timeoutMs = WRITE_TIMEOUT_MS_DEFAULT,
  ): Promise<AppendResult> {
    const leader = this.checkLeader();
    if (this.isPrimaryKeyTable) {
      throw new FlussError(
        Errors.INVALID_TABLE_EXCEPTION,
        `table ${this.table.path.database}.${this.table.path.table} has a primary key: write it with PutKv (an upsert writer)`,
      );
    }
    leader.checkAppend(acks);
    const start = this.log.logEndOffset;
    const committed = this.log.append(records, { leaderEpoch: leader.leaderEpoch }).then((info) => {
      this.onLogAdvanced();
      return info;
    });
    return this.answer(committed, start, acks, timeoutMs);
  }

  /** Upsert/delete a KV batch as leader; resolves per `acks` (see the file comment). */
  async putKvAsLeader(
    records: Uint8Array,
    targetColumns: readonly number[] | null,
    acks: RequiredAcks = -1,
    timeoutMs = WRITE_TIMEOUT_MS_DEFAULT,
  ): Promise<AppendResult> {
    const leader = this.checkLeader();
    if (!this.isPrimaryKeyTable) {
      throw new FlussError(
        Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
        `table ${this.table.path.database}.${this.table.path.table} has no primary key: append to it instead`,
      );
    }
    if (!this.kv) throw this.kvNotReady();
    leader.checkAppend(acks);
    const { compression, zstdLevel } = logOptionsOf(this.table.descriptor);
    const start = this.log.logEndOffset;
    const committed = this.kv
      .putAsLeader(records, targetColumns, {
        leaderEpoch: leader.leaderEpoch,
        compression: { type: compression, zstdLevel },
      })
      .then((r) => {
        this.onLogAdvanced();
        return r;
      });
    return this.answer(committed, start, acks, timeoutMs);
  }

  /**
   * The answer to a write. The log writes synchronously inside append (only the durability wait
   * is async), so right after the call the log end says whether this write reached the log: with
   * acks 0/1 that is the answer. A write that did not reach the log yet (refused, or a duplicate
   * waiting for the original's durability) is answered once it settles, as with acks -1. With
   * acks -1 the answer waits until the write is committed (ack-waiters.ts).
   */
  private async answer(
    committed: Promise<{ firstOffset: bigint; lastOffset: bigint; duplicate: boolean }>,
    start: bigint,
    acks: RequiredAcks,
    timeoutMs: number,
  ): Promise<AppendResult> {
    const end = this.log.logEndOffset;
    if (acks !== -1 && end > start) {
      // Not awaited: a later durability failure fails the log, and with it the next request.
      committed.catch(() => undefined);
      return { baseOffset: start, lastOffset: end - 1n, duplicate: false };
    }
    const info = await committed;
    if (acks === -1) await this.committed(info.lastOffset + 1n, timeoutMs);
    return { baseOffset: info.firstOffset, lastOffset: info.lastOffset, duplicate: info.duplicate };
  }

  /** Resolves once everything below `endOffset` is committed (see ack-waiters.ts). */
  private committed(endOffset: bigint, timeoutMs: number): Promise<void> {
    const leader = this.leader;
    if (leader === null) return Promise.reject(this.notLeader("this server stopped leading"));
    const state = leader.ackState(endOffset);
    if (state === "done") return Promise.resolve();
    if (state !== "pending") return Promise.reject(state);
    return this.acks.wait(endOffset, timeoutMs, `bucket ${this.id.bucket} of table ${this.id.tableId}`);
  }

  /** The KV tablet, for reads; only a leader that caught up serves them. */
  kvForRead(): KvTablet {
    this.checkLeader();
    if (!this.isPrimaryKeyTable) {
      throw new FlussError(
        Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
        `table ${this.table.tableId} has no primary key`,
      );
    }
    if (!this.kv) throw this.kvNotReady();
    this.checkCaughtUp();
    return this.kv;
  }

  onHighWatermark(listener: HighWatermarkListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Read committed records for a client fetch. */
  async readCommitted(
    fetchOffset: bigint,
    maxBytes: number,
    allocate?: ReadAllocator,
  ): Promise<{ records: Uint8Array; highWatermark: bigint }> {
    this.checkLeader();
    const hw = this.log.highWatermark;
    // Between the high watermark and the log end: valid, but nothing committed to return yet.
    if (fetchOffset >= hw && fetchOffset <= this.log.logEndOffset) {
      return { records: new Uint8Array(0), highWatermark: hw };
    }
    const r = await this.log.read(fetchOffset, maxBytes, hw, allocate);
    return { records: r.records, highWatermark: hw };
  }

  /** Committed batches through a visitor (projections and filters read only what they keep). */
  async readCommittedVisited(
    fetchOffset: bigint,
    maxBytes: number,
    visit: BatchVisitor,
    limits: { examineBytesMax: number; prefixBytes: number },
    allocate?: ReadAllocator,
  ): Promise<{ parts: Uint8Array[]; bytes: number; examinedEnd: bigint; highWatermark: bigint }> {
    this.checkLeader();
    const hw = this.log.highWatermark;
    if (fetchOffset >= hw && fetchOffset <= this.log.logEndOffset) {
      return { parts: [], bytes: 0, examinedEnd: fetchOffset, highWatermark: hw };
    }
    const r = await this.log.readVisited(fetchOffset, maxBytes, hw, visit, limits, allocate);
    return { ...r, highWatermark: hw };
  }

  async close(): Promise<void> {
    this.loseLeadership("this replica stopped");
    this.listeners.clear();
    this.unsubscribe();
    await this.kv?.close();
    this.kv = null;
    await this.log.close();
  }
}
