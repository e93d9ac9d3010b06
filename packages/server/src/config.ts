// Server options: every option has a default, a Fluss-style key ("log.segment.file-size") for
// `--config key=value` and fluss.yaml-like overrides, and a parser that refuses bad values with a
// clear INVALID_CONFIG_EXCEPTION. Limits carry their unit last in the field name.
// Invariant: a ServerConfig that reached a server passed validateServerConfig: every value is in
// its option's range (sizes storage can index, durations Node timers can hold) and the options
// that depend on each other agree (index interval <= segment size, a fetch fits in one frame,
// ports do not collide, default bucket number <= max.bucket.num, a follower's fetch wait shorter
// than the replica max lag time, the RPC request buffer holds at least one largest frame). Every refusal names the option(s) and the
// allowed range. The open-files options are checked against the process's limit at start
// (open-files.ts).

import { homedir } from "node:os";
import { join } from "node:path";
import { Errors, FlussError, parseDurationMs, parseInteger, parseSizeBytes } from "@fluss-ts/common";
import { checkRemoteDataDir } from "@fluss-ts/storage";
import { DEFAULT_LISTENER_NAME, internalListener, parseHostPort, parseListeners } from "./listeners.ts";
import { LOG_OPEN_FILES_MIN } from "./open-files.ts";
import {
  MIN_IN_SYNC_REPLICAS_DEFAULT,
  REPLICA_FETCH_BACKOFF_MS_DEFAULT,
  REPLICA_MAX_LAG_TIME_MS_DEFAULT,
} from "./replication/types.ts";

export type FlushMode = "always" | "interval" | "never";

export interface ServerConfig {
  /** Root of all on-disk state of this process. */
  dataDir: string;
  bindHost: string;
  /** Coordinator RPC port (Fluss default 9123); 0 picks a free port. */
  coordinatorPort: number;
  /** First tablet server RPC port; 0 picks free ports. */
  tabletServerPort: number;
  tabletServers: number;
  defaultBucketNumber: number;
  defaultReplicationFactor: number;
  bucketCountMax: number;
  /** Partitions one table may have (Fluss max.partition.num). */
  partitionCountMax: number;
  /** How often the coordinator creates and expires automatic partitions. */
  autoPartitionCheckIntervalMs: number;
  logSegmentBytesMax: number;
  logIndexIntervalBytes: number;
  logFlushMode: FlushMode;
  logFlushIntervalMs: number;
  logRetentionCheckIntervalMs: number;
  /** log.replica.max-lag-time: a follower this long behind (or silent) leaves the ISR. */
  replicaMaxLagTimeMs: number;
  /** log.replica.min-in-sync-replicas-number: acks=all needs at least this many in the ISR. */
  minInSyncReplicas: number;
  /** log.replica.fetch.backoff-interval: a follower's pause after a failed fetch. */
  replicaFetchBackoffMs: number;
  /** log.replica.fetch.wait-max-time: how long a leader holds a follower's fetch with nothing new. */
  replicaFetchWaitMaxMs: number;
  /** log.replica.fetch.min-bytes: a leader answers a follower's fetch once this much is there. */
  replicaFetchMinBytes: number;
  /** log.replica.fetch.max-bytes: bytes one follower fetch answer carries at most. */
  replicaFetchBytesMax: number;
  /** log.replica.fetch.max-bytes-for-bucket: bytes per bucket in one follower fetch answer. */
  replicaFetchBucketBytesMax: number;
  /** tablet-server.controlled-shutdown.max-retries: attempts to move leadership away before stopping. */
  controlledShutdownRetriesMax: number;
  /** tablet-server.controlled-shutdown.retry-interval. */
  controlledShutdownRetryIntervalMs: number;
  /** Descriptors the log file cache keeps open (log.open-files.max); 0 derives it from the limit (open-files.ts). */
  logOpenFilesMax: number;
  /** Descriptors kept for connections, the metadata store, short-lived files; 0 derives it (open-files.ts). */
  openFilesReserve: number;
  /** Upper bound on a fetch's long-poll wait, whatever the client asks. */
  fetchWaitMsMax: number;
  /** Upper bound on the bytes one fetch response carries. */
  fetchBytesMax: number;
  rpcFrameBytesMax: number;
  rpcConnectionsMax: number;
  rpcRequestsInFlightPerConnectionMax: number;
  /** Bytes of incoming requests one RPC server holds at once (each started frame reserves its size). */
  rpcRequestBufferBytesMax: number;
  /** Time a started request frame may take to arrive before its connection is closed. */
  rpcRequestReadTimeoutMs: number;
  /** Connections idle this long are closed (Kafka connections.max.idle.ms). */
  connectionIdleMsMax: number;
  /** Remote storage of KV snapshots and tiered log segments: a path, file:// or s3://bucket/prefix; default `<dataDir>/remote`. */
  remoteDataDir: string | null;
  /** Remote log tiering period (Fluss remote.log.task-interval-duration, 1 min); 0 turns tiering off. */
  remoteLogTaskIntervalMs: number;
  /** Segments one bucket copies per tiering round at most (Fluss remote.log.task-max-upload-segments). */
  remoteLogUploadSegmentsMax: number;
  /** Largest ranged read of a remote segment (the memory a remote read holds besides its output). */
  remoteLogReadChunkBytes: number;
  /** S3-compatible endpoint for an s3:// remote.data.dir (Fluss s3.endpoint); null: AWS. */
  s3Endpoint: string | null;
  s3Region: string;
  /** Path-style bucket addressing (s3.path.style.access); null: on with an endpoint, off without. */
  s3PathStyleAccess: boolean | null;
  kvSnapshotIntervalMs: number;
  kvSnapshotsRetained: number;
  /** Prometheus metrics port; 0 disables the endpoint. */
  metricsPort: number;
  /** Lake format tables are tiered to (Fluss datalake.format); null: no tiering service. */
  datalakeFormat: "iceberg" | null;
  /** Iceberg warehouse (datalake.iceberg.warehouse); null: `<dataDir>/iceberg`. */
  lakeWarehouse: string | null;
  logLevel: string;
  /** This tablet server's id (Fluss tablet-server.id; `fluss tablet-server`). */
  tabletServerId: number;
  /** Fluss bind.listeners (`NAME://host:port,...`) of a coordinator or tablet server process; null: bind.host and the role's port. */
  bindListeners: string | null;
  /** Fluss internal.listener.name: the listener servers talk to each other on. */
  internalListenerName: string;
  /** host:port of the coordinator, for tablet servers of a cluster without ZooKeeper. */
  coordinatorAddress: string | null;
  /** Without ZooKeeper: how often a tablet server heartbeats to the coordinator. */
  tabletServerHeartbeatIntervalMs: number;
  /** Without ZooKeeper: a tablet server silent this long is taken out of the cluster. */
  tabletServerSessionTimeoutMs: number;
  /** Fluss zookeeper.address (`host:port[,host:port]`); null: no ZooKeeper (local metadata, RPC registration). */
  zookeeperAddress: string | null;
  /** Fluss zookeeper.path.root: where the cluster's nodes live in ZooKeeper. */
  zookeeperRootPath: string;
  /** Fluss zookeeper.client.session-timeout: a server silent this long loses its session (and registration). */
  zookeeperSessionTimeoutMs: number;
  /** Fluss zookeeper.client.connection-timeout. */
  zookeeperConnectionTimeoutMs: number;
}

export function defaultDataDir(): string {
  return process.env.FLUSS_DATA_DIR ?? join(homedir(), ".fluss-ts", "local");
}

export function defaultServerConfig(): ServerConfig {
  return {
    dataDir: defaultDataDir(),
    bindHost: "127.0.0.1",
    coordinatorPort: 9123,
    tabletServerPort: 9124,
    tabletServers: 1,
    defaultBucketNumber: 1,
    defaultReplicationFactor: 1,
    bucketCountMax: 4096,
    partitionCountMax: 1000,
    autoPartitionCheckIntervalMs: 10 * 60_000,
    logSegmentBytesMax: 1024 * 1024 * 1024,
    logIndexIntervalBytes: 4096,
    logFlushMode: "always",
    logFlushIntervalMs: 1000,
    logRetentionCheckIntervalMs: 5 * 60_000,
    replicaMaxLagTimeMs: REPLICA_MAX_LAG_TIME_MS_DEFAULT,
    minInSyncReplicas: MIN_IN_SYNC_REPLICAS_DEFAULT,
    replicaFetchBackoffMs: REPLICA_FETCH_BACKOFF_MS_DEFAULT,
    replicaFetchWaitMaxMs: 500,
    replicaFetchMinBytes: 1,
    replicaFetchBytesMax: 16 * 1024 * 1024,
    replicaFetchBucketBytesMax: 1024 * 1024,
    controlledShutdownRetriesMax: 3,
    controlledShutdownRetryIntervalMs: 1000,
    logOpenFilesMax: 0,
    openFilesReserve: 0,
    fetchWaitMsMax: 30_000,
    fetchBytesMax: 64 * 1024 * 1024,
    rpcFrameBytesMax: 128 * 1024 * 1024,
    rpcConnectionsMax: 10_000,
    rpcRequestsInFlightPerConnectionMax: 256,
    rpcRequestBufferBytesMax: 256 * 1024 * 1024,
    rpcRequestReadTimeoutMs: 30_000,
    connectionIdleMsMax: 600_000,
    remoteDataDir: null,
    remoteLogTaskIntervalMs: 60_000,
    remoteLogUploadSegmentsMax: 5,
    remoteLogReadChunkBytes: 4 * 1024 * 1024,
    s3Endpoint: null,
    s3Region: "us-east-1",
    s3PathStyleAccess: null,
    kvSnapshotIntervalMs: 10 * 60_000,
    kvSnapshotsRetained: 2,
    metricsPort: 0,
    datalakeFormat: null,
    lakeWarehouse: null,
    logLevel: "info",
    tabletServerId: 0,
    bindListeners: null,
    internalListenerName: DEFAULT_LISTENER_NAME,
    coordinatorAddress: null,
    tabletServerHeartbeatIntervalMs: 3_000,
    tabletServerSessionTimeoutMs: 30_000,
    zookeeperAddress: null,
    zookeeperRootPath: "/fluss",
    zookeeperSessionTimeoutMs: 60_000,
    zookeeperConnectionTimeoutMs: 15_000,
  };
}

type Setter = (c: ServerConfig, v: string) => void;

const int = (min: number, max: number) => (v: string) => parseInteger(v, min, max);

/** Node timers fire after 1 ms when asked to wait longer than this. */
export const TIMER_MS_MAX = 2 ** 31 - 1;
/** Upper end of rpc.request.buffer-bytes-max: 1 TiB, far past any machine, still a safe integer. */
const REQUEST_BUFFER_BYTES_MAX = 2 ** 40;
/** Segment sizes the log tablet accepts (positions are 32-bit in the offset index). */
export const SEGMENT_BYTES_MIN = 1024;
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1;
/** Smallest fetch response bound: a few batch headers (a fetch still returns one whole batch). */
export const FETCH_BYTES_MIN = 1024;
/** Room in a fetch response frame for headers and per-bucket fields beside the records. */
export const FETCH_FRAME_OVERHEAD_BYTES = 1024 * 1024;
/** Upper end of the open-files options (Linux's default fs.nr_open). */
const OPEN_FILES_MAX = 1 << 20;
/** Bounds of remote.log.read-chunk-size: a few batches, up to a size worth one request. */
export const REMOTE_READ_CHUNK_BYTES_MIN = 64 * 1024;
export const REMOTE_READ_CHUNK_BYTES_MAX = 256 * 1024 * 1024;

function invalidConfig(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function checkRange(value: number, min: number, max: number, unit: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidConfig(`must be in [${min}, ${max}] ${unit}, got ${value}`);
  }
  return value;
}

const size = (min: number, max: number) => (v: string) => checkRange(parseSizeBytes(v), min, max, "bytes");
const durationMs = (min: number, max: number) => (v: string) =>
  checkRange(parseDurationMs(v), min, max, "ms");
const nonEmpty = (v: string): string => {
  if (v.trim() === "") throw invalidConfig("must not be empty");
  return v;
};

const setters: Readonly<Record<string, Setter>> = {
  "data.dir": (c, v) => {
    c.dataDir = nonEmpty(v);
  },
  "bind.host": (c, v) => {
    c.bindHost = nonEmpty(v).trim();
  },
  "coordinator.port": (c, v) => {
    c.coordinatorPort = int(0, 65535)(v);
  },
  "tablet-server.port": (c, v) => {
    c.tabletServerPort = int(0, 65535)(v);
  },
  "tablet-server.count": (c, v) => {
    c.tabletServers = int(1, 64)(v);
  },
  "default.bucket.number": (c, v) => {
    c.defaultBucketNumber = int(1, 4096)(v);
  },
  "default.replication.factor": (c, v) => {
    c.defaultReplicationFactor = int(1, 64)(v);
  },
  "max.bucket.num": (c, v) => {
    c.bucketCountMax = int(1, 1_000_000)(v);
  },
  "max.partition.num": (c, v) => {
    c.partitionCountMax = int(1, 1_000_000)(v);
  },
  "auto-partition.check.interval": (c, v) => {
    c.autoPartitionCheckIntervalMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "log.segment.file-size": (c, v) => {
    c.logSegmentBytesMax = size(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX)(v);
  },
  "log.index.interval-size": (c, v) => {
    c.logIndexIntervalBytes = size(1, SEGMENT_BYTES_MAX)(v);
  },
  "log.flush.mode": (c, v) => {
    if (v !== "always" && v !== "interval" && v !== "never") {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `log.flush.mode must be always, interval or never`,
      );
    }
    c.logFlushMode = v;
  },
  "log.flush.interval": (c, v) => {
    c.logFlushIntervalMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "log.retention.check-interval": (c, v) => {
    c.logRetentionCheckIntervalMs = durationMs(1000, TIMER_MS_MAX)(v);
  },
  "log.replica.max-lag-time": (c, v) => {
    c.replicaMaxLagTimeMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "log.replica.min-in-sync-replicas-number": (c, v) => {
    c.minInSyncReplicas = int(1, 64)(v);
  },
  "log.replica.fetch.backoff-interval": (c, v) => {
    c.replicaFetchBackoffMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "log.replica.fetch.wait-max-time": (c, v) => {
    c.replicaFetchWaitMaxMs = durationMs(0, TIMER_MS_MAX)(v);
  },
  "log.replica.fetch.min-bytes": (c, v) => {
    c.replicaFetchMinBytes = size(1, SEGMENT_BYTES_MAX)(v);
  },
  "log.replica.fetch.max-bytes": (c, v) => {
    c.replicaFetchBytesMax = size(FETCH_BYTES_MIN, SEGMENT_BYTES_MAX)(v);
  },
  "log.replica.fetch.max-bytes-for-bucket": (c, v) => {
    c.replicaFetchBucketBytesMax = size(FETCH_BYTES_MIN, SEGMENT_BYTES_MAX)(v);
  },
  "tablet-server.controlled-shutdown.max-retries": (c, v) => {
    c.controlledShutdownRetriesMax = int(0, 1000)(v);
  },
  "tablet-server.controlled-shutdown.retry-interval": (c, v) => {
    c.controlledShutdownRetryIntervalMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "log.open-files.max": (c, v) => {
    c.logOpenFilesMax = int(0, OPEN_FILES_MAX)(v);
  },
  "server.open-files.reserve": (c, v) => {
    c.openFilesReserve = int(0, OPEN_FILES_MAX)(v);
  },
  "log.fetch.wait-max-time": (c, v) => {
    c.fetchWaitMsMax = durationMs(0, TIMER_MS_MAX)(v);
  },
  "log.fetch.max-bytes": (c, v) => {
    c.fetchBytesMax = size(FETCH_BYTES_MIN, SEGMENT_BYTES_MAX)(v);
  },
  "rpc.frame.max-size": (c, v) => {
    c.rpcFrameBytesMax = parseSizeBytes(v);
  },
  "rpc.max-connections": (c, v) => {
    c.rpcConnectionsMax = int(1, 1_000_000)(v);
  },
  "rpc.request.buffer-bytes-max": (c, v) => {
    c.rpcRequestBufferBytesMax = size(1, REQUEST_BUFFER_BYTES_MAX)(v);
  },
  "rpc.request.read-timeout": (c, v) => {
    c.rpcRequestReadTimeoutMs = durationMs(1, TIMER_MS_MAX)(v);
  },
  "connections.max.idle.ms": (c, v) => {
    c.connectionIdleMsMax = durationMs(1, TIMER_MS_MAX)(v);
  },
  "remote.data.dir": (c, v) => {
    checkRemoteDataDir(v);
    c.remoteDataDir = v;
  },
  "remote.log.task-interval-duration": (c, v) => {
    c.remoteLogTaskIntervalMs = durationMs(0, TIMER_MS_MAX)(v);
  },
  "remote.log.task-max-upload-segments": (c, v) => {
    c.remoteLogUploadSegmentsMax = int(1, 10_000)(v);
  },
  "remote.log.read-chunk-size": (c, v) => {
    c.remoteLogReadChunkBytes = size(REMOTE_READ_CHUNK_BYTES_MIN, REMOTE_READ_CHUNK_BYTES_MAX)(v);
  },
  "s3.endpoint": (c, v) => {
    if (!/^https?:\/\/[^\s/]+/.test(v)) throw invalidConfig("must be an http:// or https:// URL");
    c.s3Endpoint = v;
  },
  "s3.region": (c, v) => {
    c.s3Region = nonEmpty(v).trim();
  },
  "s3.path.style.access": (c, v) => {
    if (v !== "true" && v !== "false") throw invalidConfig("must be true or false");
    c.s3PathStyleAccess = v === "true";
  },
  "kv.snapshot.interval": (c, v) => {
    c.kvSnapshotIntervalMs = durationMs(1000, TIMER_MS_MAX)(v);
  },
  "kv.snapshot.num-retained": (c, v) => {
    c.kvSnapshotsRetained = int(1, 1000)(v);
  },
  "datalake.format": (c, v) => {
    if (v.trim().toLowerCase() !== "iceberg") throw invalidConfig(`only iceberg is supported, got '${v}'`);
    c.datalakeFormat = "iceberg";
  },
  "datalake.iceberg.warehouse": (c, v) => {
    c.lakeWarehouse = nonEmpty(v);
  },
  "datalake.iceberg.type": (_c, v) => {
    // The warehouse is a Hadoop-catalog file layout (what `type: hadoop` means in Fluss).
    if (v.trim().toLowerCase() !== "hadoop")
      throw invalidConfig(`only the hadoop catalog type is supported, got '${v}'`);
  },
  "metrics.port": (c, v) => {
    c.metricsPort = int(0, 65535)(v);
  },
  "tablet-server.id": (c, v) => {
    c.tabletServerId = int(0, 2 ** 31 - 1)(v);
  },
  "bind.listeners": (c, v) => {
    parseListeners(v);
    c.bindListeners = v.trim();
  },
  "internal.listener.name": (c, v) => {
    c.internalListenerName = nonEmpty(v).trim();
  },
  "coordinator.address": (c, v) => {
    parseHostPort(v);
    c.coordinatorAddress = v.trim();
  },
  "tablet-server.heartbeat-interval": (c, v) => {
    c.tabletServerHeartbeatIntervalMs = durationMs(10, TIMER_MS_MAX)(v);
  },
  "tablet-server.session-timeout": (c, v) => {
    c.tabletServerSessionTimeoutMs = durationMs(100, TIMER_MS_MAX)(v);
  },
  "zookeeper.address": (c, v) => {
    for (const part of nonEmpty(v).split(",")) parseHostPort(part);
    c.zookeeperAddress = v.trim();
  },
  "zookeeper.path.root": (c, v) => {
    if (!/^(\/[^/\s]+)+$/.test(v.trim()))
      throw invalidConfig("must be an absolute path like /fluss, without a trailing /");
    c.zookeeperRootPath = v.trim();
  },
  "zookeeper.client.session-timeout": (c, v) => {
    c.zookeeperSessionTimeoutMs = durationMs(100, TIMER_MS_MAX)(v);
  },
  "zookeeper.client.connection-timeout": (c, v) => {
    c.zookeeperConnectionTimeoutMs = durationMs(100, TIMER_MS_MAX)(v);
  },
  "log.level": (c, v) => {
    const levels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
    if (!levels.includes(v)) {
      throw new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `log.level must be one of ${levels.join(", ")}`);
    }
    c.logLevel = v;
  },
};

export const SERVER_OPTION_KEYS: readonly string[] = Object.keys(setters);

/** Apply `key=value` overrides; unknown keys and bad values are refused. */
export function applyServerOptions(
  base: ServerConfig,
  overrides: Readonly<Record<string, string>>,
): ServerConfig {
  const c = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    const set = setters[k];
    if (!set) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `unknown server option '${k}' (known: ${SERVER_OPTION_KEYS.join(", ")})`,
      );
    }
    try {
      set(c, v);
    } catch (err) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `server option '${k}': ${(err as Error).message}`,
      );
    }
  }
  // The index interval's default follows a smaller segment size (an index entry per segment at
  // most); both given and contradicting each other is refused below.
  if (overrides["log.index.interval-size"] === undefined && c.logIndexIntervalBytes > c.logSegmentBytesMax) {
    c.logIndexIntervalBytes = c.logSegmentBytesMax;
  }
  validateServerConfig(c);
  return c;
}

function refuse(key: string, message: string): never {
  throw invalidConfig(`server option '${key}': ${message}`);
}

type NumericField = {
  [K in keyof ServerConfig]: ServerConfig[K] extends number ? K : never;
}[keyof ServerConfig];

/** [option key, field, min, max, unit]: the range of every numeric option. */
const RANGES: ReadonlyArray<readonly [string, NumericField, number, number, string]> = [
  ["coordinator.port", "coordinatorPort", 0, 65535, ""],
  ["tablet-server.port", "tabletServerPort", 0, 65535, ""],
  ["tablet-server.count", "tabletServers", 1, 64, ""],
  ["default.bucket.number", "defaultBucketNumber", 1, 4096, ""],
  ["default.replication.factor", "defaultReplicationFactor", 1, 64, ""],
  ["max.bucket.num", "bucketCountMax", 1, 1_000_000, ""],
  ["max.partition.num", "partitionCountMax", 1, 1_000_000, ""],
  ["auto-partition.check.interval", "autoPartitionCheckIntervalMs", 1, TIMER_MS_MAX, "ms"],
  ["log.segment.file-size", "logSegmentBytesMax", SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX, "bytes"],
  ["log.index.interval-size", "logIndexIntervalBytes", 1, SEGMENT_BYTES_MAX, "bytes"],
  ["log.flush.interval", "logFlushIntervalMs", 1, TIMER_MS_MAX, "ms"],
  ["log.retention.check-interval", "logRetentionCheckIntervalMs", 1000, TIMER_MS_MAX, "ms"],
  ["log.replica.max-lag-time", "replicaMaxLagTimeMs", 1, TIMER_MS_MAX, "ms"],
  ["log.replica.min-in-sync-replicas-number", "minInSyncReplicas", 1, 64, ""],
  ["log.replica.fetch.backoff-interval", "replicaFetchBackoffMs", 1, TIMER_MS_MAX, "ms"],
  ["log.replica.fetch.wait-max-time", "replicaFetchWaitMaxMs", 0, TIMER_MS_MAX, "ms"],
  ["log.replica.fetch.min-bytes", "replicaFetchMinBytes", 1, SEGMENT_BYTES_MAX, "bytes"],
  ["log.replica.fetch.max-bytes", "replicaFetchBytesMax", FETCH_BYTES_MIN, SEGMENT_BYTES_MAX, "bytes"],
  [
    "log.replica.fetch.max-bytes-for-bucket",
    "replicaFetchBucketBytesMax",
    FETCH_BYTES_MIN,
    SEGMENT_BYTES_MAX,
    "bytes",
  ],
  ["tablet-server.controlled-shutdown.max-retries", "controlledShutdownRetriesMax", 0, 1000, ""],
  [
    "tablet-server.controlled-shutdown.retry-interval",
    "controlledShutdownRetryIntervalMs",
    1,
    TIMER_MS_MAX,
    "ms",
  ],
  ["log.open-files.max", "logOpenFilesMax", 0, OPEN_FILES_MAX, ""],
  ["server.open-files.reserve", "openFilesReserve", 0, OPEN_FILES_MAX, ""],
  ["log.fetch.wait-max-time", "fetchWaitMsMax", 0, TIMER_MS_MAX, "ms"],
  ["log.fetch.max-bytes", "fetchBytesMax", FETCH_BYTES_MIN, SEGMENT_BYTES_MAX, "bytes"],
  ["kv.snapshot.interval", "kvSnapshotIntervalMs", 1000, TIMER_MS_MAX, "ms"],
  ["remote.log.task-interval-duration", "remoteLogTaskIntervalMs", 0, TIMER_MS_MAX, "ms"],
  ["remote.log.task-max-upload-segments", "remoteLogUploadSegmentsMax", 1, 10_000, ""],
  [
    "remote.log.read-chunk-size",
    "remoteLogReadChunkBytes",
    REMOTE_READ_CHUNK_BYTES_MIN,
    REMOTE_READ_CHUNK_BYTES_MAX,
    "bytes",
  ],
  ["kv.snapshot.num-retained", "kvSnapshotsRetained", 1, 1000, ""],
  ["metrics.port", "metricsPort", 0, 65535, ""],
  ["rpc.request.buffer-bytes-max", "rpcRequestBufferBytesMax", 1, REQUEST_BUFFER_BYTES_MAX, "bytes"],
  ["rpc.request.read-timeout", "rpcRequestReadTimeoutMs", 1, TIMER_MS_MAX, "ms"],
  ["connections.max.idle.ms", "connectionIdleMsMax", 1, TIMER_MS_MAX, "ms"],
  ["tablet-server.id", "tabletServerId", 0, 2 ** 31 - 1, ""],
  ["tablet-server.heartbeat-interval", "tabletServerHeartbeatIntervalMs", 10, TIMER_MS_MAX, "ms"],
  ["tablet-server.session-timeout", "tabletServerSessionTimeoutMs", 100, TIMER_MS_MAX, "ms"],
  ["zookeeper.client.session-timeout", "zookeeperSessionTimeoutMs", 100, TIMER_MS_MAX, "ms"],
  ["zookeeper.client.connection-timeout", "zookeeperConnectionTimeoutMs", 100, TIMER_MS_MAX, "ms"],
];

/**
 * Check a whole config: every value in its option's range, and the options that depend on each
 * other consistent. applyServerOptions calls this; so does LocalCluster.start (a config may be
 * built in code). Throws INVALID_CONFIG_EXCEPTION naming the option.
 */
export function validateServerConfig(c: ServerConfig): void {
  if (c.dataDir.trim() === "") refuse("data.dir", "must not be empty");
  if (c.bindHost.trim() === "") refuse("bind.host", "must not be empty");
  if (c.remoteDataDir !== null) {
    try {
      checkRemoteDataDir(c.remoteDataDir);
    } catch (err) {
      refuse("remote.data.dir", (err as Error).message.replace(/^remote\.data\.dir: /, ""));
    }
  }
  if (c.lakeWarehouse !== null && c.lakeWarehouse.trim() === "")
    refuse("datalake.iceberg.warehouse", "must not be empty");
  if (c.lakeWarehouse !== null && c.datalakeFormat === null)
    refuse("datalake.iceberg.warehouse", "is set but 'datalake.format' is not (set datalake.format=iceberg)");
  for (const [key, field, min, max, unit] of RANGES) {
    const v = c[field];
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      refuse(key, `must be in [${min}, ${max}]${unit ? ` ${unit}` : ""}, got ${v}`);
    }
  }
  if (c.logOpenFilesMax !== 0 && c.logOpenFilesMax < LOG_OPEN_FILES_MIN) {
    refuse(
      "log.open-files.max",
      `must be 0 (derived from the open files limit) or at least ${LOG_OPEN_FILES_MIN}, got ${c.logOpenFilesMax}`,
    );
  }
  if (c.replicaFetchWaitMaxMs >= c.replicaMaxLagTimeMs) {
    refuse(
      "log.replica.fetch.wait-max-time",
      `${c.replicaFetchWaitMaxMs} ms is not shorter than 'log.replica.max-lag-time' (${c.replicaMaxLagTimeMs} ms): caught-up followers would leave the ISR while their fetch waits`,
    );
  }
  if (c.logIndexIntervalBytes > c.logSegmentBytesMax) {
    refuse(
      "log.index.interval-size",
      `${c.logIndexIntervalBytes} bytes is larger than 'log.segment.file-size' (${c.logSegmentBytesMax} bytes)`,
    );
  }
  if (c.defaultBucketNumber > c.bucketCountMax) {
    refuse(
      "default.bucket.number",
      `${c.defaultBucketNumber} is larger than 'max.bucket.num' (${c.bucketCountMax})`,
    );
  }
  if (c.fetchBytesMax + FETCH_FRAME_OVERHEAD_BYTES > c.rpcFrameBytesMax) {
    refuse(
      "log.fetch.max-bytes",
      `a fetch response of ${c.fetchBytesMax} bytes plus ${FETCH_FRAME_OVERHEAD_BYTES} bytes of headers does not fit in one frame ('rpc.frame.max-size' ${c.rpcFrameBytesMax} bytes)`,
    );
  }
  if (c.rpcRequestBufferBytesMax < c.rpcFrameBytesMax) {
    refuse(
      "rpc.request.buffer-bytes-max",
      `${c.rpcRequestBufferBytesMax} bytes is smaller than 'rpc.frame.max-size' (${c.rpcFrameBytesMax} bytes): a largest request could never be read`,
    );
  }
  if (c.tabletServerSessionTimeoutMs < 2 * c.tabletServerHeartbeatIntervalMs) {
    refuse(
      "tablet-server.session-timeout",
      `${c.tabletServerSessionTimeoutMs} ms is shorter than two 'tablet-server.heartbeat-interval's (${c.tabletServerHeartbeatIntervalMs} ms): one late heartbeat would expire a live server`,
    );
  }
  if (c.bindListeners !== null) internalListener(parseListeners(c.bindListeners), c.internalListenerName);
  if (c.coordinatorAddress !== null) parseHostPort(c.coordinatorAddress);
  checkPorts(c);
}

/** Fixed ports must fit below 65536 and not collide (0 picks free ports and never collides). */
function checkPorts(c: ServerConfig): void {
  const tabletFirst = c.tabletServerPort;
  const tabletLast = tabletFirst + c.tabletServers - 1;
  const inTabletRange = (p: number): boolean => tabletFirst !== 0 && p >= tabletFirst && p <= tabletLast;
  if (tabletFirst !== 0 && tabletLast > 65535) {
    refuse(
      "tablet-server.port",
      `${c.tabletServers} tablet servers ('tablet-server.count') from port ${tabletFirst} need ports up to ${tabletLast}, past 65535`,
    );
  }
  if (c.coordinatorPort !== 0 && inTabletRange(c.coordinatorPort)) {
    refuse(
      "coordinator.port",
      `${c.coordinatorPort} collides with the tablet server ports ${tabletFirst}-${tabletLast} ('tablet-server.port', 'tablet-server.count')`,
    );
  }
  if (c.metricsPort !== 0 && c.metricsPort === c.coordinatorPort) {
    refuse("metrics.port", `${c.metricsPort} is also 'coordinator.port'`);
  }
  if (c.metricsPort !== 0 && inTabletRange(c.metricsPort)) {
    refuse(
      "metrics.port",
      `${c.metricsPort} collides with the tablet server ports ${tabletFirst}-${tabletLast} ('tablet-server.port', 'tablet-server.count')`,
    );
  }
}
