// Fluss's ZooKeeper layout (ZkData in apache/fluss) and the JSON each node holds, as Fluss's serdes
// write it. Paths are relative to `zookeeper.path.root` (default /fluss):
//   /metadata/databases/<db>                              DatabaseRegistration {version 1, comment?, custom_properties, created_time, modified_time}
//   /metadata/databases/<db>/tables/<table>               TableRegistration {version 1, table_id, comment?, partition_key?, bucket_key?, bucket_count, properties, custom_properties, created_time, modified_time}
//   .../tables/<table>/schemas/<schema id>                the schema JSON
//   .../tables/<table>/partitions/<partition name>        PartitionRegistration {version 1, table_id, partition_id}
//   .../tables/<table>/auto_inc/col_<column>              auto-increment counter
//   /metadata/table_seqid, partition_seqid, writer_id     id counters (8-byte big-endian, Curator's DistributedAtomicLong)
//   /tabletservers/tables/<table id>                      TableAssignment {version 1, buckets: {"<bucket>": [replica ids]}}
//   /tabletservers/partitions/<partition id>              PartitionAssignment {version 1, table_id, buckets}
//   .../buckets/<bucket>/leader_isr                       LeaderAndIsr {version 2, leader, leader_epoch, isr, coordinator_epoch, bucket_epoch, standby_replicas}
//   /tabletservers/ids/<server id>                        ephemeral TabletServerRegistration {version 4, listeners, register_timestamp, rack?}
//   /coordinators/ids/<id>, /coordinators/active          ephemeral CoordinatorAddress {version 2, id, listeners}
//   /coordinators/election/latch-<seq>                    ephemeral sequential election candidates (Curator LeaderLatch's place)
//   /coordinators/epoch                                   the coordinator epoch, decimal; its node version fences coordinator writes
// What fluss-ts needs beyond Fluss's fields sits in a "fluss_ts" object Fluss's readers ignore: the
// table path in a table's assignment (to find a table by id), the partition name in a partition's
// assignment, a partition's creation time, and the caller's exact descriptor text only when it is
// not what Fluss's fields rebuild. A node whose data is empty is not there for readers (Fluss's own
// tableExist rule): creations fill it last, deletions empty it first (zookeeper-metadata-store.ts).
// Invariant: every codec here reads back exactly what it wrote (tests round-trip each).

import { assert, Errors, FlussError } from "@fluss-ts/common";
import type {
  BucketAssignment,
  DatabaseRegistration,
  LeaderAndIsr,
  TableRegistration,
} from "../metadata-store.ts";

export const Paths = {
  databases: "/metadata/databases",
  database: (db: string) => `/metadata/databases/${segment(db, "database")}`,
  tables: (db: string) => `${Paths.database(db)}/tables`,
  table: (db: string, t: string) => `${Paths.tables(db)}/${segment(t, "table")}`,
  schemas: (db: string, t: string) => `${Paths.table(db, t)}/schemas`,
  schema: (db: string, t: string, id: number) => `${Paths.schemas(db, t)}/${id}`,
  partitions: (db: string, t: string) => `${Paths.table(db, t)}/partitions`,
  partition: (db: string, t: string, name: string) =>
    `${Paths.partitions(db, t)}/${segment(name, "partition")}`,
  autoIncrements: (db: string, t: string) => `${Paths.table(db, t)}/auto_inc`,
  autoIncrement: (db: string, t: string, column: string) =>
    `${Paths.autoIncrements(db, t)}/col_${segment(column, "column")}`,
  tableIdCounter: "/metadata/table_seqid",
  partitionIdCounter: "/metadata/partition_seqid",
  writerIdCounter: "/metadata/writer_id",
  /** Counters Fluss does not have (fluss-ts only). */
  otherCounter: (name: string) => `/metadata/fluss_ts_counters/${encodeURIComponent(name)}`,
  tableAssignments: "/tabletservers/tables",
  tableAssignment: (tableId: bigint) => `/tabletservers/tables/${tableId}`,
  partitionAssignments: "/tabletservers/partitions",
  partitionAssignment: (partitionId: bigint) => `/tabletservers/partitions/${partitionId}`,
  /** The assignment node owning a bucket's nodes: the table's, or the partition's. */
  owner: (tableId: bigint, partitionId: bigint | null) =>
    partitionId === null ? Paths.tableAssignment(tableId) : Paths.partitionAssignment(partitionId),
  buckets: (tableId: bigint, partitionId: bigint | null) => `${Paths.owner(tableId, partitionId)}/buckets`,
  bucket: (tableId: bigint, partitionId: bigint | null, bucket: number) =>
    `${Paths.buckets(tableId, partitionId)}/${bucket}`,
  leaderIsr: (tableId: bigint, partitionId: bigint | null, bucket: number) =>
    `${Paths.bucket(tableId, partitionId, bucket)}/leader_isr`,
  tabletServers: "/tabletservers/ids",
  tabletServer: (id: number) => `/tabletservers/ids/${id}`,
  coordinators: "/coordinators/ids",
  coordinator: (id: string) => `/coordinators/ids/${segment(id, "coordinator id")}`,
  coordinatorElection: "/coordinators/election",
  coordinatorActive: "/coordinators/active",
  coordinatorEpoch: "/coordinators/epoch",
} as const;

/** The Fluss wire code for a name that cannot be a path segment. */
const SEGMENT_ERRORS: Record<string, (typeof Errors)[keyof typeof Errors]> = {
  database: Errors.INVALID_DATABASE_EXCEPTION,
  table: Errors.INVALID_TABLE_EXCEPTION,
  partition: Errors.PARTITION_SPEC_INVALID_EXCEPTION,
};

/** A name as one path segment: no "/", not "." or "..", not empty, no control characters. */
function segment(name: string, what: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (name === "" || name === "." || name === ".." || /[/\u0000-\u001f\u007f]/.test(name)) {
    throw new FlussError(
      SEGMENT_ERRORS[what] ?? Errors.INVALID_CONFIG_EXCEPTION,
      `${what} name '${name}' cannot be stored in ZooKeeper (it must not be empty, '.', '..', or hold '/' or control characters)`,
    );
  }
  return name;
}

/** The data of a node that readers treat as absent (a creation not finished, a deletion begun). */
export const EMPTY_DATA: Buffer = Buffer.alloc(0);

function toJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

function parse(data: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new FlussError(
      Errors.STORAGE_EXCEPTION,
      `ZooKeeper node of ${what} is not JSON: ${(err as Error).message}`,
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new FlussError(Errors.STORAGE_EXCEPTION, `ZooKeeper node of ${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

function objectOr(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function tryParseObject(text: string): Record<string, unknown> | undefined {
  try {
    return objectOr(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(objectOr(v) ?? {})) out[k] = String(x);
  return out;
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function safeId(id: bigint, what: string): number {
  assert(id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER), `${what} fits a JSON number`);
  return Number(id);
}

function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new FlussError(Errors.STORAGE_EXCEPTION, `ZooKeeper node field ${what} is not an integer`);
  }
  return v;
}

// ---- databases -------------------------------------------------------------------------------

/** Fluss's database descriptor as the coordinator writes it (database-json.ts). */
function databaseDescriptorOf(fields: Record<string, unknown>): string {
  return JSON.stringify({
    version: 1,
    ...(fields.comment !== undefined ? { comment: String(fields.comment) } : {}),
    custom_properties: strings(fields.custom_properties),
  });
}

export function encodeDatabase(db: DatabaseRegistration): Buffer {
  const d = tryParseObject(db.descriptorJson) ?? {};
  const fields = {
    version: 1,
    ...(d.comment !== undefined && d.comment !== null ? { comment: String(d.comment) } : {}),
    custom_properties: strings(d.custom_properties),
    created_time: db.createdTime,
    modified_time: db.modifiedTime,
  };
  const exact = databaseDescriptorOf(fields) === db.descriptorJson;
  return toJson(exact ? fields : { ...fields, fluss_ts: { descriptor: db.descriptorJson } });
}

export function decodeDatabase(name: string, data: Buffer): DatabaseRegistration {
  const j = parse(data, `database ${name}`);
  const extra = objectOr(j.fluss_ts);
  return {
    name,
    createdTime: int(j.created_time, "created_time"),
    modifiedTime: int(j.modified_time, "modified_time"),
    descriptorJson: typeof extra?.descriptor === "string" ? extra.descriptor : databaseDescriptorOf(j),
  };
}

// ---- tables ----------------------------------------------------------------------------------

/** The table descriptor (common/schema.ts descriptorToJson) rebuilt from Fluss's fields and the schema. */
function tableDescriptorOf(fields: Record<string, unknown>, schemaJson: string): string {
  return JSON.stringify({
    version: 1,
    schema: JSON.parse(schemaJson) as unknown,
    ...(fields.comment !== undefined ? { comment: String(fields.comment) } : {}),
    partition_key: stringArray(fields.partition_key),
    bucket_key: stringArray(fields.bucket_key),
    bucket_count: fields.bucket_count,
    properties: strings(fields.properties),
    custom_properties: strings(fields.custom_properties),
  });
}

export function encodeTable(reg: TableRegistration, schemaJson: string): Buffer {
  const d = tryParseObject(reg.descriptorJson) ?? {};
  const partitionKeys = stringArray(d.partition_key);
  const bucketKeys = stringArray(d.bucket_key);
  const fields = {
    version: 1,
    table_id: safeId(reg.tableId, "table id"),
    ...(d.comment !== undefined && d.comment !== null ? { comment: String(d.comment) } : {}),
    ...(partitionKeys.length > 0 ? { partition_key: partitionKeys } : {}),
    ...(bucketKeys.length > 0 ? { bucket_key: bucketKeys } : {}),
    bucket_count: reg.bucketCount,
    properties: strings(d.properties),
    custom_properties: strings(d.custom_properties),
    created_time: reg.createdTime,
    modified_time: reg.modifiedTime,
  };
  const exact =
    tryParseObject(schemaJson) !== undefined && tableDescriptorOf(fields, schemaJson) === reg.descriptorJson;
  return toJson(exact ? fields : { ...fields, fluss_ts: { descriptor: reg.descriptorJson } });
}

/** The parts of a table node a reader needs before it knows the schema id. */
export function decodeTable(
  database: string,
  table: string,
  data: Buffer,
  schemaId: number,
  schemaJson: () => string | undefined,
): TableRegistration {
  const j = parse(data, `table ${database}.${table}`);
  const extra = objectOr(j.fluss_ts);
  let descriptorJson: string;
  if (typeof extra?.descriptor === "string") {
    descriptorJson = extra.descriptor;
  } else {
    const schema = schemaJson();
    if (schema === undefined) {
      throw new FlussError(Errors.STORAGE_EXCEPTION, `table ${database}.${table} has no schema ${schemaId}`);
    }
    descriptorJson = tableDescriptorOf(j, schema);
  }
  return {
    database,
    table,
    tableId: BigInt(int(j.table_id, "table_id")),
    schemaId,
    descriptorJson,
    bucketCount: int(j.bucket_count, "bucket_count"),
    createdTime: int(j.created_time, "created_time"),
    modifiedTime: int(j.modified_time, "modified_time"),
  };
}

/** Whether a table node's JSON needs its schema to rebuild the descriptor. */
export function tableNeedsSchema(data: Buffer): boolean {
  return typeof objectOr(parse(data, "table").fluss_ts)?.descriptor !== "string";
}

// ---- assignments -----------------------------------------------------------------------------

function bucketsJson(assignment: readonly BucketAssignment[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const a of assignment) out[String(a.bucket)] = [...a.replicas];
  return out;
}

function bucketsOf(v: unknown): BucketAssignment[] {
  return Object.entries(objectOr(v) ?? {})
    .map(([bucket, replicas]) => ({ bucket: Number(bucket), replicas: (replicas as unknown[]).map(Number) }))
    .sort((a, b) => a.bucket - b.bucket);
}

export interface TableAssignmentNode {
  readonly database: string;
  readonly table: string;
  readonly assignment: BucketAssignment[];
}

export function encodeTableAssignment(
  database: string,
  table: string,
  a: readonly BucketAssignment[],
): Buffer {
  return toJson({ version: 1, buckets: bucketsJson(a), fluss_ts: { database, table } });
}

export function decodeTableAssignment(tableId: bigint, data: Buffer): TableAssignmentNode {
  const j = parse(data, `assignment of table ${tableId}`);
  const extra = objectOr(j.fluss_ts);
  if (typeof extra?.database !== "string" || typeof extra.table !== "string") {
    throw new FlussError(Errors.STORAGE_EXCEPTION, `assignment of table ${tableId} does not name its table`);
  }
  return { database: extra.database, table: extra.table, assignment: bucketsOf(j.buckets) };
}

export interface PartitionAssignmentNode {
  readonly tableId: bigint;
  readonly name: string;
  readonly assignment: BucketAssignment[];
}

export function encodePartitionAssignment(
  tableId: bigint,
  name: string,
  a: readonly BucketAssignment[],
): Buffer {
  return toJson({
    version: 1,
    table_id: safeId(tableId, "table id"),
    buckets: bucketsJson(a),
    fluss_ts: { partition_name: name },
  });
}

export function decodePartitionAssignment(partitionId: bigint, data: Buffer): PartitionAssignmentNode {
  const j = parse(data, `assignment of partition ${partitionId}`);
  const name = objectOr(j.fluss_ts)?.partition_name;
  if (typeof name !== "string") {
    throw new FlussError(Errors.STORAGE_EXCEPTION, `assignment of partition ${partitionId} does not name it`);
  }
  return { tableId: BigInt(int(j.table_id, "table_id")), name, assignment: bucketsOf(j.buckets) };
}

// ---- partitions ------------------------------------------------------------------------------

export function encodePartition(tableId: bigint, partitionId: bigint, createdTime: number): Buffer {
  return toJson({
    version: 1,
    table_id: safeId(tableId, "table id"),
    partition_id: safeId(partitionId, "partition id"),
    fluss_ts: { created_time: createdTime },
  });
}

export function decodePartition(
  data: Buffer,
  what: string,
): { tableId: bigint; partitionId: bigint; createdTime: number } {
  const j = parse(data, what);
  const created = objectOr(j.fluss_ts)?.created_time;
  return {
    tableId: BigInt(int(j.table_id, "table_id")),
    partitionId: BigInt(int(j.partition_id, "partition_id")),
    createdTime: typeof created === "number" ? created : 0,
  };
}

// ---- leadership ------------------------------------------------------------------------------

export function encodeLeaderAndIsr(l: LeaderAndIsr): Buffer {
  return toJson({
    version: 2,
    leader: l.leader,
    leader_epoch: l.leaderEpoch,
    isr: [...l.isr],
    coordinator_epoch: l.coordinatorEpoch,
    bucket_epoch: l.bucketEpoch,
    standby_replicas: [],
  });
}

export function decodeLeaderAndIsr(data: Buffer, what: string): LeaderAndIsr {
  const j = parse(data, what);
  return {
    leader: int(j.leader, "leader"),
    leaderEpoch: int(j.leader_epoch, "leader_epoch"),
    isr: (Array.isArray(j.isr) ? j.isr : []).map((x) => int(x, "isr")),
    coordinatorEpoch: int(j.coordinator_epoch, "coordinator_epoch"),
    bucketEpoch: int(j.bucket_epoch, "bucket_epoch"),
  };
}

// ---- counters --------------------------------------------------------------------------------

/** Curator's DistributedAtomicLong: the value as an 8-byte big-endian long. */
export function encodeCounter(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(value);
  return b;
}

export function decodeCounter(data: Buffer, what: string): bigint {
  if (data.length !== 8) {
    throw new FlussError(Errors.STORAGE_EXCEPTION, `counter ${what} holds ${data.length} bytes, not 8`);
  }
  return data.readBigInt64BE(0);
}

/** Where a named counter lives: a fixed node, or a table's auto-increment column (found by table id). */
export type CounterPlace =
  | { readonly kind: "node"; readonly path: string }
  | { readonly kind: "autoIncrement"; readonly tableId: bigint; readonly column: string };

export function counterPlace(counter: string): CounterPlace {
  if (counter === "table") return { kind: "node", path: Paths.tableIdCounter };
  if (counter === "partition") return { kind: "node", path: Paths.partitionIdCounter };
  if (counter === "writer") return { kind: "node", path: Paths.writerIdCounter };
  const m = /^auto-increment\/(\d+)\/(.+)$/.exec(counter);
  if (m !== null) return { kind: "autoIncrement", tableId: BigInt(m[1]!), column: m[2]! };
  return { kind: "node", path: Paths.otherCounter(counter) };
}
