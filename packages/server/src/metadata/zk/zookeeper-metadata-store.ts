// The cluster's metadata store: MetadataStore on ZooKeeper, under Fluss's layout (zk-layout.ts),
// written through ZkWriter (fenced transactions, unknown outcomes resolved before answering).
// How each mutation stays atomic although a table's nodes can outgrow one ZooKeeper request:
//  - a node with empty data is not there for readers (Fluss's own rule for table nodes);
//  - creating a table or partition first writes its bucket and leadership nodes under an empty
//    assignment node (invisible, in as many transactions as they need), then publishes everything
//    in one small transaction: the table node (or partition node), its schema, and the assignment's
//    data. A failure before that leaves only invisible nodes;
//  - dropping one first hides it in one small transaction (table and assignment emptied, or the
//    partition node removed with its assignment emptied), then deletes the hidden trees;
//  - readers check visibility top-down: a table by its node; a table id by its assignment node; a
//    partition by its node and its assignment; leadership by the assignment that owns it.
// Hidden or half-written trees are removed by `collectGarbage`, which the active coordinator runs when
// it takes over (no creation of its own runs then), and by a create that meets one at its path.
// Reads (zk-metadata-reads.ts) go to ZooKeeper every time (no cache): a read sees what was durable
// when it ran.
// Counters are Curator DistributedAtomicLong nodes (8-byte values) updated by compare-and-set; the
// stored value is the next id to hand out (as Fluss's), the first is 1.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import type { Logger } from "../../logging.ts";
import { silentLogger } from "../../logging.ts";
import type {
  BucketAssignment,
  BucketKey,
  BucketLeader,
  DatabaseRegistration,
  LeaderAndIsr,
  MetadataStore,
  PartitionRegistration,
  TableRegistration,
} from "../metadata-store.ts";
import { LEADERSHIP_BATCH_MAX } from "../metadata-store.ts";
import { ZkCounters } from "./zk-counters.ts";
import { collectGarbage, type GarbageCollected } from "./zk-garbage.ts";
import {
  counterPlace,
  decodePartition,
  EMPTY_DATA,
  encodeDatabase,
  encodeLeaderAndIsr,
  encodePartition,
  encodePartitionAssignment,
  encodeTable,
  encodeTableAssignment,
  Paths,
} from "./zk-layout.ts";
import { leadershipOps } from "./zk-leadership.ts";
import { ZkMetadataReads } from "./zk-metadata-reads.ts";
import { failWith, holds, storageError, ZkWriter, type ZkWriterOptions } from "./zk-writer.ts";
import { ZkCode, type ZkOp, ZooKeeperClient, type ZooKeeperClientOptions } from "./zookeeper-client.ts";

export type { GarbageCollected } from "./zk-garbage.ts";

export interface ZooKeeperMetadataStoreOptions extends ZkWriterOptions {
  readonly logger?: Logger;
  /** Close the client with the store (set by `connect`). */
  readonly ownsClient?: boolean;
  /** Tests only: run between the two steps of a create (before publishing) and of a drop (after hiding). */
  readonly hooks?: {
    readonly beforePublish?: (what: string) => Promise<void>;
    readonly afterHide?: (what: string) => Promise<void>;
  };
}

export class ZooKeeperMetadataStore extends ZkMetadataReads implements MetadataStore {
  private readonly writer: ZkWriter;
  private readonly logger: Logger;
  private readonly ownsClient: boolean;
  private readonly hooks: NonNullable<ZooKeeperMetadataStoreOptions["hooks"]>;
  private readonly counters: ZkCounters;

  constructor(zk: ZooKeeperClient, o: ZooKeeperMetadataStoreOptions = {}) {
    super(zk);
    this.logger = o.logger ?? silentLogger;
    this.writer = new ZkWriter(zk, this.logger, o);
    this.counters = new ZkCounters(zk, this.writer);
    this.ownsClient = o.ownsClient ?? false;
    this.hooks = o.hooks ?? {};
  }

  /** A store on its own new session. */
  static async connect(
    client: ZooKeeperClientOptions,
    o: Omit<ZooKeeperMetadataStoreOptions, "ownsClient"> = {},
  ): Promise<ZooKeeperMetadataStore> {
    const zk = await ZooKeeperClient.connect({ ...client, logger: client.logger ?? o.logger });
    return new ZooKeeperMetadataStore(zk, { ...o, ownsClient: true });
  }

  /**
   * Fence every later write with the coordinator epoch node's version (from the election), or
   * null for unfenced writes (tests, tools).
   */
  fence(epochZkVersion: number | null): void {
    assert(
      epochZkVersion === null || (Number.isSafeInteger(epochZkVersion) && epochZkVersion >= 0),
      "a node version",
    );
    this.writer.fenceVersion = epochZkVersion;
  }

  /** Become the writer: fence with the new epoch, then remove what earlier writers left half done. */
  async takeOver(epochZkVersion: number): Promise<GarbageCollected> {
    this.fence(epochZkVersion);
    return this.collectGarbage();
  }

  async open(): Promise<void> {
    try {
      for (const p of [Paths.databases, Paths.tableAssignments, Paths.partitionAssignments])
        await this.zk.mkdirs(p);
    } catch (err) {
      throw storageError("open", err);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.zk.close();
  }

  async putDatabase(db: DatabaseRegistration): Promise<void> {
    const data = encodeDatabase(db);
    await this.writer.commit(
      `create database ${db.name}`,
      [
        { kind: "create", path: Paths.database(db.name), data },
        { kind: "create", path: Paths.tables(db.name), data: EMPTY_DATA },
      ],
      () => holds(this.zk, Paths.database(db.name), data),
      failWith({
        [ZkCode.NODE_EXISTS]: new FlussError(
          Errors.DATABASE_ALREADY_EXIST,
          `database '${db.name}' already exists`,
        ),
      }),
    );
  }

  async deleteDatabase(name: string): Promise<void> {
    const tables = await this.read(`tables of ${name}`, () => this.zk.getChildren(Paths.tables(name)));
    const dbNode = await this.read(`database ${name}`, () => this.zk.getData(Paths.database(name)));
    if (dbNode === undefined) return;
    for (const t of tables ?? []) {
      if ((await this.read(`table ${name}.${t}`, () => this.visible(Paths.table(name, t)))) !== undefined) {
        throw new FlussError(Errors.DATABASE_NOT_EMPTY, `database '${name}' still has table '${t}'`);
      }
      await this.writer.deleteTree(`remove hidden table ${name}.${t}`, Paths.table(name, t));
    }
    const ops: ZkOp[] = [];
    if (tables !== undefined) ops.push({ kind: "remove", path: Paths.tables(name), version: -1 });
    ops.push({ kind: "remove", path: Paths.database(name), version: -1 });
    await this.writer.commit(
      `drop database ${name}`,
      ops,
      async () => (await this.zk.exists(Paths.database(name))) === undefined,
      failWith({
        [ZkCode.NOT_EMPTY]: new FlussError(Errors.DATABASE_NOT_EMPTY, `database '${name}' is not empty`),
        [ZkCode.NO_NODE]: new FlussError(
          Errors.STORAGE_EXCEPTION,
          `database '${name}' changed while dropped`,
        ),
      }),
    );
  }

  async putTable(
    reg: TableRegistration,
    schemaJson: string,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void> {
    const name = `${reg.database}.${reg.table}`;
    const tablePath = Paths.table(reg.database, reg.table);
    const owner = Paths.tableAssignment(reg.tableId);
    const tablesExist = await this.read(`database ${reg.database}`, async () => {
      if ((await this.visible(Paths.database(reg.database))) === undefined) {
        throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${reg.database}' does not exist`);
      }
      return (await this.zk.exists(Paths.tables(reg.database))) !== undefined;
    });
    await this.clearHidden(tablePath, `table '${name}' already exists`, Errors.TABLE_ALREADY_EXIST);
    await this.clearHidden(owner, `table id ${reg.tableId} is in use`, Errors.TABLE_ALREADY_EXIST);
    // Invisible until the publishing transaction below fills the assignment node.
    await this.writer.commitChunks(`create table ${name}`, [
      { kind: "create", path: owner, data: EMPTY_DATA },
      ...leadershipOps(reg.tableId, null, assignment, leaders, { buckets: "absent" }),
    ]);
    await this.hooks.beforePublish?.(`create table ${name}`);
    const data = encodeTable(reg, schemaJson);
    const publish: ZkOp[] = [];
    if (!tablesExist) publish.push({ kind: "create", path: Paths.tables(reg.database), data: EMPTY_DATA });
    publish.push(
      { kind: "create", path: tablePath, data },
      { kind: "create", path: Paths.schemas(reg.database, reg.table), data: EMPTY_DATA },
      {
        kind: "create",
        path: Paths.schema(reg.database, reg.table, reg.schemaId),
        data: Buffer.from(schemaJson),
      },
      {
        kind: "set",
        path: owner,
        data: encodeTableAssignment(reg.database, reg.table, assignment),
        version: 0,
      },
    );
    try {
      await this.writer.commit(
        `create table ${name}`,
        publish,
        () => holds(this.zk, tablePath, data),
        failWith({
          [ZkCode.NODE_EXISTS]: new FlussError(Errors.TABLE_ALREADY_EXIST, `table '${name}' already exists`),
          [ZkCode.NO_NODE]: new FlussError(
            Errors.DATABASE_NOT_EXIST,
            `database '${reg.database}' does not exist`,
          ),
        }),
      );
    } catch (err) {
      if (!(await holds(this.zk, tablePath, data).catch(() => false))) {
        await this.writer.deleteTreeQuietly(`undo create table ${name}`, owner);
      }
      throw err;
    }
  }

  /** Remove a hidden tree at `path`; refuse with `kind` when a visible node is there. */
  private async clearHidden(path: string, message: string, kind: (typeof Errors)[keyof typeof Errors]) {
    const node = await this.read(path, () => this.zk.getData(path));
    if (node === undefined) return;
    if (node.data.length > 0) throw new FlussError(kind, message);
    await this.writer.deleteTree(`remove hidden ${path}`, path);
  }

  async deleteTable(database: string, table: string): Promise<void> {
    const tablePath = Paths.table(database, table);
    const reg = await this.getTable(database, table);
    if (reg === undefined) {
      await this.writer.deleteTreeQuietly(`remove hidden table ${database}.${table}`, tablePath);
      return;
    }
    const partitions = await this.listPartitions(reg.tableId);
    await this.writer.commit(
      `drop table ${database}.${table}`,
      [
        { kind: "set", path: tablePath, data: EMPTY_DATA, version: -1 },
        { kind: "set", path: Paths.tableAssignment(reg.tableId), data: EMPTY_DATA, version: -1 },
      ],
      async () => (await this.read(tablePath, () => this.visible(tablePath))) === undefined,
    );
    // Hidden now: the rest is cleanup, finished by collectGarbage if it stops half way.
    await this.hooks.afterHide?.(`drop table ${database}.${table}`);
    for (const p of partitions) {
      await this.writer.deleteTreeQuietly("drop table", Paths.partitionAssignment(p.partitionId));
    }
    await this.writer.deleteTreeQuietly("drop table", Paths.tableAssignment(reg.tableId));
    await this.writer.deleteTreeQuietly("drop table", tablePath);
  }

  async putPartition(
    p: PartitionRegistration,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void> {
    const index = await this.read(`table id ${p.tableId}`, () => this.tableIndex(p.tableId));
    if (index === undefined)
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${p.tableId} does not exist`);
    const what = `create partition ${p.name} of ${index.database}.${index.table}`;
    const partitionPath = Paths.partition(index.database, index.table, p.name);
    const owner = Paths.partitionAssignment(p.partitionId);
    const exists = new FlussError(Errors.PARTITION_ALREADY_EXISTS, `partition '${p.name}' already exists`);
    if ((await this.read(partitionPath, () => this.zk.exists(partitionPath))) !== undefined) throw exists;
    await this.clearHidden(owner, `partition id ${p.partitionId} is in use`, Errors.PARTITION_ALREADY_EXISTS);
    const containerExists = await this.read(partitionPath, () =>
      this.zk.exists(Paths.partitions(index.database, index.table)),
    );
    await this.writer.commitChunks(what, [
      { kind: "create", path: owner, data: EMPTY_DATA },
      ...leadershipOps(p.tableId, p.partitionId, assignment, leaders, { buckets: "absent" }),
    ]);
    await this.hooks.beforePublish?.(what);
    const data = encodePartition(p.tableId, p.partitionId, p.createdTime);
    const publish: ZkOp[] = [
      { kind: "check", path: Paths.tableAssignment(p.tableId), version: index.version },
    ];
    if (containerExists === undefined) {
      publish.push({ kind: "create", path: Paths.partitions(index.database, index.table), data: EMPTY_DATA });
    }
    publish.push(
      { kind: "create", path: partitionPath, data },
      {
        kind: "set",
        path: owner,
        data: encodePartitionAssignment(p.tableId, p.name, assignment),
        version: 0,
      },
    );
    try {
      await this.writer.commit(
        what,
        publish,
        () => holds(this.zk, partitionPath, data),
        failWith({
          [ZkCode.NODE_EXISTS]: exists,
          [ZkCode.BAD_VERSION]: new FlussError(Errors.TABLE_NOT_EXIST, `table id ${p.tableId} was dropped`),
        }),
      );
    } catch (err) {
      if (!(await holds(this.zk, partitionPath, data).catch(() => false))) {
        await this.writer.deleteTreeQuietly(`undo ${what}`, owner);
      }
      throw err;
    }
  }

  async deletePartition(tableId: bigint, partitionId: bigint): Promise<void> {
    const owner = Paths.partitionAssignment(partitionId);
    const a = await this.read(`partition id ${partitionId}`, () => this.partitionIndex(tableId, partitionId));
    if (a === undefined) return;
    const index = await this.read(`table id ${tableId}`, () => this.tableIndex(tableId));
    const ops: ZkOp[] = [];
    let partitionPath: string | undefined;
    if (index !== undefined) {
      partitionPath = Paths.partition(index.database, index.table, a.name);
      const node = await this.read(partitionPath, () => this.zk.getData(partitionPath!));
      if (node !== undefined && decodePartition(node.data, a.name).partitionId === partitionId) {
        ops.push({ kind: "remove", path: partitionPath, version: node.stat.version });
      }
    }
    ops.push({ kind: "set", path: owner, data: EMPTY_DATA, version: -1 });
    await this.writer.commit(`drop partition ${a.name}`, ops, async () => {
      return (await this.read(owner, () => this.visible(owner))) === undefined;
    });
    await this.hooks.afterHide?.(`drop partition ${a.name}`);
    await this.writer.deleteTreeQuietly(`drop partition ${a.name}`, owner);
  }

  async putLeaderAndIsr(entries: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>): Promise<void> {
    for (let i = 0; i < entries.length; i += LEADERSHIP_BATCH_MAX) {
      await this.putLeadershipBatch(entries.slice(i, i + LEADERSHIP_BATCH_MAX));
    }
  }

  private async putLeadershipBatch(
    entries: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>,
  ): Promise<void> {
    const byOwner = new Map<string, Array<readonly [BucketKey, LeaderAndIsr]>>();
    for (const e of entries) {
      const k = `${e[0].tableId}/${e[0].partitionId ?? "-"}`;
      byOwner.set(k, [...(byOwner.get(k) ?? []), e]);
    }
    const ops: ZkOp[] = [];
    for (const group of byOwner.values()) {
      const { tableId, partitionId } = group[0]![0];
      if (!(await this.read("leadership owner", () => this.ownerVisible(tableId, partitionId)))) {
        throw partitionId === null
          ? new FlussError(Errors.TABLE_NOT_EXIST, `table id ${tableId} does not exist`)
          : new FlussError(Errors.PARTITION_NOT_EXISTS, `partition id ${partitionId} does not exist`);
      }
      const existing = await this.read("leadership", () => this.existingBuckets(tableId, partitionId));
      const leaders = group.map(([k, l]) => [k.bucket, l] as const);
      ops.push(...leadershipOps(tableId, partitionId, [], leaders, existing));
    }
    const expected = entries.map(
      ([k, l]) => [Paths.leaderIsr(k.tableId, k.partitionId, k.bucket), encodeLeaderAndIsr(l)] as const,
    );
    await this.writer.commit(`record leadership of ${entries.length} buckets`, ops, async () => {
      for (const [path, data] of expected) if (!(await holds(this.zk, path, data))) return false;
      return true;
    });
  }

  async nextId(counter: string, count = 1): Promise<bigint> {
    assert(Number.isSafeInteger(count) && count >= 1, "an id reservation takes at least one id");
    const place = counterPlace(counter);
    let path: string;
    const parents: string[] = [];
    if (place.kind === "node") {
      path = place.path;
      parents.push(path.slice(0, path.lastIndexOf("/")));
    } else {
      const index = await this.read(`table id ${place.tableId}`, () => this.tableIndex(place.tableId));
      if (index === undefined)
        throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${place.tableId} does not exist`);
      path = Paths.autoIncrement(index.database, index.table, place.column);
      parents.push(Paths.autoIncrements(index.database, index.table));
    }
    return this.counters.next(counter, path, parents, count);
  }

  /**
   * Remove trees readers ignore: tables and partitions whose creation stopped before publishing or
   * whose drop stopped before the cleanup ended. Run by the active coordinator before it creates
   * anything (a creation in flight looks the same as garbage).
   */
  collectGarbage(): Promise<GarbageCollected> {
    return collectGarbage(this.zk, this.writer, this.logger);
  }
}
