// The embedded cluster's metadata store: one entry per database, table, schema, assignment,
// partition, leadership record and counter in an lmdb environment under `<dir>/metadata/`.
// Each mutation is one lmdb write transaction committed synchronously with fdatasync before the
// call returns (no write map, no overlapping sync: a commit is durable when it returns), so:
//  - a mutation is visible only once durable: reads go to lmdb, there is no in-memory copy;
//  - a failed commit (a full disk) changes nothing and leaves the store usable;
//  - a mutation rewrites only the B-tree pages on its keys' paths: creating a table costs the same
//    at 10,000 tables as at 10 (a logarithm, not a rewrite of everything).
// On a full disk a failed write releases a reserved file (reserved-space.ts) and is tried once more,
// so a drop — which then frees the table's data — still goes through.
// Keys are UTF-8 strings of NUL-separated parts (names never contain NUL; ids are 20-digit decimals
// so they sort numerically); values are JSON (ids as decimal strings). Layout:
//   f                                   format marker
//   c<NUL>name                          counter (decimal)
//   d<NUL>db                            DatabaseRegistration
//   t<NUL>db<NUL>table                  table registration       ti<NUL>id -> [db, table]
//   s<NUL>id<NUL>schemaId               schema JSON
//   a<NUL>id<NUL>partitionId|-          bucket assignment
//   p<NUL>id<NUL>partitionId            partition registration   pi<NUL>partitionId -> table id
//   l<NUL>id<NUL>partitionId|-<NUL>bucket   LeaderAndIsr
// A data directory from before this store (`metadata.json`) is migrated at the first open: its
// entries are written in one transaction, then the file is renamed `metadata.json.migrated`.

import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { assert, Errors, FlussError, isAssertionError, isFlussError } from "@fluss-ts/common";
import { isDiskFull } from "@fluss-ts/storage";
import { open, type RootDatabase } from "lmdb";
import {
  LEGACY_FILE_NAME,
  LEGACY_MIGRATED_FILE_NAME,
  type LegacyDocument,
  readLegacyDocument,
} from "./legacy-json-document.ts";
import type {
  BucketAssignment,
  BucketKey,
  BucketLeader,
  DatabaseRegistration,
  LeaderAndIsr,
  MetadataStore,
  PartitionRegistration,
  TableRegistration,
} from "./metadata-store.ts";
import { ReservedSpace } from "./reserved-space.ts";

const FORMAT = "fluss-ts-metadata lmdb 1";
const STORE_DIR_NAME = "metadata";
const RESERVE_FILE_NAME = "metadata.reserve";
/** Space held back for metadata writes on a full disk (a drop touches a few pages). */
export const RESERVED_BYTES_DEFAULT = 1024 * 1024;
const SEP = "\u0000";
const ID_DIGITS = 20;
const BUCKET_DIGITS = 10;
/** Entries one prefix scan may visit: far beyond any table's partitions × buckets. */
const SCAN_ENTRIES_MAX = 10_000_000;

export interface LocalMetadataStoreOptions {
  /** Bytes kept in a reserve file for writes on a full disk (default 1 MiB; 0 keeps none). */
  readonly reservedBytes?: number;
  /**
   * Tests only: called inside every write transaction just before it commits, with the operation's
   * name; throwing fails the write (as a failed commit would).
   */
  readonly beforeCommit?: (op: string) => void;
}

type Db = RootDatabase<string, Uint8Array>;

/** What a write transaction may do. */
interface Tx {
  put(key: Uint8Array, value: string): void;
  remove(key: Uint8Array): void;
  /** Remove every key in `range`; returns the values removed. */
  removeRange(range: KeyRange): string[];
}

function key(...parts: string[]): Uint8Array {
  for (const p of parts) assert(!p.includes(SEP), "metadata key parts never contain NUL");
  return Buffer.from(parts.join(SEP), "utf8");
}

interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

/** Keys strictly under `parts` (those continuing with a separator). */
function under(...parts: string[]): KeyRange {
  const p = parts.join(SEP);
  return { start: Buffer.from(p + SEP, "utf8"), end: Buffer.from(`${p}\u0001`, "utf8") };
}

function id(n: bigint): string {
  assert(n >= 0n, "metadata ids are not negative");
  return n.toString().padStart(ID_DIGITS, "0");
}

function pid(partitionId: bigint | null): string {
  return partitionId === null ? "-" : id(partitionId);
}

function bucketPart(bucket: number): string {
  assert(Number.isSafeInteger(bucket) && bucket >= 0, "bucket numbers are not negative");
  return String(bucket).padStart(BUCKET_DIGITS, "0");
}

interface TableRecord extends Omit<TableRegistration, "tableId"> {
  readonly tableId: string;
}

function tableRecord(reg: TableRegistration): string {
  return JSON.stringify({ ...reg, tableId: reg.tableId.toString() } satisfies TableRecord);
}

function tableOf(json: string): TableRegistration {
  const r = JSON.parse(json) as TableRecord;
  return { ...r, tableId: BigInt(r.tableId) };
}

interface PartitionRecord {
  readonly name: string;
  readonly createdTime: number;
}

function storeError(action: string, dir: string, err: unknown): FlussError {
  if (isAssertionError(err)) throw err; // a bug, not a storage failure: crash
  if (isFlussError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const what = isDiskFull(err) ? "the disk is full" : reason;
  return new FlussError(Errors.STORAGE_EXCEPTION, `metadata ${action} in ${dir} failed: ${what}`, {
    cause: err,
  });
}

export class LocalMetadataStore implements MetadataStore {
  readonly dir: string;
  private readonly options: LocalMetadataStoreOptions;
  private readonly reserve: ReservedSpace;
  private db: Db | null = null;
  private readonly counters = { commits: 0, failedCommits: 0, reserveReleases: 0 };

  constructor(dir: string, options: LocalMetadataStoreOptions = {}) {
    this.dir = dir;
    this.options = options;
    const reservedBytes = options.reservedBytes ?? RESERVED_BYTES_DEFAULT;
    assert(Number.isSafeInteger(reservedBytes) && reservedBytes >= 0, "reserved bytes are a size");
    this.reserve = new ReservedSpace(join(dir, RESERVE_FILE_NAME), reservedBytes);
  }

  /** Commits, failed commits, and times the reserve was released for a write on a full disk. */
  stats(): { commits: number; failedCommits: number; reserveReleases: number; reservePresent: boolean } {
    return { ...this.counters, reservePresent: this.reserve.isPresent };
  }

  async open(): Promise<void> {
    if (this.db !== null) return;
    try {
      mkdirSync(join(this.dir, STORE_DIR_NAME), { recursive: true });
      this.db = open<string, Uint8Array>({
        path: join(this.dir, STORE_DIR_NAME),
        keyEncoding: "binary",
        encoding: "string",
        // Durable at return: fdatasync in the commit, never a write map (a full disk would SIGBUS).
        noSync: false,
        overlappingSync: false,
        useWritemap: false,
        cache: false,
      });
    } catch (err) {
      throw storeError("open", this.dir, err);
    }
    try {
      this.checkFormatOrMigrate();
    } catch (err) {
      await this.close();
      throw err;
    }
    this.reserve.ensure(); // best effort: a full disk may have no room for it yet
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    await db?.close();
  }

  private opened(): Db {
    if (this.db === null)
      throw new FlussError(Errors.STORAGE_EXCEPTION, `metadata store ${this.dir} is closed`);
    return this.db;
  }

  /** A new store gets the format marker; a legacy JSON document is migrated into it first. */
  private checkFormatOrMigrate(): void {
    const db = this.opened();
    const legacyFile = join(this.dir, LEGACY_FILE_NAME);
    const format = this.read(() => db.get(key("f")));
    if (format !== undefined && format !== FORMAT) {
      throw new FlussError(Errors.STORAGE_EXCEPTION, `metadata store ${this.dir} has format '${format}'`);
    }
    if (format === undefined) {
      const legacy = readLegacyDocument(legacyFile);
      this.write("migrate", (tx) => {
        if (legacy !== null) writeLegacy(tx, legacy);
        tx.put(key("f"), FORMAT);
      });
      if (legacy === null) return;
    } else if (readLegacyDocument(legacyFile) === null) {
      return;
    }
    // Migrated (now, or before a crash that came ahead of this rename): keep the old file aside.
    try {
      renameSync(legacyFile, join(this.dir, LEGACY_MIGRATED_FILE_NAME));
    } catch (err) {
      throw storeError("migration", this.dir, err);
    }
  }

  private read<T>(get: () => T): T {
    try {
      return get();
    } catch (err) {
      throw storeError("read", this.dir, err);
    }
  }

  private get(k: Uint8Array): string | undefined {
    const db = this.opened();
    return this.read(() => db.get(k));
  }

  private values(range: KeyRange & { limit?: number }): string[] {
    const db = this.opened();
    return this.read(() => {
      const out: string[] = [];
      for (const { value } of db.getRange({ ...range, limit: range.limit ?? SCAN_ENTRIES_MAX }))
        out.push(value);
      return out;
    });
  }

  /**
   * Run `mutate` in one write transaction committed durably. On a full disk the reserve is released
   * and the transaction tried once more. Either it committed, or nothing changed and this throws.
   */
  private write(op: string, mutate: (tx: Tx) => void): void {
    const db = this.opened();
    const tx: Tx = {
      put: (k, v) => {
        void db.put(k, v); // inside transactionSync: applied now, committed with the transaction
      },
      remove: (k) => {
        void db.remove(k);
      },
      removeRange: (range) => {
        const removed: string[] = [];
        for (const { key: k, value } of db.getRange({ ...range, limit: SCAN_ENTRIES_MAX })) {
          removed.push(value);
          void db.remove(k);
        }
        return removed;
      },
    };
    const attempt = (): void => {
      db.transactionSync(() => {
        mutate(tx);
        this.options.beforeCommit?.(op);
      });
    };
    try {
      attempt();
    } catch (err) {
      this.counters.failedCommits++;
      if (!isDiskFull(err) || !this.reserve.release()) throw storeError(op, this.dir, err);
      this.counters.reserveReleases++;
      try {
        attempt();
      } catch (again) {
        this.counters.failedCommits++;
        throw storeError(op, this.dir, again);
      }
    }
    this.counters.commits++;
    this.reserve.ensure(); // taken back once there is room again
  }

  // ---- databases ---------------------------------------------------------------------------

  async listDatabases(): Promise<DatabaseRegistration[]> {
    return this.values(under("d")).map((v) => JSON.parse(v) as DatabaseRegistration);
  }

  async getDatabase(name: string): Promise<DatabaseRegistration | undefined> {
    const v = this.get(key("d", name));
    return v === undefined ? undefined : (JSON.parse(v) as DatabaseRegistration);
  }

  async putDatabase(db: DatabaseRegistration): Promise<void> {
    if (this.get(key("d", db.name)) !== undefined) {
      throw new FlussError(Errors.DATABASE_ALREADY_EXIST, `database '${db.name}' already exists`);
    }
    this.write("put database", (tx) => tx.put(key("d", db.name), JSON.stringify(db)));
  }

  async deleteDatabase(name: string): Promise<void> {
    const [table] = this.values({ ...under("t", name), limit: 1 });
    if (table !== undefined) {
      throw new FlussError(
        Errors.DATABASE_NOT_EMPTY,
        `database '${name}' still has table '${tableOf(table).table}'`,
      );
    }
    this.write("delete database", (tx) => tx.remove(key("d", name)));
  }

  // ---- tables ------------------------------------------------------------------------------

  async listTables(database: string): Promise<TableRegistration[]> {
    return this.values(under("t", database)).map(tableOf);
  }

  async getTable(database: string, table: string): Promise<TableRegistration | undefined> {
    const v = this.get(key("t", database, table));
    return v === undefined ? undefined : tableOf(v);
  }

  async getTableById(tableId: bigint): Promise<TableRegistration | undefined> {
    const path = this.get(key("ti", id(tableId)));
    if (path === undefined) return undefined;
    const [database, table] = JSON.parse(path) as [string, string];
    return this.getTable(database, table);
  }

  async putTable(
    reg: TableRegistration,
    schemaJson: string,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void> {
    if (this.get(key("d", reg.database)) === undefined) {
      throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${reg.database}' does not exist`);
    }
    if (this.get(key("t", reg.database, reg.table)) !== undefined) {
      throw new FlussError(Errors.TABLE_ALREADY_EXIST, `table '${reg.database}.${reg.table}' already exists`);
    }
    if (this.get(key("ti", id(reg.tableId))) !== undefined) {
      throw new FlussError(Errors.TABLE_ALREADY_EXIST, `table id ${reg.tableId} is in use`);
    }
    this.write("put table", (tx) => {
      const t = id(reg.tableId);
      tx.put(key("t", reg.database, reg.table), tableRecord(reg));
      tx.put(key("ti", t), JSON.stringify([reg.database, reg.table]));
      tx.put(key("s", t, String(reg.schemaId).padStart(BUCKET_DIGITS, "0")), schemaJson);
      tx.put(key("a", t, "-"), JSON.stringify(assignment));
      for (const [bucket, lai] of leaders) tx.put(key("l", t, "-", bucketPart(bucket)), JSON.stringify(lai));
    });
  }

  async deleteTable(database: string, table: string): Promise<void> {
    const reg = await this.getTable(database, table);
    if (reg === undefined) return;
    this.write("delete table", (tx) => {
      const t = id(reg.tableId);
      tx.remove(key("t", database, table));
      tx.remove(key("ti", t));
      for (const p of ["s", "a", "l"]) tx.removeRange(under(p, t));
      for (const partition of tx.removeRange(under("p", t))) {
        tx.remove(key("pi", id(BigInt((JSON.parse(partition) as { partitionId: string }).partitionId))));
      }
    });
  }

  async getSchema(tableId: bigint, schemaId: number): Promise<string | undefined> {
    return this.get(key("s", id(tableId), String(schemaId).padStart(BUCKET_DIGITS, "0")));
  }

  async getAssignment(tableId: bigint, partitionId: bigint | null): Promise<BucketAssignment[] | undefined> {
    const v = this.get(key("a", id(tableId), pid(partitionId)));
    return v === undefined ? undefined : (JSON.parse(v) as BucketAssignment[]);
  }

  // ---- partitions --------------------------------------------------------------------------

  async listPartitions(tableId: bigint): Promise<PartitionRegistration[]> {
    return this.values(under("p", id(tableId))).map((v) => partitionOf(tableId, v));
  }

  async getPartition(partitionId: bigint): Promise<PartitionRegistration | undefined> {
    const tableId = this.get(key("pi", id(partitionId)));
    if (tableId === undefined) return undefined;
    const v = this.get(key("p", tableId, id(partitionId)));
    return v === undefined ? undefined : partitionOf(BigInt(tableId), v);
  }

  async putPartition(
    p: PartitionRegistration,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void> {
    if ((await this.getTableById(p.tableId)) === undefined)
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${p.tableId} does not exist`);
    const taken =
      this.get(key("pi", id(p.partitionId))) !== undefined ||
      (await this.listPartitions(p.tableId)).some((x) => x.name === p.name);
    if (taken) throw new FlussError(Errors.PARTITION_ALREADY_EXISTS, `partition '${p.name}' already exists`);
    this.write("put partition", (tx) => writePartition(tx, p, assignment, leaders));
  }

  async deletePartition(tableId: bigint, partitionId: bigint): Promise<void> {
    this.write("delete partition", (tx) => {
      const t = id(tableId);
      tx.remove(key("p", t, id(partitionId)));
      tx.remove(key("pi", id(partitionId)));
      tx.remove(key("a", t, id(partitionId)));
      tx.removeRange(under("l", t, id(partitionId)));
    });
  }

  // ---- leadership and counters -------------------------------------------------------------

  async getLeaderAndIsr(k: BucketKey): Promise<LeaderAndIsr | undefined> {
    const v = this.get(key("l", id(k.tableId), pid(k.partitionId), bucketPart(k.bucket)));
    return v === undefined ? undefined : (JSON.parse(v) as LeaderAndIsr);
  }

  async putLeaderAndIsr(entries: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>): Promise<void> {
    for (const [k] of entries) {
      if (this.get(key("ti", id(k.tableId))) === undefined) {
        throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${k.tableId} does not exist`);
      }
      const owner = k.partitionId === null ? undefined : this.get(key("pi", id(k.partitionId)));
      if (k.partitionId !== null && owner !== id(k.tableId)) {
        throw new FlussError(Errors.PARTITION_NOT_EXISTS, `partition id ${k.partitionId} does not exist`);
      }
    }
    this.write("put leadership", (tx) => {
      for (const [k, lai] of entries) {
        tx.put(key("l", id(k.tableId), pid(k.partitionId), bucketPart(k.bucket)), JSON.stringify(lai));
      }
    });
  }

  async nextId(counter: string, count = 1): Promise<bigint> {
    assert(Number.isSafeInteger(count) && count >= 1, "an id reservation takes at least one id");
    const autoIncrement = /^auto-increment\/(\d+)\//.exec(counter);
    if (autoIncrement !== null && this.get(key("ti", id(BigInt(autoIncrement[1]!)))) === undefined) {
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${autoIncrement[1]} does not exist`);
    }
    let first = 0n;
    this.write("next id", (tx) => {
      const current = this.get(key("c", counter));
      first = (current === undefined ? 0n : BigInt(current)) + 1n;
      tx.put(key("c", counter), (first + BigInt(count) - 1n).toString());
    });
    return first;
  }
}

function partitionOf(tableId: bigint, json: string): PartitionRegistration {
  const r = JSON.parse(json) as PartitionRecord & { partitionId: string };
  return { tableId, partitionId: BigInt(r.partitionId), name: r.name, createdTime: r.createdTime };
}

function writePartition(
  tx: Tx,
  p: PartitionRegistration,
  assignment: readonly BucketAssignment[],
  leaders: readonly BucketLeader[],
): void {
  const t = id(p.tableId);
  const record = { partitionId: p.partitionId.toString(), name: p.name, createdTime: p.createdTime };
  tx.put(key("p", t, id(p.partitionId)), JSON.stringify(record));
  tx.put(key("pi", id(p.partitionId)), t);
  tx.put(key("a", t, id(p.partitionId)), JSON.stringify(assignment));
  for (const [bucket, lai] of leaders) {
    tx.put(key("l", t, id(p.partitionId), bucketPart(bucket)), JSON.stringify(lai));
  }
}

/** Every entry of a legacy JSON document, as this store keeps them. */
function writeLegacy(tx: Tx, doc: LegacyDocument): void {
  for (const [name, value] of doc.counters) tx.put(key("c", name), value.toString());
  for (const db of doc.databases) tx.put(key("d", db.name), JSON.stringify(db));
  for (const table of doc.tables) {
    const t = id(table.reg.tableId);
    tx.put(key("t", table.reg.database, table.reg.table), tableRecord(table.reg));
    tx.put(key("ti", t), JSON.stringify([table.reg.database, table.reg.table]));
    for (const [schemaId, json] of table.schemas)
      tx.put(key("s", t, String(schemaId).padStart(BUCKET_DIGITS, "0")), json);
    tx.put(key("a", t, "-"), JSON.stringify(table.assignment));
    for (const p of table.partitions) writePartition(tx, p.reg, p.assignment, []);
  }
  for (const [k, lai] of doc.leaders) {
    tx.put(key("l", id(k.tableId), pid(k.partitionId), bucketPart(k.bucket)), JSON.stringify(lai));
  }
}
