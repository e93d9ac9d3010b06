// The metadata store: the durable record of databases, tables, schemas, bucket assignments,
// leadership and counters. One interface, two homes: a local on-disk store for the embedded cluster
// (local-metadata-store.ts) and ZooKeeper for a real cluster (zk/zookeeper-metadata-store.ts, under
// Fluss's ZooKeeper layout). The coordinator is the only writer; it serialises its mutations, so
// implementations need no compare-and-set beyond what ZooKeeper offers natively.
// Contract of every mutation (put*, delete*, nextId): it is atomic; when its promise resolves it
// is durable, and only from then on do reads see it; when it rejects (STORAGE_EXCEPTION, e.g. a
// full disk or ZooKeeper out of reach; or the FlussError named on the method) it changed nothing,
// and the store stays usable: a later mutation may succeed. Its cost does not grow with the number
// of entries beyond a logarithm (no whole-store rewrites). Reads see only durable state, so a caller
// keeps no view of its own that could run ahead of the store. The contract is tested against both
// implementations (test/metadata/metadata-store-contract.ts).
// One exception, ZooKeeper only: when ZooKeeper cannot be reached for a whole session timeout plus
// the connection timeout after a write was sent, the write fails with a STORAGE_EXCEPTION saying its
// outcome is unknown; by then the coordinator has lost its session (and its leadership), and the
// next active coordinator rebuilds its view from what ZooKeeper holds.

export interface DatabaseRegistration {
  readonly name: string;
  readonly createdTime: number;
  readonly modifiedTime: number;
  /** Fluss database descriptor JSON (comment, custom properties), kept as given. */
  readonly descriptorJson: string;
}

export interface TableRegistration {
  readonly database: string;
  readonly table: string;
  readonly tableId: bigint;
  /** The newest schema id (schemas are kept separately, by id). */
  readonly schemaId: number;
  /** TableDescriptor JSON (Fluss shape), with resolved bucket count. */
  readonly descriptorJson: string;
  readonly bucketCount: number;
  readonly createdTime: number;
  readonly modifiedTime: number;
}

export interface BucketAssignment {
  readonly bucket: number;
  /** Replica server ids; the first is the preferred leader. */
  readonly replicas: readonly number[];
}

export interface LeaderAndIsr {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly coordinatorEpoch: number;
  readonly bucketEpoch: number;
}

export interface PartitionRegistration {
  readonly tableId: bigint;
  readonly partitionId: bigint;
  readonly name: string;
  readonly createdTime: number;
}

/** The initial leadership of one bucket of a table or partition being created. */
export type BucketLeader = readonly [bucket: number, leaderAndIsr: LeaderAndIsr];

/** Key of a bucket's leadership entry: table id, partition id (or null), bucket. */
export interface BucketKey {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
}

export interface MetadataStore {
  open(): Promise<void>;
  close(): Promise<void>;

  listDatabases(): Promise<DatabaseRegistration[]>;
  getDatabase(name: string): Promise<DatabaseRegistration | undefined>;
  /** Create a database (DATABASE_ALREADY_EXIST when one has that name). */
  putDatabase(db: DatabaseRegistration): Promise<void>;
  /** Forget a database (nothing when absent; DATABASE_NOT_EMPTY while it has tables). */
  deleteDatabase(name: string): Promise<void>;

  listTables(database: string): Promise<TableRegistration[]>;
  getTable(database: string, table: string): Promise<TableRegistration | undefined>;
  getTableById(tableId: bigint): Promise<TableRegistration | undefined>;
  /**
   * Create a table with its schema, bucket assignment and its buckets' leadership, in one atomic
   * write (so a table is never visible without the leaders its creation chose). DATABASE_NOT_EXIST
   * without its database; TABLE_ALREADY_EXIST when a table has its name or its id.
   */
  putTable(
    reg: TableRegistration,
    schemaJson: string,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void>;
  /** Forget a table with its schemas, assignments, partitions and leadership, atomically (nothing when absent). */
  deleteTable(database: string, table: string): Promise<void>;

  getSchema(tableId: bigint, schemaId: number): Promise<string | undefined>;
  getAssignment(tableId: bigint, partitionId: bigint | null): Promise<BucketAssignment[] | undefined>;

  listPartitions(tableId: bigint): Promise<PartitionRegistration[]>;
  /** A partition by its id (ids are unique across tables). */
  getPartition(partitionId: bigint): Promise<PartitionRegistration | undefined>;
  /**
   * Create a partition with its bucket assignment and its buckets' leadership, atomically.
   * TABLE_NOT_EXIST without its table; PARTITION_ALREADY_EXISTS when its name or id is taken.
   */
  putPartition(
    p: PartitionRegistration,
    assignment: readonly BucketAssignment[],
    leaders: readonly BucketLeader[],
  ): Promise<void>;
  /** Forget a partition with its assignment and leadership, atomically (nothing when absent). */
  deletePartition(tableId: bigint, partitionId: bigint): Promise<void>;

  getLeaderAndIsr(key: BucketKey): Promise<LeaderAndIsr | undefined>;
  /**
   * Record leadership of many buckets in one durable write (atomic for up to
   * LEADERSHIP_BATCH_MAX buckets; larger calls are split into writes of that many, as Fluss does).
   * TABLE_NOT_EXIST / PARTITION_NOT_EXISTS when a bucket's table or partition is unknown.
   */
  putLeaderAndIsr(entries: ReadonlyArray<readonly [BucketKey, LeaderAndIsr]>): Promise<void>;

  /**
   * Reserve `count` consecutive values of a named counter (table, partition and writer ids,
   * auto-increment ranges: `auto-increment/<table id>/<column>`, TABLE_NOT_EXIST once that table is
   * gone); returns the first. Counters start at 1 and never go back. Atomic on its own: concurrent
   * calls get disjoint ranges.
   */
  nextId(counter: string, count?: number): Promise<bigint>;
}

/** Buckets whose leadership one putLeaderAndIsr records atomically (Fluss batches 1024). */
export const LEADERSHIP_BATCH_MAX = 1000;
