// Which partition a row belongs to, for writers and lookups of a partitioned table: the partition
// name from the row's partition-key values (Fluss's text form of each value, joined by `$`) and the
// partition's id from the cluster. A missing partition is created on demand when allowed (the
// default, as Fluss's client.writer.dynamic-create-partition.enabled), else PARTITION_NOT_EXISTS.

import {
  type DataType,
  Errors,
  FlussError,
  isFlussError,
  type PartitionSpec,
  parsePartitionName,
  partitionNameOf,
  partitionValueOf,
  type TableInfo,
  validatePartitionValues,
} from "@fluss-ts/common";
import type { Admin } from "./admin.ts";
import type { MetadataCache } from "./metadata.ts";

/** Names cached per resolver; a writer to more distinct partitions refetches ids. */
const PARTITION_IDS_CACHED_MAX = 100_000;

export class PartitionResolver {
  private readonly info: TableInfo;
  private readonly metadata: MetadataCache;
  private readonly admin: Admin;
  private readonly createMissing: boolean;
  private readonly keys: ReadonlyArray<{ name: string; type: DataType }>;
  private readonly ids = new Map<string, bigint>();
  private readonly pending = new Map<string, Promise<bigint>>();

  constructor(info: TableInfo, metadata: MetadataCache, admin: Admin, createMissing: boolean) {
    this.info = info;
    this.metadata = metadata;
    this.admin = admin;
    this.createMissing = createMissing;
    const columns = info.descriptor.schema.columns;
    this.keys = info.descriptor.partitionKeys.map((k) => {
      const c = columns.find((col) => col.name === k);
      if (!c) throw new FlussError(Errors.INVALID_TABLE_EXCEPTION, `partition key '${k}' is not a column`);
      return { name: k, type: c.type };
    });
  }

  get partitioned(): boolean {
    return this.keys.length > 0;
  }

  /** The partition name of a row (SCHEMA_MISMATCH when a partition value is missing or bad). */
  nameOf(row: Readonly<Record<string, unknown>>): string {
    const values = this.keys.map((k) => partitionValueOf(k.name, k.type, row[k.name]));
    validatePartitionValues(values, this.createMissing);
    return partitionNameOf(values);
  }

  specOf(name: string): PartitionSpec {
    return parsePartitionName(
      this.keys.map((k) => k.name),
      name,
    );
  }

  /** The id of a partition: synchronous when known, else looked up (and created if allowed). */
  idOf(name: string): bigint | Promise<bigint> {
    const id = this.ids.get(name);
    if (id !== undefined) return id;
    let p = this.pending.get(name);
    if (!p) {
      p = this.resolve(name).finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    return p;
  }

  /** Forget a partition (after it was dropped); the next row for it resolves again. */
  forget(name: string): void {
    this.ids.delete(name);
  }

  private async resolve(name: string): Promise<bigint> {
    let id: bigint;
    try {
      id = (await this.metadata.partition(this.info, name, true)).partitionId;
    } catch (err) {
      if (!isFlussError(err) || !err.is(Errors.PARTITION_NOT_EXISTS)) throw err;
      if (!this.createMissing) {
        throw new FlussError(
          Errors.PARTITION_NOT_EXISTS,
          `partition '${name}' does not exist (create it first, or allow the writer to create partitions)`,
        );
      }
      await this.admin.createPartition(this.info.path, this.specOf(name), { ignoreIfExists: true });
      id = (await this.metadata.partition(this.info, name, true)).partitionId;
    }
    if (this.ids.size >= PARTITION_IDS_CACHED_MAX) this.ids.clear();
    this.ids.set(name, id);
    return id;
  }
}
