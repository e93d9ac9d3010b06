// Server options: every option has a default, a Fluss-style key ("log.segment.file-size") for
// `--config key=value` and fluss.yaml-like overrides, and a parser that refuses bad values with a
// clear INVALID_CONFIG_EXCEPTION. Limits carry their unit last in the field name.

import { homedir } from "node:os";
import { join } from "node:path";
import { Errors, FlussError, parseDurationMs, parseInteger, parseSizeBytes } from "@fluss-ts/common";

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
  /** Upper bound on a fetch's long-poll wait, whatever the client asks. */
  fetchWaitMsMax: number;
  /** Upper bound on the bytes one fetch response carries. */
  fetchBytesMax: number;
  rpcFrameBytesMax: number;
  rpcConnectionsMax: number;
  rpcRequestsInFlightPerConnectionMax: number;
  /** Root of KV snapshots (and later tiered log segments); default `<dataDir>/remote`. */
  remoteDataDir: string | null;
  kvSnapshotIntervalMs: number;
  kvSnapshotsRetained: number;
  /** Prometheus metrics port; 0 disables the endpoint. */
  metricsPort: number;
  logLevel: string;
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
    fetchWaitMsMax: 30_000,
    fetchBytesMax: 64 * 1024 * 1024,
    rpcFrameBytesMax: 128 * 1024 * 1024,
    rpcConnectionsMax: 10_000,
    rpcRequestsInFlightPerConnectionMax: 256,
    remoteDataDir: null,
    kvSnapshotIntervalMs: 10 * 60_000,
    kvSnapshotsRetained: 2,
    metricsPort: 0,
    logLevel: "info",
  };
}

type Setter = (c: ServerConfig, v: string) => void;

const int = (min: number, max: number) => (v: string) => parseInteger(v, min, max);

const setters: Readonly<Record<string, Setter>> = {
  "data.dir": (c, v) => {
    c.dataDir = v;
  },
  "bind.host": (c, v) => {
    c.bindHost = v;
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
    const ms = parseDurationMs(v);
    if (ms < 1) throw new FlussError(Errors.INVALID_CONFIG_EXCEPTION, "must be at least 1 ms");
    c.autoPartitionCheckIntervalMs = ms;
  },
  "log.segment.file-size": (c, v) => {
    c.logSegmentBytesMax = parseSizeBytes(v);
  },
  "log.index.interval-size": (c, v) => {
    c.logIndexIntervalBytes = parseSizeBytes(v);
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
    c.logFlushIntervalMs = parseDurationMs(v);
  },
  "log.retention.check-interval": (c, v) => {
    c.logRetentionCheckIntervalMs = parseDurationMs(v);
  },
  "log.fetch.wait-max-time": (c, v) => {
    c.fetchWaitMsMax = parseDurationMs(v);
  },
  "log.fetch.max-bytes": (c, v) => {
    c.fetchBytesMax = parseSizeBytes(v);
  },
  "rpc.frame.max-size": (c, v) => {
    c.rpcFrameBytesMax = parseSizeBytes(v);
  },
  "rpc.max-connections": (c, v) => {
    c.rpcConnectionsMax = int(1, 1_000_000)(v);
  },
  "remote.data.dir": (c, v) => {
    c.remoteDataDir = v;
  },
  "kv.snapshot.interval": (c, v) => {
    c.kvSnapshotIntervalMs = parseDurationMs(v);
  },
  "kv.snapshot.num-retained": (c, v) => {
    c.kvSnapshotsRetained = int(1, 1000)(v);
  },
  "metrics.port": (c, v) => {
    c.metricsPort = int(0, 65535)(v);
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
  return c;
}
