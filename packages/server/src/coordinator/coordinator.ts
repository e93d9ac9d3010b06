// The coordinator: the metadata authority. It owns databases, tables, schemas, bucket assignment
// and leadership, and tells tablet servers which replicas to host. All mutations run through one
// SerialQueue (Fluss's coordinator event processor), so each check-then-write is atomic with
// respect to other requests. Reads go straight to the store.

import {
  type Clock,
  descriptorFromJson,
  descriptorToJson,
  Errors,
  FlussError,
  type Schema,
  schemaFromJson,
  schemaToJson,
  type TableDescriptor,
  type TableInfo,
  type TablePath,
  validateName,
} from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type {
  BucketAssignment,
  DatabaseRegistration,
  LeaderAndIsr,
  MetadataStore,
  TableRegistration,
} from "../metadata/metadata-store.ts";
import { SerialQueue } from "../util/serial-queue.ts";
import { resolveTable } from "./table-validation.ts";

export interface ServerNode {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

/** What the coordinator tells a tablet server about one replica. */
export interface ReplicaAssignment {
  readonly table: TableInfo;
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly bucket: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface ReplicaRef {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

/** The coordinator's handle on one tablet server (in-process call or RPC). */
export interface TabletServerGateway {
  readonly node: ServerNode;
  notifyLeaderAndIsr(assignments: readonly ReplicaAssignment[]): Promise<void>;
  stopReplicas(replicas: readonly ReplicaRef[], deleteData: boolean): Promise<void>;
}

export interface BucketLocation {
  readonly bucket: number;
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
}

export interface TableMetadata {
  readonly info: TableInfo;
  readonly buckets: readonly BucketLocation[];
}

export interface CoordinatorOptions {
  store: MetadataStore;
  clock: Clock;
  logger: Logger;
  node: ServerNode;
  defaultBucketNumber: number;
  defaultReplicationFactor: number;
  bucketCountMax: number;
}

export function tableInfoOf(reg: TableRegistration): TableInfo {
  const descriptor = descriptorFromJson(JSON.parse(reg.descriptorJson));
  return {
    path: { database: reg.database, table: reg.table },
    tableId: reg.tableId,
    schemaId: reg.schemaId,
    descriptor,
    bucketCount: reg.bucketCount,
    createdTime: reg.createdTime,
    modifiedTime: reg.modifiedTime,
  };
}

export class Coordinator {
  private readonly opts: CoordinatorOptions;
  private readonly queue = new SerialQueue();
  private readonly gateways = new Map<number, TabletServerGateway>();

  constructor(opts: CoordinatorOptions) {
    this.opts = opts;
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
          for (const a of (await this.store.getAssignment(reg.tableId, null)) ?? []) {
            if (!a.replicas.includes(gateway.node.id)) continue;
            const lai = await this.store.getLeaderAndIsr({
              tableId: reg.tableId,
              partitionId: null,
              bucket: a.bucket,
            });
            if (lai) assignments.push(this.replicaAssignment(info, a, lai));
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

  private replicaAssignment(info: TableInfo, a: BucketAssignment, lai: LeaderAndIsr): ReplicaAssignment {
    return {
      table: info,
      partitionId: null,
      partitionName: null,
      bucket: a.bucket,
      leader: lai.leader,
      leaderEpoch: lai.leaderEpoch,
      replicas: a.replicas,
      isr: lai.isr,
    };
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

  createTable(path: TablePath, descriptor: TableDescriptor, ignoreIfExists: boolean): Promise<void> {
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
        if (ignoreIfExists) return;
        throw new FlussError(
          Errors.TABLE_ALREADY_EXIST,
          `table '${path.database}.${path.table}' already exists`,
        );
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
      const assignment = this.assignBuckets(
        resolved.bucketCount,
        resolved.replicationFactor,
        Number(tableId),
      );
      await this.store.putTable(reg, JSON.stringify(schemaToJson(resolved.descriptor.schema)), assignment);
      await this.electLeaders(tableInfoOf(reg), assignment);
      this.opts.logger.info(
        { table: `${path.database}.${path.table}`, tableId: String(tableId) },
        "table created",
      );
    });
  }

  /** Spread replicas round robin over live tablet servers, starting at a table-dependent offset. */
  private assignBuckets(bucketCount: number, replicationFactor: number, seed: number): BucketAssignment[] {
    const servers = this.tabletServers().map((s) => s.id);
    if (servers.length === 0)
      throw new FlussError(Errors.LEADER_NOT_AVAILABLE_EXCEPTION, "no tablet server is alive");
    const out: BucketAssignment[] = [];
    for (let b = 0; b < bucketCount; b++) {
      const replicas: number[] = [];
      for (let r = 0; r < replicationFactor; r++) replicas.push(servers[(seed + b + r) % servers.length]!);
      out.push({ bucket: b, replicas });
    }
    return out;
  }

  private async electLeaders(info: TableInfo, assignment: readonly BucketAssignment[]): Promise<void> {
    const entries: Array<[{ tableId: bigint; partitionId: null; bucket: number }, LeaderAndIsr]> = [];
    const perServer = new Map<number, ReplicaAssignment[]>();
    for (const a of assignment) {
      const lai: LeaderAndIsr = {
        leader: a.replicas[0]!,
        leaderEpoch: 0,
        isr: [...a.replicas],
        coordinatorEpoch: 0,
        bucketEpoch: 0,
      };
      entries.push([{ tableId: info.tableId, partitionId: null, bucket: a.bucket }, lai]);
      for (const serverId of a.replicas) {
        const list = perServer.get(serverId) ?? [];
        list.push(this.replicaAssignment(info, a, lai));
        perServer.set(serverId, list);
      }
    }
    await this.store.putLeaderAndIsr(entries);
    for (const [serverId, list] of perServer) await this.gateways.get(serverId)?.notifyLeaderAndIsr(list);
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

  private async dropTableNow(reg: TableRegistration): Promise<void> {
    const assignment = (await this.store.getAssignment(reg.tableId, null)) ?? [];
    await this.store.deleteTable(reg.database, reg.table);
    const perServer = new Map<number, ReplicaRef[]>();
    for (const a of assignment) {
      for (const s of a.replicas) {
        const list = perServer.get(s) ?? [];
        list.push({ tableId: reg.tableId, partitionId: null, bucket: a.bucket });
        perServer.set(s, list);
      }
    }
    for (const [serverId, refs] of perServer) await this.gateways.get(serverId)?.stopReplicas(refs, true);
    this.opts.logger.info({ table: `${reg.database}.${reg.table}` }, "table dropped");
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

  async getTableMetadata(path: TablePath): Promise<TableMetadata> {
    const reg = await this.store.getTable(path.database, path.table);
    if (!reg)
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
    const assignment = (await this.store.getAssignment(reg.tableId, null)) ?? [];
    const buckets: BucketLocation[] = [];
    for (const a of assignment) {
      const lai = await this.store.getLeaderAndIsr({
        tableId: reg.tableId,
        partitionId: null,
        bucket: a.bucket,
      });
      const leaderAlive = lai !== undefined && this.gateways.has(lai.leader);
      buckets.push({
        bucket: a.bucket,
        leader: leaderAlive ? lai.leader : null,
        leaderEpoch: lai?.leaderEpoch ?? 0,
        replicas: a.replicas,
      });
    }
    return { info: tableInfoOf(reg), buckets };
  }

  /** Reserve `count` auto-increment ids of a table column; returns the first. Never reused. */
  allocateIdRange(tableId: bigint, column: string, count: number): Promise<bigint> {
    return this.queue.run(() => this.store.nextId(`auto-increment/${tableId}/${column}`, count));
  }

  /** A fresh writer id for an idempotent writer; never reused, also across restarts. */
  allocateWriterId(): Promise<bigint> {
    return this.queue.run(() => this.store.nextId("writer"));
  }
}
