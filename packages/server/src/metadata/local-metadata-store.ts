// The embedded cluster's metadata store: all metadata in memory, persisted as one JSON document
// under `<dir>/metadata.json`, replaced atomically (write temp, fsync, rename, fsync dir) on every
// mutation. Metadata is small (thousands of tables at most) and changes rarely, so rewriting the
// whole document keeps the format obvious and crash-safe: after a crash the file is either the old
// or the new document, never a mix.

import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";
import type {
  BucketAssignment,
  BucketKey,
  DatabaseRegistration,
  LeaderAndIsr,
  MetadataStore,
  PartitionRegistration,
  TableRegistration,
} from "./metadata-store.ts";

const FORMAT_VERSION = 1;

interface TableEntry {
  reg: TableRegistration;
  schemas: Map<number, string>;
  assignment: BucketAssignment[];
  partitions: Map<bigint, { reg: PartitionRegistration; assignment: BucketAssignment[] }>;
}

interface Doc {
  version: number;
  counters: Record<string, string>;
  databases: DatabaseRegistration[];
  tables: Array<{
    reg: Omit<TableRegistration, "tableId"> & { tableId: string };
    schemas: Array<[number, string]>;
    assignment: BucketAssignment[];
    partitions: Array<{
      reg: Omit<PartitionRegistration, "tableId" | "partitionId"> & { partitionId: string };
      assignment: BucketAssignment[];
    }>;
  }>;
  leaders: Array<[string, LeaderAndIsr]>;
}

function bucketKeyString(k: BucketKey): string {
  return `${k.tableId}/${k.partitionId ?? "-"}/${k.bucket}`;
}

export class LocalMetadataStore implements MetadataStore {
  readonly dir: string;
  private readonly databases = new Map<string, DatabaseRegistration>();
  private readonly tables = new Map<string, TableEntry>();
  private readonly tablesById = new Map<bigint, TableEntry>();
  /** Partition id → owning table (an index over `tables`). */
  private readonly partitionTables = new Map<bigint, TableEntry>();
  private readonly leaders = new Map<string, LeaderAndIsr>();
  private readonly counters = new Map<string, bigint>();
  private writing: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.dir = dir;
  }

  private get file(): string {
    return join(this.dir, "metadata.json");
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    let doc: Doc;
    try {
      doc = JSON.parse(text) as Doc;
    } catch (err) {
      throw new FlussError(
        Errors.STORAGE_EXCEPTION,
        `metadata file ${this.file} is corrupt: ${(err as Error).message}`,
      );
    }
    if (doc.version !== FORMAT_VERSION) {
      throw new FlussError(Errors.STORAGE_EXCEPTION, `metadata file version ${doc.version} is not supported`);
    }
    this.load(doc);
  }

  private load(doc: Doc): void {
    for (const [k, v] of Object.entries(doc.counters)) this.counters.set(k, BigInt(v));
    for (const db of doc.databases) this.databases.set(db.name, db);
    for (const t of doc.tables) {
      const tableId = BigInt(t.reg.tableId);
      const entry: TableEntry = {
        reg: { ...t.reg, tableId },
        schemas: new Map(t.schemas),
        assignment: t.assignment,
        partitions: new Map(),
      };
      for (const p of t.partitions) {
        const partitionId = BigInt(p.reg.partitionId);
        entry.partitions.set(partitionId, {
          reg: { ...p.reg, tableId, partitionId },
          assignment: p.assignment,
        });
        this.partitionTables.set(partitionId, entry);
      }
      this.tables.set(`${t.reg.database}.${t.reg.table}`, entry);
      this.tablesById.set(tableId, entry);
    }
    for (const [k, v] of doc.leaders) this.leaders.set(k, v);
  }

  private snapshot(): Doc {
    return {
      version: FORMAT_VERSION,
      counters: Object.fromEntries([...this.counters].map(([k, v]) => [k, v.toString()])),
      databases: [...this.databases.values()],
      tables: [...this.tables.values()].map((e) => ({
        reg: { ...e.reg, tableId: e.reg.tableId.toString() },
        schemas: [...e.schemas],
        assignment: e.assignment,
        partitions: [...e.partitions.values()].map((p) => ({
          reg: {
            name: p.reg.name,
            createdTime: p.reg.createdTime,
            partitionId: p.reg.partitionId.toString(),
          },
          assignment: p.assignment,
        })),
      })),
      leaders: [...this.leaders],
    };
  }

  /** Persist the current state; writes are chained so the file always ends at the newest state. */
  private persist(): Promise<void> {
    const text = JSON.stringify(this.snapshot());
    this.writing = this.writing.then(() => this.writeAtomically(text));
    return this.writing;
  }

  private async writeAtomically(text: string): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const dh = await open(this.dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async close(): Promise<void> {
    await this.writing;
  }

  async listDatabases(): Promise<DatabaseRegistration[]> {
    return [...this.databases.values()];
  }

  async getDatabase(name: string): Promise<DatabaseRegistration | undefined> {
    return this.databases.get(name);
  }

  async putDatabase(db: DatabaseRegistration): Promise<void> {
    this.databases.set(db.name, db);
    await this.persist();
  }

  async deleteDatabase(name: string): Promise<void> {
    this.databases.delete(name);
    await this.persist();
  }

  async listTables(database: string): Promise<TableRegistration[]> {
    return [...this.tables.values()].filter((e) => e.reg.database === database).map((e) => e.reg);
  }

  async getTable(database: string, table: string): Promise<TableRegistration | undefined> {
    return this.tables.get(`${database}.${table}`)?.reg;
  }

  async getTableById(tableId: bigint): Promise<TableRegistration | undefined> {
    return this.tablesById.get(tableId)?.reg;
  }

  async putTable(
    reg: TableRegistration,
    schemaJson: string,
    assignment: readonly BucketAssignment[],
  ): Promise<void> {
    const key = `${reg.database}.${reg.table}`;
    const prev = this.tables.get(key);
    const entry: TableEntry = prev ?? {
      reg,
      schemas: new Map(),
      assignment: [...assignment],
      partitions: new Map(),
    };
    entry.reg = reg;
    entry.schemas.set(reg.schemaId, schemaJson);
    entry.assignment = [...assignment];
    this.tables.set(key, entry);
    this.tablesById.set(reg.tableId, entry);
    await this.persist();
  }

  async deleteTable(database: string, table: string): Promise<void> {
    const key = `${database}.${table}`;
    const entry = this.tables.get(key);
    if (!entry) return;
    this.tables.delete(key);
    this.tablesById.delete(entry.reg.tableId);
    for (const partitionId of entry.partitions.keys()) this.partitionTables.delete(partitionId);
    const prefix = `${entry.reg.tableId}/`;
    for (const k of [...this.leaders.keys()]) if (k.startsWith(prefix)) this.leaders.delete(k);
    await this.persist();
  }

  async getSchema(tableId: bigint, schemaId: number): Promise<string | undefined> {
    return this.tablesById.get(tableId)?.schemas.get(schemaId);
  }

  async getAssignment(tableId: bigint, partitionId: bigint | null): Promise<BucketAssignment[] | undefined> {
    const entry = this.tablesById.get(tableId);
    if (!entry) return undefined;
    if (partitionId === null) return entry.assignment;
    return entry.partitions.get(partitionId)?.assignment;
  }

  async listPartitions(tableId: bigint): Promise<PartitionRegistration[]> {
    const entry = this.tablesById.get(tableId);
    return entry ? [...entry.partitions.values()].map((p) => p.reg) : [];
  }

  async getPartition(partitionId: bigint): Promise<PartitionRegistration | undefined> {
    return this.partitionTables.get(partitionId)?.partitions.get(partitionId)?.reg;
  }

  async putPartition(p: PartitionRegistration, assignment: readonly BucketAssignment[]): Promise<void> {
    const entry = this.tablesById.get(p.tableId);
    if (!entry) throw new FlussError(Errors.TABLE_NOT_EXIST, `table id ${p.tableId} does not exist`);
    entry.partitions.set(p.partitionId, { reg: p, assignment: [...assignment] });
    this.partitionTables.set(p.partitionId, entry);
    await this.persist();
  }

  async deletePartition(tableId: bigint, partitionId: bigint): Promise<void> {
    const entry = this.tablesById.get(tableId);
    if (!entry) return;
    entry.partitions.delete(partitionId);
    this.partitionTables.delete(partitionId);
    const prefix = `${tableId}/${partitionId}/`;
    for (const k of [...this.leaders.keys()]) if (k.startsWith(prefix)) this.leaders.delete(k);
    await this.persist();
  }

  async getLeaderAndIsr(key: BucketKey): Promise<LeaderAndIsr | undefined> {
    return this.leaders.get(bucketKeyString(key));
  }

  async putLeaderAndIsr(entries: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>): Promise<void> {
    for (const [key, value] of entries) this.leaders.set(bucketKeyString(key), value);
    await this.persist();
  }

  async nextId(counter: string, count = 1): Promise<bigint> {
    const first = (this.counters.get(counter) ?? 0n) + 1n;
    this.counters.set(counter, first + BigInt(count) - 1n);
    await this.persist();
    return first;
  }
}
