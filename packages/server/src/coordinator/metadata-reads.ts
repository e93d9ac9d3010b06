// The coordinator's read side: databases, tables, schemas, partitions and their routes, read
// straight from the metadata store (the coordinator keeps no view of its own, so nothing it answers
// runs ahead of what is durable). A table or partition still being created (stored, its replicas
// not yet confirmed: context.ts) is not visible here: it does not exist until its creation
// completes, and never if that is rolled back.

import {
  Errors,
  FlussError,
  type PartitionSpec,
  partitionMatches,
  partitionValuesOf,
  type Schema,
  schemaFromJson,
  type TableInfo,
  type TablePath,
} from "@fluss-ts/common";
import type {
  DatabaseRegistration,
  PartitionRegistration,
  TableRegistration,
} from "../metadata/metadata-store.ts";
import { type CoordinatorContext, partitionIdKey, tableIdKey, tableKey } from "./context.ts";
import {
  bucketLocations,
  type PartitionInfo,
  type PartitionMetadata,
  partitionInfoOf,
  partitionMetadataOf,
  partitionNotExists,
  requirePartitioned,
} from "./partitions.ts";
import { type TableMetadata, tableInfoOf } from "./types.ts";

/** Which partitions getPartitionMetadata answers for: by table and name, or by id. */
export type PartitionSelector =
  | { readonly path: TablePath; readonly names: readonly string[] }
  | { readonly ids: readonly bigint[] };

export function tableNotExist(path: TablePath): FlussError {
  return new FlussError(Errors.TABLE_NOT_EXIST, `table '${path.database}.${path.table}' does not exist`);
}

export class MetadataReads {
  private readonly ctx: CoordinatorContext;

  constructor(ctx: CoordinatorContext) {
    this.ctx = ctx;
  }

  /** A table as readers see it (undefined while it is being created). */
  async table(path: TablePath): Promise<TableRegistration | undefined> {
    if (this.ctx.creating.has(tableKey(path.database, path.table))) return undefined;
    return this.ctx.store.getTable(path.database, path.table);
  }

  async tableById(tableId: bigint): Promise<TableRegistration | undefined> {
    if (this.ctx.creating.has(tableIdKey(tableId))) return undefined;
    return this.ctx.store.getTableById(tableId);
  }

  /** The table, or TABLE_NOT_EXIST. */
  async requireTable(path: TablePath): Promise<TableRegistration> {
    const reg = await this.table(path);
    if (!reg) throw tableNotExist(path);
    return reg;
  }

  /** The visible partitions of a table. */
  async partitions(tableId: bigint): Promise<PartitionRegistration[]> {
    return (await this.ctx.store.listPartitions(tableId)).filter(
      (p) => !this.ctx.creating.has(partitionIdKey(p.partitionId)),
    );
  }

  async listDatabases(): Promise<DatabaseRegistration[]> {
    return (await this.ctx.store.listDatabases()).sort((a, b) => a.name.localeCompare(b.name));
  }

  async getDatabase(name: string): Promise<DatabaseRegistration> {
    const db = await this.ctx.store.getDatabase(name);
    if (!db) throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${name}' does not exist`);
    return db;
  }

  async databaseExists(name: string): Promise<boolean> {
    return (await this.ctx.store.getDatabase(name)) !== undefined;
  }

  async listTables(database: string): Promise<string[]> {
    if (!(await this.ctx.store.getDatabase(database))) {
      throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${database}' does not exist`);
    }
    return (await this.ctx.store.listTables(database))
      .filter((t) => !this.ctx.creating.has(tableKey(t.database, t.table)))
      .map((t) => t.table)
      .sort();
  }

  async getTableInfo(path: TablePath): Promise<TableInfo> {
    return tableInfoOf(await this.requireTable(path));
  }

  async tableExists(path: TablePath): Promise<boolean> {
    return (await this.table(path)) !== undefined;
  }

  async getSchema(path: TablePath, schemaId?: number): Promise<{ schemaId: number; schema: Schema }> {
    const reg = await this.requireTable(path);
    const id = schemaId ?? reg.schemaId;
    const json = await this.ctx.store.getSchema(reg.tableId, id);
    if (json === undefined)
      throw new FlussError(Errors.SCHEMA_NOT_EXIST, `schema ${id} of table does not exist`);
    return { schemaId: id, schema: schemaFromJson(JSON.parse(json)) };
  }

  /** Routes of a table; `withPartitions: false` leaves out the partitions' (GetMetadata asks for them apart). */
  async getTableMetadata(path: TablePath, withPartitions = true): Promise<TableMetadata> {
    const reg = await this.requireTable(path);
    const partitions: PartitionMetadata[] = [];
    if (withPartitions)
      for (const p of await this.partitions(reg.tableId))
        partitions.push(await partitionMetadataOf(this.ctx, p));
    partitions.sort((a, b) => (a.partitionName < b.partitionName ? -1 : 1));
    return {
      info: tableInfoOf(reg),
      buckets: await bucketLocations(this.ctx, reg.tableId, null),
      partitions,
    };
  }

  /** Partitions of a table, by name; a partial spec keeps those whose given keys match. */
  async listPartitions(path: TablePath, partialSpec: PartitionSpec = {}): Promise<PartitionInfo[]> {
    const reg = await this.requireTable(path);
    const keys = requirePartitioned(tableInfoOf(reg));
    const out: PartitionInfo[] = [];
    for (const p of await this.partitions(reg.tableId)) {
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
        const p = this.ctx.creating.has(partitionIdKey(id))
          ? undefined
          : await this.ctx.store.getPartition(id);
        if (!p) throw new FlussError(Errors.PARTITION_NOT_EXISTS, `partition id ${id} does not exist`);
        out.push(await partitionMetadataOf(this.ctx, p));
      }
      return out;
    }
    const reg = await this.requireTable(sel.path);
    const info = tableInfoOf(reg);
    requirePartitioned(info);
    const all = await this.partitions(reg.tableId);
    for (const name of sel.names) {
      const p = all.find((x) => x.name === name);
      if (!p) throw partitionNotExists(info, name);
      out.push(await partitionMetadataOf(this.ctx, p));
    }
    return out;
  }
}
