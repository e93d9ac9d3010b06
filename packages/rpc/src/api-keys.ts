// The one table of RPC APIs: Fluss's API key numbers (1000 upward; 0-999 are left for Kafka),
// the supported version range, the visibility, and the protobuf request/response schemas that
// encode each API's body. Only the APIs fluss-ts serves are listed; numbers and version ranges
// match Fluss `ApiKeys` so a Fluss client and a fluss-ts server agree on every frame header.
// Private APIs travel only between the servers of a cluster (coordinator <-> tablet servers); the
// fluss-ts-only ones sit at 9000+ (private) and 9100+ (public), far from Fluss's block.
// Invariants: keys are unique; minVersion <= maxVersion; a key not in the table is unknown
// (`apiByKey` returns undefined) and is never dispatched.

import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import * as pb from "./gen/fluss/api_pb.ts";

/** Who may call an API: every client (public) or only servers of the cluster (private). */
export type ApiVisibility = "public" | "private";

/** One row of the table. `Req`/`Resp` are the generated message schemas of the API's bodies. */
export interface ApiDef<Req extends DescMessage = DescMessage, Resp extends DescMessage = DescMessage> {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly visibility: ApiVisibility;
  readonly request: Req;
  readonly response: Resp;
}

/** The decoded request message type of an API, e.g. `ReqOf<typeof ApiKeys.PRODUCE_LOG>`. */
export type ReqOf<A extends ApiDef> = MessageShape<A["request"]>;
/** The decoded response message type of an API. */
export type RespOf<A extends ApiDef> = MessageShape<A["response"]>;
/** What a caller may pass as a request: a message or a plain init object of its fields. */
export type ReqInitOf<A extends ApiDef> = MessageInitShape<A["request"]>;
/** What a handler may return as a response: a message or a plain init object of its fields. */
export type RespInitOf<A extends ApiDef> = MessageInitShape<A["response"]>;

function api<Req extends DescMessage, Resp extends DescMessage>(
  key: number,
  name: string,
  versions: readonly [min: number, max: number],
  visibility: ApiVisibility,
  request: Req,
  response: Resp,
): ApiDef<Req, Resp> {
  return Object.freeze({
    key,
    name,
    minVersion: versions[0],
    maxVersion: versions[1],
    visibility,
    request,
    response,
  });
}

const V0: readonly [number, number] = [0, 0];

/** The APIs by Fluss name. `ApiKeys.PRODUCE_LOG.key === 1014`. */
export const ApiKeys = {
  API_VERSIONS: api(
    1000,
    "API_VERSIONS",
    V0,
    "public",
    pb.ApiVersionsRequestSchema,
    pb.ApiVersionsResponseSchema,
  ),
  CREATE_DATABASE: api(
    1001,
    "CREATE_DATABASE",
    V0,
    "public",
    pb.CreateDatabaseRequestSchema,
    pb.CreateDatabaseResponseSchema,
  ),
  DROP_DATABASE: api(
    1002,
    "DROP_DATABASE",
    V0,
    "public",
    pb.DropDatabaseRequestSchema,
    pb.DropDatabaseResponseSchema,
  ),
  LIST_DATABASES: api(
    1003,
    "LIST_DATABASES",
    V0,
    "public",
    pb.ListDatabasesRequestSchema,
    pb.ListDatabasesResponseSchema,
  ),
  DATABASE_EXISTS: api(
    1004,
    "DATABASE_EXISTS",
    V0,
    "public",
    pb.DatabaseExistsRequestSchema,
    pb.DatabaseExistsResponseSchema,
  ),
  CREATE_TABLE: api(
    1005,
    "CREATE_TABLE",
    V0,
    "public",
    pb.CreateTableRequestSchema,
    pb.CreateTableResponseSchema,
  ),
  DROP_TABLE: api(1006, "DROP_TABLE", V0, "public", pb.DropTableRequestSchema, pb.DropTableResponseSchema),
  GET_TABLE_INFO: api(
    1007,
    "GET_TABLE_INFO",
    V0,
    "public",
    pb.GetTableInfoRequestSchema,
    pb.GetTableInfoResponseSchema,
  ),
  LIST_TABLES: api(
    1008,
    "LIST_TABLES",
    V0,
    "public",
    pb.ListTablesRequestSchema,
    pb.ListTablesResponseSchema,
  ),
  LIST_PARTITION_INFOS: api(
    1009,
    "LIST_PARTITION_INFOS",
    V0,
    "public",
    pb.ListPartitionInfosRequestSchema,
    pb.ListPartitionInfosResponseSchema,
  ),
  TABLE_EXISTS: api(
    1010,
    "TABLE_EXISTS",
    V0,
    "public",
    pb.TableExistsRequestSchema,
    pb.TableExistsResponseSchema,
  ),
  GET_TABLE_SCHEMA: api(
    1011,
    "GET_TABLE_SCHEMA",
    V0,
    "public",
    pb.GetTableSchemaRequestSchema,
    pb.GetTableSchemaResponseSchema,
  ),
  GET_METADATA: api(1012, "GET_METADATA", V0, "public", pb.MetadataRequestSchema, pb.MetadataResponseSchema),
  // Coordinator -> tablet servers: the cluster's servers and the routes of changed tables.
  UPDATE_METADATA: api(
    1013,
    "UPDATE_METADATA",
    V0,
    "private",
    pb.UpdateMetadataRequestSchema,
    pb.UpdateMetadataResponseSchema,
  ),
  PRODUCE_LOG: api(
    1014,
    "PRODUCE_LOG",
    V0,
    "public",
    pb.ProduceLogRequestSchema,
    pb.ProduceLogResponseSchema,
  ),
  FETCH_LOG: api(1015, "FETCH_LOG", V0, "public", pb.FetchLogRequestSchema, pb.FetchLogResponseSchema),
  // v1: compacted key encoding when the bucket key differs from the primary key;
  // v2: the client understands STORAGE_BACKPRESSURE_EXCEPTION (72).
  PUT_KV: api(1016, "PUT_KV", [0, 2], "public", pb.PutKvRequestSchema, pb.PutKvResponseSchema),
  // v1: compacted key encoding when the bucket key differs from the primary key.
  LOOKUP: api(1017, "LOOKUP", [0, 1], "public", pb.LookupRequestSchema, pb.LookupResponseSchema),
  // Coordinator -> tablet servers: host replicas with this leadership (coordinator epoch fenced).
  NOTIFY_LEADER_AND_ISR: api(
    1018,
    "NOTIFY_LEADER_AND_ISR",
    V0,
    "private",
    pb.NotifyLeaderAndIsrRequestSchema,
    pb.NotifyLeaderAndIsrResponseSchema,
  ),
  // Coordinator -> tablet servers: stop (and delete) replicas.
  STOP_REPLICA: api(
    1019,
    "STOP_REPLICA",
    V0,
    "private",
    pb.StopReplicaRequestSchema,
    pb.StopReplicaResponseSchema,
  ),
  // Tablet server (a leader) -> coordinator: record a changed ISR.
  ADJUST_ISR: api(1020, "ADJUST_ISR", V0, "private", pb.AdjustIsrRequestSchema, pb.AdjustIsrResponseSchema),
  LIST_OFFSETS: api(
    1021,
    "LIST_OFFSETS",
    V0,
    "public",
    pb.ListOffsetsRequestSchema,
    pb.ListOffsetsResponseSchema,
  ),
  // Fluss clients ask any server for it once a scanner exists (remote log reads); fluss-ts has no
  // remote credentials and answers as a Fluss server on a local file system does.
  GET_FILESYSTEM_SECURITY_TOKEN: api(
    1025,
    "GET_FILESYSTEM_SECURITY_TOKEN",
    V0,
    "public",
    pb.GetFileSystemSecurityTokenRequestSchema,
    pb.GetFileSystemSecurityTokenResponseSchema,
  ),
  INIT_WRITER: api(
    1026,
    "INIT_WRITER",
    V0,
    "public",
    pb.InitWriterRequestSchema,
    pb.InitWriterResponseSchema,
  ),
  LIMIT_SCAN: api(1033, "LIMIT_SCAN", V0, "public", pb.LimitScanRequestSchema, pb.LimitScanResponseSchema),
  // v1: the encoded bucket key is a prefix of the encoded primary key.
  PREFIX_LOOKUP: api(
    1034,
    "PREFIX_LOOKUP",
    [0, 1],
    "public",
    pb.PrefixLookupRequestSchema,
    pb.PrefixLookupResponseSchema,
  ),
  GET_DATABASE_INFO: api(
    1035,
    "GET_DATABASE_INFO",
    V0,
    "public",
    pb.GetDatabaseInfoRequestSchema,
    pb.GetDatabaseInfoResponseSchema,
  ),
  CREATE_PARTITION: api(
    1036,
    "CREATE_PARTITION",
    V0,
    "public",
    pb.CreatePartitionRequestSchema,
    pb.CreatePartitionResponseSchema,
  ),
  DROP_PARTITION: api(
    1037,
    "DROP_PARTITION",
    V0,
    "public",
    pb.DropPartitionRequestSchema,
    pb.DropPartitionResponseSchema,
  ),
  // Tablet server -> coordinator before it stops: move leadership away first.
  CONTROLLED_SHUTDOWN: api(
    1043,
    "CONTROLLED_SHUTDOWN",
    V0,
    "private",
    pb.ControlledShutdownRequestSchema,
    pb.ControlledShutdownResponseSchema,
  ),
  SCAN_KV: api(1061, "SCAN_KV", V0, "public", pb.ScanKvRequestSchema, pb.ScanKvResponseSchema),
  GET_CLUSTER_HEALTH: api(
    1062,
    "GET_CLUSTER_HEALTH",
    V0,
    "public",
    pb.GetClusterHealthRequestSchema,
    pb.GetClusterHealthResponseSchema,
  ),
  // fluss-ts only, in a block of its own above Fluss's numbers (whose tablet servers use ZooKeeper
  // for these): tablet server -> coordinator registration and heartbeat in a cluster without
  // ZooKeeper, and auto-increment id ranges.
  REGISTER_TABLET_SERVER: api(
    9000,
    "REGISTER_TABLET_SERVER",
    V0,
    "private",
    pb.RegisterTabletServerRequestSchema,
    pb.RegisterTabletServerResponseSchema,
  ),
  ALLOCATE_ID_RANGE: api(
    9001,
    "ALLOCATE_ID_RANGE",
    V0,
    "private",
    pb.AllocateIdRangeRequestSchema,
    pb.AllocateIdRangeResponseSchema,
  ),
  // A follower asks its leader where an epoch ends, to truncate a divergent tail (Kafka's
  // OffsetForLeaderEpoch; Fluss followers truncate by high watermark instead, apache/fluss#673).
  OFFSET_FOR_LEADER_EPOCH: api(
    9002,
    "OFFSET_FOR_LEADER_EPOCH",
    V0,
    "private",
    pb.OffsetForLeaderEpochRequestSchema,
    pb.OffsetForLeaderEpochResponseSchema,
  ),
  // fluss-ts only, public, at 9100+ (apart from the private block): every bucket's leader, replicas
  // and ISR with the servers' liveness, for `fluss cluster status` (Fluss's metadata has no ISR).
  GET_CLUSTER_STATUS: api(
    9100,
    "GET_CLUSTER_STATUS",
    V0,
    "public",
    pb.GetClusterStatusRequestSchema,
    pb.GetClusterStatusResponseSchema,
  ),
} as const;

export type ApiName = keyof typeof ApiKeys;
/** The union of every API definition in the table. */
export type AnyApi = (typeof ApiKeys)[ApiName];

const byKey: ReadonlyMap<number, AnyApi> = buildIndex();

function buildIndex(): Map<number, AnyApi> {
  const index = new Map<number, AnyApi>();
  for (const def of Object.values(ApiKeys)) {
    if (index.has(def.key)) throw new Error(`duplicate API key ${def.key}`);
    if (def.minVersion > def.maxVersion) throw new Error(`bad version range for ${def.name}`);
    index.set(def.key, def);
  }
  return index;
}

/** The API with this numeric key, or undefined when fluss-ts does not know the key. */
export function apiByKey(key: number): AnyApi | undefined {
  return byKey.get(key);
}

/** Every API in the table, in key order. */
export function allApis(): readonly AnyApi[] {
  return [...byKey.values()].sort((a, b) => a.key - b.key);
}

/** True when `version` is inside the API's supported range. */
export function supportsVersion(def: ApiDef, version: number): boolean {
  return version >= def.minVersion && version <= def.maxVersion;
}
