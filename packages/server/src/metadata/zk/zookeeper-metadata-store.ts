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
// Reads go to ZooKeeper every time (no cache): a read sees what was durable when it ran.
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
import {
  counterPlace,
  decodeCounter,
  decodeDatabase,
  decodeLeaderAndIsr,
  decodePartition,
  decodePartitionAssignment,
  decodeTable,
  decodeTableAssignment,
  EMPTY_DATA,
  encodeCounter,
  encodeDatabase,
  encodeLeaderAndIsr,
  encodePartition,
  encodePartitionAssignment,
  encodeTable,
  encodeTableAssignment,
  Paths,
  type TableAssignmentNode,
  tableNeedsSchema,
} from "./zk-layout.ts";
import { leadershipOps } from "./zk-leadership.ts";
import { holds, storageError, ZkWriter, type ZkWriterOptions } from "./zk-writer.ts";
import { ZkCode, type ZkOp, ZooKeeperClient, type ZooKeeperClientOptions } from "./zookeeper-client.ts";

/** Compare-and-set rounds one nextId may take under contention before it gives up. */
const COUNTER_ATTEMPTS_MAX = 100;

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

export interface GarbageCollected {
  readonly tables: number;
  readonly partitions: number;
  readonly tableNodes: number;
}

const failWith =
  (codes: Partial<Record<number, FlussError>>) =>
  (code: number): FlussError | undefined =>
    codes[code];

export class ZooKeeperMetadataStore implements MetadataStore {
  readonly zk: ZooKeeperClient;
  private readonly writer: ZkWriter;
  private readonly logger: Logger;
  private readonly ownsClient: boolean;
  private readonly hooks: NonNullable<ZooKeeperMetadataStoreOptions["hooks"]>;
  /** In-process order of compare-and-set rounds per counter node (others still race by CAS). */
  private readonly counterChains = new Map<string, Promise<unknown>>();

  constructor(zk: ZooKeeperClient, o: ZooKeeperMetadataStoreOptions = {}) {
    this.zk = zk;
    this.logger = o.logger ?? silentLogger;
    this.writer = new ZkWriter(zk, this.logger, o);
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

  private async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw storageError(`read of ${what}`, err);
    }
  }

  /** Data of a node readers see (undefined when absent or empty). */
  private async visible(path: string): Promise<{ data: Buffer; version: number } | undefined> {
    const node = await this.zk.getData(path);
    if (node === undefined || node.data.length === 0) return undefined;
    return { data: node.data, version: node.stat.version };
  }

  // ---- databases -----------------------------------------------------------------------------

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

  private async readDatabase(name: string): Promise<DatabaseRegistration | undefined> {
    const node = await this.visible(Paths.database(name));
    return node === undefined ? undefined : decodeDatabase(name, node.data);
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

  // ---- tables --------------------------------------------------------------------------------

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

  private async readTable(database: string, table: string): Promise<TableRegistration | undefined> {
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
  private async tableIndex(
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

  // ---- partitions ----------------------------------------------------------------------------

  /** The visible assignment node of a partition of `tableId` (its table's visibility not checked). */
  private async partitionIndex(tableId: bigint, partitionId: bigint) {
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

  // ---- leadership ----------------------------------------------------------------------------

  /** Whether the table (and partition) owning a bucket is visible. */
  private async ownerVisible(tableId: bigint, partitionId: bigint | null): Promise<boolean> {
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

  /** Which bucket and leadership nodes of an owner exist. */
  private async existingBuckets(tableId: bigint, partitionId: bigint | null) {
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

  // ---- counters ------------------------------------------------------------------------------

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
    const previous = this.counterChains.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.casCounter(counter, path, parents, count));
    this.counterChains.set(path, next);
    try {
      return await next;
    } finally {
      if (this.counterChains.get(path) === next) this.counterChains.delete(path);
    }
  }

  private async casCounter(counter: string, path: string, parents: string[], count: number): Promise<bigint> {
    for (let attempt = 1; attempt <= COUNTER_ATTEMPTS_MAX; attempt++) {
      const node = await this.read(`counter ${counter}`, () => this.zk.getData(path));
      const first = node === undefined ? 1n : decodeCounter(node.data, counter);
      const data = encodeCounter(first + BigInt(count));
      const ops: ZkOp[] = [];
      if (node === undefined) {
        for (const parent of parents) {
          if ((await this.read(parent, () => this.zk.exists(parent))) === undefined) {
            ops.push({ kind: "create", path: parent, data: EMPTY_DATA });
          }
        }
        ops.push({ kind: "create", path, data });
      } else {
        ops.push({ kind: "set", path, data, version: node.stat.version });
      }
      const expectedVersion = node === undefined ? 0 : node.stat.version + 1;
      const raced = new FlussError(Errors.STORAGE_EXCEPTION, "raced");
      try {
        await this.writer.commit(
          `next id of ${counter}`,
          ops,
          async () => {
            const now = await this.zk.getData(path);
            return now !== undefined && now.stat.version === expectedVersion && now.data.equals(data);
          },
          failWith({ [ZkCode.BAD_VERSION]: raced, [ZkCode.NODE_EXISTS]: raced }),
        );
        return first;
      } catch (err) {
        if (err !== raced) throw err;
      }
    }
    throw new FlussError(
      Errors.STORAGE_EXCEPTION,
      `counter ${counter} is contended: no id after ${COUNTER_ATTEMPTS_MAX} tries`,
    );
  }

  // ---- garbage -------------------------------------------------------------------------------

  /**
   * Remove trees readers ignore: tables and partitions whose creation stopped before publishing or
   * whose drop stopped before the cleanup ended. Run by the active coordinator before it creates
   * anything (a creation in flight looks the same as garbage).
   */
  async collectGarbage(): Promise<GarbageCollected> {
    let tables = 0;
    let partitions = 0;
    let tableNodes = 0;
    for (const id of (await this.zk.getChildren(Paths.tableAssignments)) ?? []) {
      if ((await this.visible(Paths.tableAssignment(BigInt(id)))) !== undefined) continue;
      await this.writer.deleteTree("garbage", Paths.tableAssignment(BigInt(id)));
      tables++;
    }
    for (const id of (await this.zk.getChildren(Paths.partitionAssignments)) ?? []) {
      const node = await this.visible(Paths.partitionAssignment(BigInt(id)));
      if (node !== undefined) {
        const a = decodePartitionAssignment(BigInt(id), node.data);
        if ((await this.tableIndex(a.tableId)) !== undefined) continue;
      }
      await this.writer.deleteTree("garbage", Paths.partitionAssignment(BigInt(id)));
      partitions++;
    }
    for (const db of (await this.zk.getChildren(Paths.databases)) ?? []) {
      for (const t of (await this.zk.getChildren(Paths.tables(db))) ?? []) {
        if ((await this.visible(Paths.table(db, t))) !== undefined) continue;
        await this.writer.deleteTree("garbage", Paths.table(db, t));
        tableNodes++;
      }
    }
    if (tables + partitions + tableNodes > 0) {
      this.logger.info({ tables, partitions, tableNodes }, "removed half-written or half-dropped metadata");
    }
    return { tables, partitions, tableNodes };
  }
}
