// One bucket replica on a tablet server: the bucket's log tablet (for a primary-key table also its
// KV tablet, whose changelog is that log) plus its role (leader now; followers arrive with
// replication). The replica owns the high watermark: a record becomes
// visible to readers (and counted as committed) only once it is durable under the configured flush
// policy on every in-sync replica — with one replica, once the leader's append has resolved.
// Writes answer per Fluss's acks: -1 (all) once committed (high watermark past the write: durable
// under the flush policy, visible to readers); 0 and 1 once the write is in the leader's log,
// before it is durable or visible (the high watermark follows on its own; if the flush then
// fails, the log refuses all later work, so the failure is reported to the next request).
// Invariant: highWatermark <= logEndOffset, and it never moves backwards while leader.

import { Errors, FlussError, logOptionsOf, type TableInfo } from "@fluss-ts/common";
import type { BatchVisitor, KvTablet, LogTablet, ReadAllocator } from "@fluss-ts/storage";

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
  /** The KV tablet of a primary-key table; null for a log table. */
  kv: KvTablet | null = null;
  readonly dir: string;
  table: TableInfo;
  leaderEpoch: number;
  private leader: boolean;
  private readonly listeners = new Set<HighWatermarkListener>();

  constructor(
    id: ReplicaId,
    table: TableInfo,
    log: LogTablet,
    dir: string,
    leaderEpoch: number,
    leader: boolean,
  ) {
    this.id = id;
    this.table = table;
    this.log = log;
    this.dir = dir;
    this.leaderEpoch = leaderEpoch;
    this.leader = leader;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  becomeLeader(leaderEpoch: number, table: TableInfo): void {
    this.leader = true;
    this.leaderEpoch = leaderEpoch;
    this.table = table;
    // A single-replica leader owns everything it has durably written.
    this.advanceHighWatermark(this.log.flushedOffset);
  }

  /** Follow `leaderEpoch`'s leader: writes and reads are refused until this replica leads again. */
  becomeFollower(leaderEpoch: number, table: TableInfo): void {
    this.leader = false;
    this.leaderEpoch = leaderEpoch;
    this.table = table;
  }

  private checkLeader(): void {
    if (!this.leader) {
      throw new FlussError(
        Errors.NOT_LEADER_OR_FOLLOWER,
        `this server is not the leader of bucket ${this.id.bucket} of table ${this.id.tableId}`,
      );
    }
  }

  /** Append client batches as leader; resolves per `acks` (see the file comment). */
  async appendAsLeader(records: Uint8Array, acks: RequiredAcks = -1): Promise<AppendResult> {
    this.checkLeader();
    if (this.kv) {
      throw new FlussError(
        Errors.INVALID_TABLE_EXCEPTION,
        `table ${this.table.path.database}.${this.table.path.table} has a primary key: write it with PutKv (an upsert writer)`,
      );
    }
    const start = this.log.logEndOffset;
    const committed = this.log.append(records, { leaderEpoch: this.leaderEpoch }).then((info) => {
      this.advanceHighWatermark(info.lastOffset + 1n);
      return info;
    });
    return this.answer(committed, start, acks);
  }

  /** Upsert/delete a KV batch as leader; resolves per `acks` (see the file comment). */
  async putKvAsLeader(
    records: Uint8Array,
    targetColumns: readonly number[] | null,
    acks: RequiredAcks = -1,
  ): Promise<AppendResult> {
    this.checkLeader();
    if (!this.kv) {
      throw new FlussError(
        Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
        `table ${this.table.path.database}.${this.table.path.table} has no primary key: append to it instead`,
      );
    }
    const { compression, zstdLevel } = logOptionsOf(this.table.descriptor);
    const start = this.log.logEndOffset;
    const committed = this.kv
      .putAsLeader(records, targetColumns, {
        leaderEpoch: this.leaderEpoch,
        compression: { type: compression, zstdLevel },
      })
      .then((r) => {
        this.advanceHighWatermark(r.lastOffset + 1n);
        return r;
      });
    return this.answer(committed, start, acks);
  }

  /**
   * The answer to a write. The log writes synchronously inside append (only the durability wait
   * is async), so right after the call the log end says whether this write reached the log: with
   * acks 0/1 that is the answer. A write that did not reach the log yet (refused, or a duplicate
   * waiting for the original's durability) is answered once it settles, as with acks -1.
   */
  private async answer(
    committed: Promise<{ firstOffset: bigint; lastOffset: bigint; duplicate: boolean }>,
    start: bigint,
    acks: RequiredAcks,
  ): Promise<AppendResult> {
    const end = this.log.logEndOffset;
    if (acks !== -1 && end > start) {
      // Not awaited: a later durability failure fails the log, and with it the next request.
      committed.catch(() => undefined);
      return { baseOffset: start, lastOffset: end - 1n, duplicate: false };
    }
    const info = await committed;
    return { baseOffset: info.firstOffset, lastOffset: info.lastOffset, duplicate: info.duplicate };
  }

  /** The KV tablet, for reads; only the leader serves them. */
  kvForRead(): KvTablet {
    this.checkLeader();
    if (!this.kv) {
      throw new FlussError(
        Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
        `table ${this.table.tableId} has no primary key`,
      );
    }
    return this.kv;
  }

  private advanceHighWatermark(offset: bigint): void {
    const target = offset < this.log.logEndOffset ? offset : this.log.logEndOffset;
    if (target <= this.log.highWatermark) return;
    this.log.updateHighWatermark(target);
    for (const l of this.listeners) l(target);
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
    this.listeners.clear();
    await this.kv?.close();
    await this.log.close();
  }
}
