// The coordinator: the metadata authority. It owns databases, tables, partitions, schemas, bucket
// assignment and leadership, and tells tablet servers which replicas to host. All mutations run
// through one SerialQueue (Fluss's coordinator event processor), so each check-then-write is
// atomic with respect to other requests. Reads go straight to the store: the coordinator keeps no
// view of its own, so nothing it answers can run ahead of what is durable, and a failed store write
// (STORAGE_EXCEPTION, e.g. a full disk) leaves everything as it was. A table is recorded with its
// buckets' leaders in one write before any tablet server hears of it, and forgotten before its data
// is deleted — except on a disk so full that even the drop cannot be recorded: then the data goes
// first (freeing space) and the drop is recorded after. Partition work lives in partitions.ts,
// replica placement in placement.ts, new buckets' leadership in leadership.ts, automatic partitions
// in auto-partition-manager.ts (driven from here: after CREATE TABLE and on its own timer).
// Primary-key buckets hold open files while hosted: a table or partition whose buckets would not
// fit the servers' budget is refused before anything is recorded (kvBucketCapacity, open-files.ts).

import {
  autoPartitionStrategyOf,
  type Clock,
  descriptorToJson,
  Errors,
  FlussError,
  type PartitionSpec,
  partitionMatches,
  partitionNameOf,
  partitionValuesOf,
  type Schema,
  schemaFromJson,
  schemaToJson,
  systemTimeZone,
  type TableDescriptor,
  type TableInfo,
  type TablePath,
  validateAutoPartitionTime,
  validateName,
  validatePartitionSpec,
} from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type {
  BucketAssignment,
  DatabaseRegistration,
  MetadataStore,
  TableRegistration,
} from "../metadata/metadata-store.ts";
import { SerialQueue } from "../util/serial-queue.ts";
import { type AutoPartitionHost, AutoPartitionManager } from "./auto-partition-manager.ts";
import { announceNewBuckets, initialLeaders } from "./leadership.ts";
import {
  bucketLocations,
  createPartitionNow,
  dropPartitionNow,
  findPartition,
  type PartitionContext,
  type PartitionInfo,
  type PartitionMetadata,
  partitionInfoOf,
  partitionMetadataOf,
  partitionNotExists,
  requirePartitioned,
} from "./partitions.ts";
import { assignBuckets, replicaAssignment, stopBuckets } from "./placement.ts";
import { removeThenDeleteData } from "./removal.ts";
import { resolveTable } from "./table-validation.ts";
import {
  type KvBucketCapacity,
  type ReplicaAssignment,
  type ServerNode,
  type TableMetadata,
  type TabletServerGateway,
  tableInfoOf,
} from "./types.ts";

export type { PartitionInfo, PartitionMetadata } from "./partitions.ts";
export * from "./types.ts";

/** Which partitions getPartitionMetadata answers for: by table and name, or by id. */
export type PartitionSelector =
  | { readonly path: TablePath; readonly names: readonly string[] }
  | { readonly ids: readonly bigint[] };

export interface CoordinatorOptions {
  store: MetadataStore;
  clock: Clock;
  logger: Logger;
  node: ServerNode;
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
}

export const PARTITION_COUNT_MAX_DEFAULT = 1000;
export const AUTO_PARTITION_CHECK_INTERVAL_MS_DEFAULT = 10 * 60_000;

function tableNotExist(path: TablePath): FlussError {
  return new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
}

export class Coordinator implements AutoPartitionHost {
  private readonly opts: CoordinatorOptions;
  private readonly queue = new SerialQueue();
  private readonly gateways = new Map<number, TabletServerGateway>();
  private readonly parts: PartitionContext;
  /** Creates and expires time partitions; started by the server once tablet servers are known. */
  readonly autoPartitions: AutoPartitionManager;

  constructor(opts: CoordinatorOptions) {
    this.opts = opts;
    const partitionCountMax = opts.partitionCountMax ?? PARTITION_COUNT_MAX_DEFAULT;
    this.parts = {
      store: opts.store,
      clock: opts.clock,
      logger: opts.logger,
      gateways: this.gateways,
      defaultReplicationFactor: opts.defaultReplicationFactor,
      partitionCountMax,
      ...(opts.kvBucketCapacity ? { kvBucketCapacity: opts.kvBucketCapacity } : {}),
    };
    this.autoPartitions = new AutoPartitionManager({
      host: this,
      clock: opts.clock,
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

  private get store(): MetadataStore {
    return this.opts.store;
  }

  tabletServers(): ServerNode[] {
    return [...this.gateways.values()].map((g) => g.node).sort((a, b) => a.id - b.id);
  }

  /** A tablet server joins: it is told about every replica it hosts (startup recovery). */
  registerTabletServer(gateway: TabletServerGateway): Promise<void> {
    return this.queue.run(async () => {
      this.gateways.set(gateway.node.id, gateway);
      const assignments: ReplicaAssignment[] = [];
      for (const db of await this.store.listDatabases()) {
        for (const reg of await this.store.listTables(db.name)) {
          const info = tableInfoOf(reg);
          const scopes: Array<{ id: bigint; name: string } | null> = [null];
          for (const p of await this.store.listPartitions(reg.tableId))
            scopes.push({ id: p.partitionId, name: p.name });
          for (const partition of scopes) {
            const partitionId = partition?.id ?? null;
            for (const a of (await this.store.getAssignment(reg.tableId, partitionId)) ?? []) {
              if (!a.replicas.includes(gateway.node.id)) continue;
              const lai = await this.store.getLeaderAndIsr({
                tableId: reg.tableId,
                partitionId,
                bucket: a.bucket,
              });
              if (lai) assignments.push(replicaAssignment(info, partition, a, lai));
            }
          }
        }
      }
      if (assignments.length > 0) await gateway.notifyLeaderAndIsr(assignments);
      this.opts.logger.info(
        { server: gateway.node, replicas: assignments.length },
        "tablet server registered",
      );
    });
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

  dropDatabase(name: string, ignoreIfNotExists: boolean, cascade: boolean): Promise<void> {
    return this.queue.run(async () => {
      if (!(await this.store.getDatabase(name))) {
        if (ignoreIfNotExists) return;
        throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${name}' does not exist`);
      }
      const tables = await this.store.listTables(name);
      if (tables.length > 0 && !cascade) {
        throw new FlussError(
          Errors.DATABASE_NOT_EMPTY,
          `database '${name}' has ${tables.length} table(s); drop them first or use cascade`,
        );
      }
      for (const t of tables) await this.dropTableNow(t);
      await this.store.deleteDatabase(name);
    });
  }

  async listDatabases(): Promise<DatabaseRegistration[]> {
    return (await this.store.listDatabases()).sort((a, b) => a.name.localeCompare(b.name));
  }

  async getDatabase(name: string): Promise<DatabaseRegistration> {
    const db = await this.store.getDatabase(name);
    if (!db) throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${name}' does not exist`);
    return db;
  }

  async databaseExists(name: string): Promise<boolean> {
    return (await this.store.getDatabase(name)) !== undefined;
  }

  // ---- tables ------------------------------------------------------------------------------

  /** Create a table; an auto-partitioned one gets its first partitions before this resolves. */
  async createTable(path: TablePath, descriptor: TableDescriptor, ignoreIfExists: boolean): Promise<void> {
    const tableId = await this.createTableNow(path, descriptor, ignoreIfExists);
    if (tableId === null) return;
    // Fluss schedules this right away too; a failure is logged and retried by the periodic run.
    await this.autoPartitions.runTable(tableId);
  }

  private createTableNow(
    path: TablePath,
    descriptor: TableDescriptor,
    ignoreIfExists: boolean,
  ): Promise<bigint | null> {
    return this.queue.run(async () => {
      const liveTabletServers = this.gateways.size;
      const resolved = resolveTable(path.database, path.table, descriptor, {
        defaultBucketNumber: this.opts.defaultBucketNumber,
        defaultReplicationFactor: this.opts.defaultReplicationFactor,
        bucketCountMax: this.opts.bucketCountMax,
        liveTabletServers,
      });
      if (!(await this.store.getDatabase(path.database))) {
        throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${path.database}' does not exist`);
      }
      if (await this.store.getTable(path.database, path.table)) {
        if (ignoreIfExists) return null;
        throw new FlussError(
          Errors.TABLE_ALREADY_EXIST,
          `table '${path.database}.${path.table}' already exists`,
        );
      }
      // A partitioned table's buckets belong to its partitions; the table itself has none.
      const partitioned = resolved.descriptor.partitionKeys.length > 0;
      if (resolved.descriptor.schema.primaryKey.length > 0) {
        // A partitioned one is checked for one partition's buckets (each partition again later).
        const name = `${partitioned ? "each partition of " : ""}table ${path.database}.${path.table}`;
        this.opts.kvBucketCapacity?.checkNewKvBuckets(resolved.bucketCount, name);
      }
      const tableId = await this.store.nextId("table");
      const now = this.opts.clock.nowMs();
      const reg: TableRegistration = {
        database: path.database,
        table: path.table,
        tableId,
        schemaId: 1,
        descriptorJson: JSON.stringify(descriptorToJson(resolved.descriptor)),
        bucketCount: resolved.bucketCount,
        createdTime: now,
        modifiedTime: now,
      };
      const assignment = partitioned
        ? []
        : assignBuckets(
            this.liveServerIds(),
            resolved.bucketCount,
            resolved.replicationFactor,
            Number(tableId),
          );
      const leaders = initialLeaders(assignment);
      const schemaJson = JSON.stringify(schemaToJson(resolved.descriptor.schema));
      await this.store.putTable(reg, schemaJson, assignment, leaders);
      await announceNewBuckets(this.gateways, this.opts.logger, tableInfoOf(reg), null, assignment, leaders);
      this.opts.logger.info(
        { table: `${path.database}.${path.table}`, tableId: String(tableId) },
        "table created",
      );
      return tableId;
    });
  }

  private liveServerIds(): number[] {
    return this.tabletServers().map((s) => s.id);
  }

  dropTable(path: TablePath, ignoreIfNotExists: boolean): Promise<void> {
    return this.queue.run(async () => {
      const reg = await this.store.getTable(path.database, path.table);
      if (!reg) {
        if (ignoreIfNotExists) return;
        throw new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
      }
      await this.dropTableNow(reg);
    });
  }

  /**
   * Forget a table with its partitions, then stop every replica and delete its data. On a disk too
   * full to record the drop, the data is deleted first and the drop recorded after (see the top).
   */
  private async dropTableNow(reg: TableRegistration): Promise<void> {
    const scopes: Array<{ partitionId: bigint | null; assignment: readonly BucketAssignment[] }> = [
      { partitionId: null, assignment: (await this.store.getAssignment(reg.tableId, null)) ?? [] },
    ];
    for (const p of await this.store.listPartitions(reg.tableId)) {
      scopes.push({
        partitionId: p.partitionId,
        assignment: (await this.store.getAssignment(reg.tableId, p.partitionId)) ?? [],
      });
    }
    const deleteData = async (): Promise<void> => {
      for (const sc of scopes)
        await stopBuckets(this.gateways, reg.tableId, sc.partitionId, sc.assignment, true);
    };
    await removeThenDeleteData(
      `${reg.database}.${reg.table}`,
      this.opts.logger,
      () => this.store.deleteTable(reg.database, reg.table),
      deleteData,
    );
    this.opts.logger.info(
      { table: `${reg.database}.${reg.table}`, partitions: scopes.length - 1 },
      "table dropped",
    );
  }

  async listTables(database: string): Promise<string[]> {
    if (!(await this.store.getDatabase(database))) {
      throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${database}' does not exist`);
    }
    return (await this.store.listTables(database)).map((t) => t.table).sort();
  }

  async getTableInfo(path: TablePath): Promise<TableInfo> {
    const reg = await this.store.getTable(path.database, path.table);
    if (!reg)
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
    return tableInfoOf(reg);
  }

  async tableExists(path: TablePath): Promise<boolean> {
    return (await this.store.getTable(path.database, path.table)) !== undefined;
  }

  async getSchema(path: TablePath, schemaId?: number): Promise<{ schemaId: number; schema: Schema }> {
    const reg = await this.store.getTable(path.database, path.table);
    if (!reg)
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
    const id = schemaId ?? reg.schemaId;
    const json = await this.store.getSchema(reg.tableId, id);
    if (json === undefined)
      throw new FlussError(Errors.SCHEMA_NOT_EXIST, `schema ${id} of table does not exist`);
    return { schemaId: id, schema: schemaFromJson(JSON.parse(json)) };
  }

  /** Routes of a table; `withPartitions: false` leaves out the partitions' (GetMetadata asks for them apart). */
  async getTableMetadata(path: TablePath, withPartitions = true): Promise<TableMetadata> {
    const reg = await this.store.getTable(path.database, path.table);
    if (!reg) throw tableNotExist(path);
    const partitions: PartitionMetadata[] = [];
    if (withPartitions)
      for (const p of await this.store.listPartitions(reg.tableId))
        partitions.push(await partitionMetadataOf(this.parts, p));
    partitions.sort((a, b) => (a.partitionName < b.partitionName ? -1 : 1));
    return {
      info: tableInfoOf(reg),
      buckets: await bucketLocations(this.parts, reg.tableId, null),
      partitions,
    };
  }

  // ---- partitions --------------------------------------------------------------------------

  /**
   * Create a partition of a partitioned table. The spec must name every partition key with a
   * valid value (no `__` prefix); an auto-partitioned table also checks the time value's format and
   * that it has not already expired. Returns the partition (the existing one with ignoreIfExists).
   */
  createPartition(path: TablePath, spec: PartitionSpec, ignoreIfExists: boolean): Promise<PartitionInfo> {
    return this.queue.run(async () => {
      const reg = await this.store.getTable(path.database, path.table);
      if (!reg) throw tableNotExist(path);
      const info = tableInfoOf(reg);
      const keys = requirePartitioned(info);
      const values = validatePartitionSpec(`${path.database}.${path.table}`, keys, spec, true);
      const strategy = autoPartitionStrategyOf(info.descriptor.properties, this.defaultTimeZone);
      validateAutoPartitionTime(spec, keys, strategy, this.opts.clock.nowMs());
      return (await createPartitionNow(this.parts, reg, info, values, ignoreIfExists)).partition;
    });
  }

  /** Drop a partition: its replicas stop and their data (log, KV, KV snapshots) is deleted. */
  dropPartition(path: TablePath, spec: PartitionSpec, ignoreIfNotExists: boolean): Promise<void> {
    return this.queue.run(async () => {
      const reg = await this.store.getTable(path.database, path.table);
      if (!reg) throw tableNotExist(path);
      const info = tableInfoOf(reg);
      const keys = requirePartitioned(info);
      const values = validatePartitionSpec(`${path.database}.${path.table}`, keys, spec, false);
      const name = partitionNameOf(values);
      const p = await findPartition(this.store, reg.tableId, name);
      if (!p) {
        if (ignoreIfNotExists) return;
        throw partitionNotExists(info, name);
      }
      await dropPartitionNow(this.parts, reg, p);
    });
  }

  /** Partitions of a table, by name; a partial spec keeps those whose given keys match. */
  async listPartitions(path: TablePath, partialSpec: PartitionSpec = {}): Promise<PartitionInfo[]> {
    const reg = await this.store.getTable(path.database, path.table);
    if (!reg) throw tableNotExist(path);
    const keys = requirePartitioned(tableInfoOf(reg));
    const out: PartitionInfo[] = [];
    for (const p of await this.store.listPartitions(reg.tableId)) {
      if (partitionMatches(keys, partitionValuesOf(keys, p.name), partialSpec))
        out.push(partitionInfoOf(keys, p));
    }
    return out.sort((a, b) => (a.partitionName < b.partitionName ? -1 : 1));
  }

  /** Routes of the selected partitions; a missing one is PARTITION_NOT_EXISTS. */
  async getPartitionMetadata(sel: PartitionSelector): Promise<PartitionMetadata[]> {
    const out: PartitionMetadata[] = [];
    if ("ids" in sel) {
      for (const id of sel.ids) {
        const p = await this.store.getPartition(id);
        if (!p) throw new FlussError(Errors.PARTITION_NOT_EXISTS, `partition id ${id} does not exist`);
        out.push(await partitionMetadataOf(this.parts, p));
      }
      return out;
    }
    const reg = await this.store.getTable(sel.path.database, sel.path.table);
    if (!reg) throw tableNotExist(sel.path);
    const info = tableInfoOf(reg);
    requirePartitioned(info);
    const all = await this.store.listPartitions(reg.tableId);
    for (const name of sel.names) {
      const p = all.find((x) => x.name === name);
      if (!p) throw partitionNotExists(info, name);
      out.push(await partitionMetadataOf(this.parts, p));
    }
    return out;
  }

  // ---- AutoPartitionHost (used by the AutoPartitionManager) ----------------------------------

  async autoPartitionedTables(tableId?: bigint): Promise<TableInfo[]> {
    const regs: TableRegistration[] = [];
    if (tableId !== undefined) {
      const reg = await this.store.getTableById(tableId);
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

  createPartitionOf(tableId: bigint, name: string): Promise<"created" | "exists" | "gone"> {
    return this.queue.run(async () => {
      const reg = await this.store.getTableById(tableId);
      if (!reg) return "gone";
      const info = tableInfoOf(reg);
      const values = partitionValuesOf(info.descriptor.partitionKeys, name);
      const r = await createPartitionNow(this.parts, reg, info, values, true);
      return r.created ? "created" : "exists";
    });
  }

  dropPartitionOf(tableId: bigint, name: string): Promise<"dropped" | "missing" | "gone"> {
    return this.queue.run(async () => {
      const reg = await this.store.getTableById(tableId);
      if (!reg) return "gone";
      const p = await findPartition(this.store, tableId, name);
      if (!p) return "missing";
      await dropPartitionNow(this.parts, reg, p);
      return "dropped";
    });
  }

  /**
   * Reserve `count` auto-increment ids of a table column; returns the first. Never reused.
   * Not queued: tablet servers call this while opening a replica, which createTable awaits from
   * inside the queue; the store's counters are atomic on their own.
   */
  allocateIdRange(tableId: bigint, column: string, count: number): Promise<bigint> {
    return this.store.nextId(`auto-increment/${tableId}/${column}`, count);
  }

  /** A fresh writer id for an idempotent writer; never reused, also across restarts. */
  allocateWriterId(): Promise<bigint> {
    return this.queue.run(() => this.store.nextId("writer"));
  }
}
