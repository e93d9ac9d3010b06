// The coordinator: the metadata authority. It owns databases, tables, partitions, schemas, bucket
// assignment and leadership, and tells tablet servers which replicas to host. All mutations run
// through one SerialQueue (Fluss's coordinator event processor), so each check-then-write is
// atomic with respect to other requests. Reads go straight to the store (metadata-reads.ts): the
// coordinator keeps no view of its own, and a failed store write (STORAGE_EXCEPTION, e.g. a full
// disk) leaves everything as it was.
// Creating a table or partition: inside the queue it is validated, recorded with its buckets'
// leaders in one write, and its replicas' creation is queued for the hosting tablet servers
// (live-servers.ts); the queue then moves on, and the creation waits — outside the queue — for the
// servers' answers (at most `notifyWaitMsMax`). Until then it is invisible to readers. If a server
// answers that a replica could not be opened, the creation is rolled back (dropped, data deleted)
// and fails with that error, so no half-created table or partition remains; a server that cannot
// be reached only delays its replicas (it is told again when it registers). A tablet server that
// calls back while opening replicas (auto-increment id ranges: allocateIdRange, not queued)
// therefore never waits on a queue that waits on it. Dropping works the same way round: recorded in
// the queue, data deletion awaited outside (except on a disk so full that the removal cannot be
// recorded first: removal.ts).
// Helpers: tables in tables.ts, partitions in partitions.ts, placement in placement.ts, new
// buckets' leadership in leadership.ts, server joins/leaves in registration.ts, ISR changes in
// isr.ts, the elections they cause in elections.ts (driven by failover.ts, which also follows up
// leaders' refusals outside the queue), automatic partitions in auto-partition-manager.ts. Primary-key buckets
// hold open files while hosted: a table or partition whose buckets would not fit the servers'
// budget is refused before anything is recorded (kvBucketCapacity, open-files.ts).

import {
  autoPartitionStrategyOf,
  type Clock,
  Errors,
  FlussError,
  type PartitionSpec,
  partitionNameOf,
  partitionValuesOf,
  type Scheduler,
  type Schema,
  systemScheduler,
  systemTimeZone,
  type TableDescriptor,
  type TableInfo,
  type TablePath,
  validateAutoPartitionTime,
  validateName,
  validatePartitionSpec,
} from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type { DatabaseRegistration, MetadataStore, TableRegistration } from "../metadata/metadata-store.ts";
import { SerialQueue } from "../util/serial-queue.ts";
import { TIMED_OUT, within } from "../util/within.ts";
import { type AutoPartitionHost, AutoPartitionManager } from "./auto-partition-manager.ts";
import {
  type CoordinatorContext,
  Creating,
  partitionIdKey,
  type ScopeRoutes,
  scopeRoutes,
  tableKey,
} from "./context.ts";
import { Failover } from "./failover.ts";
import type { AdjustIsrRequest, AdjustIsrResult } from "./isr.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { LiveTabletServers } from "./live-servers.ts";
import { MetadataReads, type PartitionSelector, tableNotExist } from "./metadata-reads.ts";
import {
  createPartitionNow,
  dropPartitionNow,
  findPartition,
  type PartitionInfo,
  type PartitionMetadata,
  partitionNotExists,
  requirePartitioned,
} from "./partitions.ts";
import { createTableNow, dropTableNow } from "./tables.ts";
import {
  type KvBucketCapacity,
  type ReplicaRef,
  type ServerNode,
  type TableMetadata,
  type TabletServerGateway,
  tableInfoOf,
} from "./types.ts";

export type { PartitionSelector } from "./metadata-reads.ts";
export type { PartitionInfo, PartitionMetadata } from "./partitions.ts";
export * from "./types.ts";

export interface CoordinatorOptions {
  store: MetadataStore;
  clock: Clock;
  /** Timers of waits and periodic work (default: the process's). */
  scheduler?: Scheduler;
  logger: Logger;
  node: ServerNode;
  /** This coordinator's epoch (Fluss's coordinator epoch): fences messages of older coordinators. */
  coordinatorEpoch?: number;
  defaultBucketNumber: number;
  defaultReplicationFactor: number;
  bucketCountMax: number;
  /** Partitions one table may have (Fluss max.partition.num, 1000). */
  partitionCountMax?: number;
  /** Fluss auto-partition.check.interval (10 min). */
  autoPartitionCheckIntervalMs?: number;
  /** Zone of auto-partitioned tables without table.auto-partition.time-zone (default: this process's). */
  defaultTimeZone?: string;
  /** Refuses primary-key buckets the servers' open files cannot hold (none: no check). */
  kvBucketCapacity?: KvBucketCapacity;
  /** How long a create or drop waits for the hosting tablet servers' answers (default 30 s). */
  notifyWaitMsMax?: number;
}

export const PARTITION_COUNT_MAX_DEFAULT = 1000;
export const AUTO_PARTITION_CHECK_INTERVAL_MS_DEFAULT = 10 * 60_000;
export const NOTIFY_WAIT_MS_MAX_DEFAULT = 30_000;

/** The first replica a server refused to open, among a creation's answers. */
function firstRefusal(outcomes: readonly BucketOutcome[]): BucketOutcome | undefined {
  return outcomes.find((o) => o.answer?.error);
}

export class Coordinator implements AutoPartitionHost {
  private readonly opts: CoordinatorOptions;
  private readonly queue = new SerialQueue();
  private readonly scheduler: Scheduler;
  private readonly ctx: CoordinatorContext;
  readonly servers: LiveTabletServers;
  private readonly reads: MetadataReads;
  /** Creates and expires time partitions; started by the server once tablet servers are known. */
  readonly autoPartitions: AutoPartitionManager;
  /** Joins, leaves, shutdowns, ISR changes and the elections they cause (failover.ts). */
  private readonly failover: Failover;

  constructor(opts: CoordinatorOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? systemScheduler;
    const partitionCountMax = opts.partitionCountMax ?? PARTITION_COUNT_MAX_DEFAULT;
    this.servers = new LiveTabletServers({
      logger: opts.logger,
      coordinatorNode: () => this.opts.node,
      coordinatorEpoch: opts.coordinatorEpoch ?? 0,
    });
    this.ctx = {
      store: opts.store,
      clock: opts.clock,
      logger: opts.logger,
      servers: this.servers,
      defaultReplicationFactor: opts.defaultReplicationFactor,
      partitionCountMax,
      creating: new Creating(),
      ...(opts.kvBucketCapacity ? { kvBucketCapacity: opts.kvBucketCapacity } : {}),
    };
    this.reads = new MetadataReads(this.ctx);
    this.failover = new Failover({
      ctx: this.ctx,
      queue: this.queue,
      scheduler: this.scheduler,
      logger: opts.logger,
      bounded: async (p) => {
        const r = await within(p, this.notifyWaitMs, this.scheduler);
        return r === TIMED_OUT ? null : r;
      },
    });
    this.autoPartitions = new AutoPartitionManager({
      host: this,
      clock: opts.clock,
      scheduler: this.scheduler,
      logger: opts.logger,
      checkIntervalMs: opts.autoPartitionCheckIntervalMs ?? AUTO_PARTITION_CHECK_INTERVAL_MS_DEFAULT,
      defaultTimeZone: this.defaultTimeZone,
      partitionCountMax,
    });
  }

  /** The zone auto-partitioned tables without their own time zone use. */
  get defaultTimeZone(): string {
    return this.opts.defaultTimeZone ?? systemTimeZone();
  }

  get node(): ServerNode {
    return this.opts.node;
  }

  get coordinatorEpoch(): number {
    return this.servers.coordinatorEpoch;
  }

  private get store(): MetadataStore {
    return this.opts.store;
  }

  private get notifyWaitMs(): number {
    return this.opts.notifyWaitMsMax ?? NOTIFY_WAIT_MS_MAX_DEFAULT;
  }

  /** Wait (bounded) for answers queued inside the serial queue; null when they did not come in time. */
  private async answers(p: Promise<BucketOutcome[]>): Promise<BucketOutcome[] | null> {
    const r = await within(p, this.notifyWaitMs, this.scheduler);
    return r === TIMED_OUT ? null : r;
  }

  // ---- tablet servers ----------------------------------------------------------------------

  tabletServers(): ServerNode[] {
    return this.servers.nodes();
  }

  /**
   * A tablet server joins (or rejoins): it is told the metadata and every replica it hosts.
   * Resolves once it answered (bounded), so a local cluster is ready when it has started.
   */
  async registerTabletServer(gateway: TabletServerGateway): Promise<void> {
    const outcomes = await this.failover.serverJoined(gateway);
    for (const o of outcomes ?? []) {
      if (o.answer?.error)
        this.opts.logger.error({ err: o.answer.error, server: o.serverId }, "a replica could not be opened");
    }
  }

  /** A tablet server left (its session ended): its buckets get new leaders; nothing more is sent to it. */
  unregisterTabletServer(id: number): Promise<void> {
    return this.failover.serverLeft(id);
  }

  /** A tablet server asks to stop: leadership moves; returns the buckets it still leads (registration.ts). */
  controlledShutdown(id: number): Promise<ReplicaRef[]> {
    return this.failover.controlledShutdown(id);
  }

  /** A leader asks to record new ISRs (Fluss's AdjustIsr; see isr.ts). */
  adjustIsr(requests: readonly AdjustIsrRequest[]): Promise<AdjustIsrResult[]> {
    return this.failover.adjustIsr(requests);
  }

  /** Servers the records name that have not joined within `afterMs` are taken offline (failover.ts). */
  takeAbsentServersOfflineAfter(afterMs: number): void {
    this.failover.scheduleUnknownServersOffline(afterMs);
  }

  /** Stop talking to tablet servers (the coordinator stops). */
  close(): void {
    this.failover.close();
    this.servers.closeAll();
  }

  // ---- databases ---------------------------------------------------------------------------

  createDatabase(name: string, ignoreIfExists: boolean, descriptorJson = "{}"): Promise<void> {
    return this.queue.run(async () => {
      validateName("database", name);
      if (await this.store.getDatabase(name)) {
        if (ignoreIfExists) return;
        throw new FlussError(Errors.DATABASE_ALREADY_EXIST, `database '${name}' already exists`);
      }
      const now = this.opts.clock.nowMs();
      await this.store.putDatabase({ name, createdTime: now, modifiedTime: now, descriptorJson });
    });
  }

  async dropDatabase(name: string, ignoreIfNotExists: boolean, cascade: boolean): Promise<void> {
    const deletions = await this.queue.run(async () => {
      if (!(await this.store.getDatabase(name))) {
        if (ignoreIfNotExists) return [];
        throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${name}' does not exist`);
      }
      const tables = await this.store.listTables(name);
      if (tables.length > 0 && !cascade) {
        throw new FlussError(
          Errors.DATABASE_NOT_EMPTY,
          `database '${name}' has ${tables.length} table(s); drop them first or use cascade`,
        );
      }
      const out: Promise<BucketOutcome[]>[] = [];
      for (const t of tables) out.push((await dropTableNow(this.ctx, t)).deleted);
      await this.store.deleteDatabase(name);
      return out;
    });
    await this.answers(Promise.all(deletions).then((l) => l.flat()));
  }

  listDatabases(): Promise<DatabaseRegistration[]> {
    return this.reads.listDatabases();
  }

  getDatabase(name: string): Promise<DatabaseRegistration> {
    return this.reads.getDatabase(name);
  }

  databaseExists(name: string): Promise<boolean> {
    return this.reads.databaseExists(name);
  }

  // ---- tables ------------------------------------------------------------------------------

  /**
   * Create a table; resolves once its replicas are open (an auto-partitioned one also has its first
   * partitions). See the top for what a failure leaves behind (nothing).
   */
  async createTable(path: TablePath, descriptor: TableDescriptor, ignoreIfExists: boolean): Promise<void> {
    const limits = {
      defaultBucketNumber: this.opts.defaultBucketNumber,
      bucketCountMax: this.opts.bucketCountMax,
    };
    const created = await this.queue.run(() =>
      createTableNow(this.ctx, limits, path, descriptor, ignoreIfExists),
    );
    if (created === null) {
      // It exists, or is being created by another request: answer once that one settled.
      await this.ctx.creating.settled(tableKey(path.database, path.table));
      return;
    }
    try {
      const refusal = firstRefusal((await this.answers(created.confirmed)) ?? []);
      if (refusal?.answer?.error) {
        await this.rollBack(`table ${path.database}.${path.table}`, refusal, () =>
          dropTableNow(this.ctx, created.reg),
        );
      }
    } finally {
      created.done();
    }
    this.opts.logger.info(
      { table: `${path.database}.${path.table}`, tableId: String(created.reg.tableId) },
      "table created",
    );
    // Fluss schedules this right away too; a failure is logged and retried by the periodic run.
    await this.autoPartitions.runTable(created.reg.tableId);
  }

  /** Undo a creation a tablet server refused (drop it, wait for the deletion), then fail with why. */
  private async rollBack(
    what: string,
    refusal: BucketOutcome,
    drop: () => Promise<{ deleted: Promise<BucketOutcome[]> }>,
  ): Promise<never> {
    const error = refusal.answer!.error!;
    this.opts.logger.warn(
      { err: error, server: refusal.serverId },
      `${what} was not created: a tablet server could not open a replica; rolling back`,
    );
    const dropped = await this.queue.run(drop);
    await this.answers(dropped.deleted);
    throw new FlussError(
      error.kind,
      `${what} was not created: tablet server ${refusal.serverId}: ${error.message}`,
      {
        cause: error,
      },
    );
  }

  async dropTable(path: TablePath, ignoreIfNotExists: boolean): Promise<void> {
    const dropped = await this.queue.run(async () => {
      const reg = await this.reads.table(path);
      if (!reg) {
        if (ignoreIfNotExists) return null;
        throw tableNotExist(path);
      }
      return dropTableNow(this.ctx, reg);
    });
    if (dropped) await this.answers(dropped.deleted);
  }

  listTables(database: string): Promise<string[]> {
    return this.reads.listTables(database);
  }

  getTableInfo(path: TablePath): Promise<TableInfo> {
    return this.reads.getTableInfo(path);
  }

  tableExists(path: TablePath): Promise<boolean> {
    return this.reads.tableExists(path);
  }

  getSchema(path: TablePath, schemaId?: number): Promise<{ schemaId: number; schema: Schema }> {
    return this.reads.getSchema(path, schemaId);
  }

  getTableMetadata(path: TablePath, withPartitions = true): Promise<TableMetadata> {
    return this.reads.getTableMetadata(path, withPartitions);
  }

  // ---- partitions --------------------------------------------------------------------------

  /**
   * Create a partition of a partitioned table. The spec must name every partition key with a
   * valid value (no `__` prefix); an auto-partitioned table also checks the time value's format and
   * that it has not already expired. Returns the partition (the existing one with ignoreIfExists).
   */
  async createPartition(
    path: TablePath,
    spec: PartitionSpec,
    ignoreIfExists: boolean,
  ): Promise<PartitionInfo> {
    const r = await this.queue.run(async () => {
      const reg = await this.reads.requireTable(path);
      const info = tableInfoOf(reg);
      const keys = requirePartitioned(info);
      const values = validatePartitionSpec(`${path.database}.${path.table}`, keys, spec, true);
      const strategy = autoPartitionStrategyOf(info.descriptor.properties, this.defaultTimeZone);
      validateAutoPartitionTime(spec, keys, strategy, this.opts.clock.nowMs());
      return { reg, c: await createPartitionNow(this.ctx, reg, info, values, ignoreIfExists) };
    });
    await this.confirmPartition(r.reg, r.c);
    return r.c.partition;
  }

  /** Wait for a partition's replicas (rolling it back if one was refused), or for a creation in progress. */
  private async confirmPartition(
    reg: TableRegistration,
    c: Awaited<ReturnType<typeof createPartitionNow>>,
  ): Promise<void> {
    const what = `partition '${c.partition.partitionName}' of table ${reg.database}.${reg.table}`;
    if (!c.created) {
      await this.ctx.creating.settled(partitionIdKey(c.partition.partitionId));
      return;
    }
    try {
      const refusal = firstRefusal((await this.answers(c.confirmed)) ?? []);
      if (refusal?.answer?.error) {
        const p = {
          tableId: reg.tableId,
          partitionId: c.partition.partitionId,
          name: c.partition.partitionName,
          createdTime: 0,
        };
        await this.rollBack(what, refusal, () => dropPartitionNow(this.ctx, reg, p));
      }
    } finally {
      c.done();
    }
    this.opts.logger.info(
      { partition: what, partitionId: String(c.partition.partitionId) },
      "partition created",
    );
  }

  /** Drop a partition: its replicas stop and their data (log, KV, KV snapshots) is deleted. */
  async dropPartition(path: TablePath, spec: PartitionSpec, ignoreIfNotExists: boolean): Promise<void> {
    const dropped = await this.queue.run(async () => {
      const reg = await this.reads.requireTable(path);
      const info = tableInfoOf(reg);
      const keys = requirePartitioned(info);
      const values = validatePartitionSpec(`${path.database}.${path.table}`, keys, spec, false);
      const name = partitionNameOf(values);
      const p = (await this.reads.partitions(reg.tableId)).find((x) => x.name === name);
      if (!p) {
        if (ignoreIfNotExists) return null;
        throw partitionNotExists(info, name);
      }
      return dropPartitionNow(this.ctx, reg, p);
    });
    if (dropped) await this.answers(dropped.deleted);
  }

  listPartitions(path: TablePath, partialSpec: PartitionSpec = {}): Promise<PartitionInfo[]> {
    return this.reads.listPartitions(path, partialSpec);
  }

  getPartitionMetadata(sel: PartitionSelector): Promise<PartitionMetadata[]> {
    return this.reads.getPartitionMetadata(sel);
  }

  /** Assignment and recorded leadership (ISR included) of a table's or partition's buckets. */
  bucketStates(tableId: bigint, partitionId: bigint | null): Promise<ScopeRoutes> {
    return scopeRoutes(this.ctx, tableId, partitionId);
  }

  // ---- AutoPartitionHost (used by the AutoPartitionManager) ----------------------------------

  async autoPartitionedTables(tableId?: bigint): Promise<TableInfo[]> {
    const regs: TableRegistration[] = [];
    if (tableId !== undefined) {
      const reg = await this.reads.tableById(tableId);
      if (reg) regs.push(reg);
    } else {
      for (const db of await this.store.listDatabases()) regs.push(...(await this.store.listTables(db.name)));
    }
    return regs
      .map(tableInfoOf)
      .filter(
        (info) =>
          info.descriptor.partitionKeys.length > 0 &&
          info.descriptor.properties["table.auto-partition.enabled"] === "true",
      );
  }

  async partitionNamesOf(tableId: bigint): Promise<string[] | undefined> {
    if (!(await this.store.getTableById(tableId))) return undefined;
    return (await this.store.listPartitions(tableId)).map((p) => p.name);
  }

  async createPartitionOf(tableId: bigint, name: string): Promise<"created" | "exists" | "gone"> {
    const r = await this.queue.run(async () => {
      const reg = await this.store.getTableById(tableId);
      if (!reg) return null;
      const info = tableInfoOf(reg);
      const values = partitionValuesOf(info.descriptor.partitionKeys, name);
      return { reg, c: await createPartitionNow(this.ctx, reg, info, values, true) };
    });
    if (r === null) return "gone";
    await this.confirmPartition(r.reg, r.c);
    return r.c.created ? "created" : "exists";
  }

  async dropPartitionOf(tableId: bigint, name: string): Promise<"dropped" | "missing" | "gone"> {
    const r = await this.queue.run(async () => {
      const reg = await this.store.getTableById(tableId);
      if (!reg) return "gone" as const;
      const p = await findPartition(this.store, tableId, name);
      if (!p) return "missing" as const;
      return dropPartitionNow(this.ctx, reg, p);
    });
    if (typeof r === "string") return r;
    await this.answers(r.deleted);
    return "dropped";
  }

  /**
   * Reserve `count` auto-increment ids of a table column; returns the first. Never reused.
   * Not queued: tablet servers call this while opening a replica; the store's counters are atomic
   * on their own, and a creation never waits for its replicas inside the queue anyway.
   */
  allocateIdRange(tableId: bigint, column: string, count: number): Promise<bigint> {
    if (!Number.isSafeInteger(count) || count <= 0 || count > 1_000_000_000) {
      return Promise.reject(
        new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `an id range of ${count} ids is out of bounds`),
      );
    }
    return this.store.nextId(`auto-increment/${tableId}/${column}`, count);
  }

  /** A fresh writer id for an idempotent writer; never reused, also across restarts. */
  allocateWriterId(): Promise<bigint> {
    return this.queue.run(() => this.store.nextId("writer"));
  }
}
