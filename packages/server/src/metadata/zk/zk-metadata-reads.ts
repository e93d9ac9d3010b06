// The reading half of the ZooKeeper metadata store (zookeeper-metadata-store.ts holds the writes
// and the rules): every read goes to ZooKeeper and applies the visibility rules: a node with empty
// data is not there; a table is visible by its node, a table id by its assignment node, a
// partition by its node and its assignment (and its table), leadership by the assignment owning it.
// A ZooKeeper failure of a read is a retriable STORAGE_EXCEPTION.

import type {
  BucketAssignment,
  BucketKey,
  DatabaseRegistration,
  LeaderAndIsr,
  PartitionRegistration,
  TableRegistration,
} from "../metadata-store.ts";
import {
  decodeDatabase,
  decodeLeaderAndIsr,
  decodePartition,
  decodePartitionAssignment,
  decodeTable,
  decodeTableAssignment,
  Paths,
  type TableAssignmentNode,
  tableNeedsSchema,
} from "./zk-layout.ts";
import { storageError, visibleNode } from "./zk-writer.ts";
import type { ZooKeeperClient } from "./zookeeper-client.ts";

export class ZkMetadataReads {
  readonly zk: ZooKeeperClient;

  constructor(zk: ZooKeeperClient) {
    this.zk = zk;
  }

  protected async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw storageError(`read of ${what}`, err);
    }
  }

  /** Data of a node readers see (undefined when absent or empty). */
  protected visible(path: string): Promise<{ data: Buffer; version: number } | undefined> {
    return visibleNode(this.zk, path);
  }

  async listDatabases(): Promise<DatabaseRegistration[]> {
    return this.read("databases", async () => {
      const names = (await this.zk.getChildren(Paths.databases)) ?? [];
      const dbs = await Promise.all(names.sort().map((n) => this.readDatabase(n)));
      return dbs.filter((d) => d !== undefined);
    });
  }

  getDatabase(name: string): Promise<DatabaseRegistration | undefined> {
    return this.read(`database ${name}`, () => this.readDatabase(name));
  }

  protected async readDatabase(name: string): Promise<DatabaseRegistration | undefined> {
    const node = await this.visible(Paths.database(name));
    return node === undefined ? undefined : decodeDatabase(name, node.data);
  }

  async listTables(database: string): Promise<TableRegistration[]> {
    return this.read(`tables of ${database}`, async () => {
      const names = (await this.zk.getChildren(Paths.tables(database))) ?? [];
      const regs = await Promise.all(names.sort().map((t) => this.readTable(database, t)));
      return regs.filter((r) => r !== undefined);
    });
  }

  getTable(database: string, table: string): Promise<TableRegistration | undefined> {
    return this.read(`table ${database}.${table}`, () => this.readTable(database, table));
  }

  protected async readTable(database: string, table: string): Promise<TableRegistration | undefined> {
    const node = await this.visible(Paths.table(database, table));
    if (node === undefined) return undefined;
    const ids = ((await this.zk.getChildren(Paths.schemas(database, table))) ?? []).map(Number);
    const schemaId = ids.length === 0 ? 0 : Math.max(...ids);
    const schema = tableNeedsSchema(node.data)
      ? (await this.zk.getData(Paths.schema(database, table, schemaId)))?.data.toString("utf8")
      : undefined;
    return decodeTable(database, table, node.data, schemaId, () => schema);
  }

  /** The visible assignment node of a table id. */
  protected async tableIndex(
    tableId: bigint,
  ): Promise<(TableAssignmentNode & { version: number }) | undefined> {
    const node = await this.visible(Paths.tableAssignment(tableId));
    return node === undefined
      ? undefined
      : { ...decodeTableAssignment(tableId, node.data), version: node.version };
  }

  getTableById(tableId: bigint): Promise<TableRegistration | undefined> {
    return this.read(`table id ${tableId}`, async () => {
      const index = await this.tableIndex(tableId);
      if (index === undefined) return undefined;
      const reg = await this.readTable(index.database, index.table);
      return reg?.tableId === tableId ? reg : undefined;
    });
  }

  getSchema(tableId: bigint, schemaId: number): Promise<string | undefined> {
    return this.read(`schema ${schemaId} of table id ${tableId}`, async () => {
      const index = await this.tableIndex(tableId);
      if (index === undefined) return undefined;
      return (await this.zk.getData(Paths.schema(index.database, index.table, schemaId)))?.data.toString(
        "utf8",
      );
    });
  }

  getAssignment(tableId: bigint, partitionId: bigint | null): Promise<BucketAssignment[] | undefined> {
    return this.read(`assignment of table id ${tableId}`, async () => {
      const index = await this.tableIndex(tableId);
      if (index === undefined) return undefined;
      if (partitionId === null) return index.assignment;
      return (await this.partitionIndex(tableId, partitionId))?.assignment;
    });
  }

  /** The visible assignment node of a partition of `tableId` (its table's visibility not checked). */
  protected async partitionIndex(tableId: bigint, partitionId: bigint) {
    const node = await this.visible(Paths.partitionAssignment(partitionId));
    if (node === undefined) return undefined;
    const a = decodePartitionAssignment(partitionId, node.data);
    return a.tableId === tableId ? a : undefined;
  }

  listPartitions(tableId: bigint): Promise<PartitionRegistration[]> {
    return this.read(`partitions of table id ${tableId}`, async () => {
      const index = await this.tableIndex(tableId);
      if (index === undefined) return [];
      const names = (await this.zk.getChildren(Paths.partitions(index.database, index.table))) ?? [];
      const found = await Promise.all(
        names.map(async (name): Promise<PartitionRegistration | undefined> => {
          const node = await this.zk.getData(Paths.partition(index.database, index.table, name));
          if (node === undefined) return undefined;
          const p = decodePartition(node.data, `partition ${name}`);
          return { tableId, partitionId: p.partitionId, name, createdTime: p.createdTime };
        }),
      );
      return found.filter((p) => p !== undefined).sort((a, b) => (a.partitionId < b.partitionId ? -1 : 1));
    });
  }

  getPartition(partitionId: bigint): Promise<PartitionRegistration | undefined> {
    return this.read(`partition id ${partitionId}`, async () => {
      const node = await this.visible(Paths.partitionAssignment(partitionId));
      if (node === undefined) return undefined;
      const a = decodePartitionAssignment(partitionId, node.data);
      const index = await this.tableIndex(a.tableId);
      if (index === undefined) return undefined;
      const p = await this.zk.getData(Paths.partition(index.database, index.table, a.name));
      if (p === undefined) return undefined;
      const reg = decodePartition(p.data, `partition ${a.name}`);
      if (reg.partitionId !== partitionId) return undefined;
      return { tableId: a.tableId, partitionId, name: a.name, createdTime: reg.createdTime };
    });
  }

  /** Whether the table (and partition) owning a bucket is visible. */
  protected async ownerVisible(tableId: bigint, partitionId: bigint | null): Promise<boolean> {
    if ((await this.tableIndex(tableId)) === undefined) return false;
    return partitionId === null || (await this.partitionIndex(tableId, partitionId)) !== undefined;
  }

  getLeaderAndIsr(key: BucketKey): Promise<LeaderAndIsr | undefined> {
    return this.read(`leadership of ${key.tableId}/${key.partitionId}/${key.bucket}`, async () => {
      if (!(await this.ownerVisible(key.tableId, key.partitionId))) return undefined;
      const node = await this.zk.getData(Paths.leaderIsr(key.tableId, key.partitionId, key.bucket));
      return node === undefined ? undefined : decodeLeaderAndIsr(node.data, "leader_isr");
    });
  }

  /** Which bucket and leadership nodes of an owner exist. */
  protected async existingBuckets(tableId: bigint, partitionId: bigint | null) {
    const buckets = await this.zk.getChildren(Paths.buckets(tableId, partitionId));
    if (buckets === undefined) return { buckets: "absent" } as const;
    const withLeader = new Set<number>();
    await Promise.all(
      buckets.map(async (b) => {
        if ((await this.zk.exists(Paths.leaderIsr(tableId, partitionId, Number(b)))) !== undefined) {
          withLeader.add(Number(b));
        }
      }),
    );
    return { buckets: "present", bucketNodes: new Set(buckets.map(Number)), withLeader } as const;
  }
}
