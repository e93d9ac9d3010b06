// Client options with Fluss's defaults (client.writer.*, client.scanner.*). Every limit has a unit in
// its name and a default; `resolve*` functions check user input and fill the defaults in one place.

import {
  type Clock,
  invalidArgument,
  type PartitionSpec,
  type Predicate,
  type Scheduler,
} from "@fluss-ts/common";
import type { OutOfRangePolicy, ScanPositions } from "./scan/positions.ts";

export interface ConnectOptions {
  /** `host:port` of any server, or several comma-separated / as an array. */
  bootstrap: string | readonly string[];
  /** Give up connecting to a server after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Fail a request that has no answer after this long (default 30 s; fetches add their wait). */
  requestTimeoutMs?: number;
  /** Name sent in ApiVersions. */
  clientId?: string;
  /**
   * Time and timers of every writer, scanner and lookup of this connection (default: the
   * process's). Tests pass a ManualClock and a ManualScheduler to run on virtual time.
   */
  clock?: Clock;
  scheduler?: Scheduler;
}

export type Acks = 0 | 1 | -1 | "all";

export interface WriterOptions {
  /** Close a batch once its rows reach about this many bytes (default 2 MiB, Fluss's batch size). */
  batchSizeBytes?: number;
  /**
   * Send a non-full batch after this long (default 100 ms, Fluss's `client.writer.batch-timeout`).
   * The trade-off: a longer linger fills bigger batches (fewer requests and fsyncs, more rows/s),
   * but a row waits up to that long before it is even sent. 0 is the latency setting: a batch is
   * sent as soon as the current turn of the event loop ends, so the rows appended in one
   * synchronous run (a loop of `await append`) still share a batch, and nothing waits for a timer.
   */
  lingerMs?: number;
  /** Rows held in memory before `append` waits (default 64 MiB, Fluss's buffer memory). */
  bufferBytes?: number;
  /**
   * Fluss client.writer.acks. "all"/-1 (default): `flush` resolves once the rows are committed
   * (durable under the server's flush mode and visible to readers). 1: once they are in the
   * leader's log, before it fsyncs them (a machine crash may lose them). 0: without waiting for
   * the server at all; rows are not retried and a lost request is not noticed. 0 and 1 need
   * `idempotence: false`.
   */
  acks?: Acks;
  /** Retries of retriable errors per batch (default: unlimited within `deliveryTimeoutMs`). */
  retries?: number;
  /** Give up on a batch after this long (default 2 min). */
  deliveryTimeoutMs?: number;
  /** Writer id + batch sequence so retries never duplicate (default true). */
  idempotence?: boolean;
  /** In-flight requests per bucket (default 5, the most idempotence allows). */
  inFlightPerBucketMax?: number;
  /** Create a missing partition when a row needs it (default true). */
  createMissingPartitions?: boolean;
  /**
   * Largest request the writer sends to one leader, and so the largest row it takes: a bigger
   * row fails its append with RECORD_TOO_LARGE_EXCEPTION (default 10 MiB, Fluss's
   * client.writer.request-max-size, or batchSizeBytes when that is larger; at most 64 MiB).
   */
  requestBytesMax?: number;
}

export interface ResolvedWriterOptions {
  batchSizeBytes: number;
  lingerMs: number;
  bufferBytes: number;
  acks: 0 | 1 | -1;
  retries: number;
  deliveryTimeoutMs: number;
  idempotence: boolean;
  inFlightPerBucketMax: number;
  requestBytesMax: number;
}

const REQUEST_BYTES_MAX_DEFAULT = 10 * 1024 * 1024;
/** Batches and requests stay well inside the RPC frame limit (100 MiB on the client by default). */
const REQUEST_BYTES_MAX_LIMIT = 64 * 1024 * 1024;

function positiveInt(name: string, v: number | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw invalidArgument(`${name} must be an integer in [0, ${max}]`);
  return v;
}

export function resolveWriterOptions(o: WriterOptions = {}): ResolvedWriterOptions {
  const acks = o.acks === undefined || o.acks === "all" ? -1 : o.acks;
  if (acks !== 0 && acks !== 1 && acks !== -1) throw invalidArgument("acks must be 0, 1, -1 or 'all'");
  const idempotence = o.idempotence ?? true;
  if (idempotence && acks !== -1) throw invalidArgument("an idempotent writer needs acks 'all'");
  const inFlight = positiveInt("inFlightPerBucketMax", o.inFlightPerBucketMax, 5, 64);
  if (idempotence && inFlight > 5)
    throw invalidArgument("an idempotent writer allows at most 5 in-flight requests");
  const batchSizeBytes = Math.max(
    1024,
    positiveInt("batchSizeBytes", o.batchSizeBytes, 2 * 1024 * 1024, REQUEST_BYTES_MAX_LIMIT),
  );
  const requestBytesMax = positiveInt(
    "requestBytesMax",
    o.requestBytesMax,
    Math.max(REQUEST_BYTES_MAX_DEFAULT, batchSizeBytes),
    REQUEST_BYTES_MAX_LIMIT,
  );
  if (requestBytesMax < batchSizeBytes) {
    throw invalidArgument(
      `batchSizeBytes (${batchSizeBytes}) must not exceed requestBytesMax (${requestBytesMax})`,
    );
  }
  return {
    batchSizeBytes,
    lingerMs: positiveInt("lingerMs", o.lingerMs, 100, 60_000),
    bufferBytes: Math.max(64 * 1024, positiveInt("bufferBytes", o.bufferBytes, 64 * 1024 * 1024, 2 ** 40)),
    acks,
    retries: positiveInt("retries", o.retries, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    deliveryTimeoutMs: positiveInt("deliveryTimeoutMs", o.deliveryTimeoutMs, 120_000, 2 ** 31),
    idempotence,
    inFlightPerBucketMax: Math.max(1, inFlight),
    requestBytesMax,
  };
}

/** Where a scan starts in each bucket. */
export type StartPosition =
  | "earliest"
  | "latest"
  | { readonly offset: bigint | number }
  | { readonly timestamp: number | Date };

/** Which partitions of a partitioned table: an exact (partial) spec or a predicate over partition keys. */
export type PartitionsOption = string | Predicate | PartitionSpec;

export interface ScanOptions<K extends string = string> {
  /** Column names to read (projection pushdown); default all columns. */
  columns?: readonly K[];
  /**
   * Only rows matching this predicate (`"price > 100 AND region = 'EU'"`, or a Predicate built
   * with common's `leaf`/`and`/`or`/`not`). The server skips whole batches whose statistics rule
   * it out; the client filters the rows of the batches it receives, so the result is exact.
   */
  filter?: string | Predicate;
  /**
   * Partitioned tables: only these partitions (an exact spec such as `{ dt: "20261126" }`, or a
   * predicate over partition keys such as `"dt >= '20261120'"`). While following, partitions
   * created later that match are picked up.
   */
  partitions?: PartitionsOption;
  /** How often a following scan of a partitioned table looks for new partitions (default 1 s). */
  discoverPartitionsMs?: number;
  /**
   * Where to start (default "earliest"): a StartPosition, or the `positions()` of an earlier scan
   * of this table to continue exactly where it stopped (buckets and partitions it does not name
   * start at their earliest offset; partitions since dropped are skipped).
   */
  from?: StartPosition | ScanPositions;
  /**
   * Resuming from positions: a saved offset outside its bucket's log (rows removed by retention
   * before they were read, or a log that ends before it) fails the scan with
   * LOG_OFFSET_OUT_OF_RANGE_EXCEPTION ("fail", the default) or moves to the nearest end ("clamp").
   */
  outOfRange?: OutOfRangePolicy;
  /** Buckets to read; default all. */
  buckets?: readonly number[];
  /** Stop once every bucket reaches the latest offset seen when the scan started (default: follow forever). */
  untilLatest?: boolean;
  signal?: AbortSignal;
  /** Long-poll wait per fetch (default 500 ms, Fluss's fetch wait). */
  fetchWaitMs?: number;
  fetchMinBytes?: number;
  fetchMaxBytes?: number;
  fetchBucketMaxBytes?: number;
}
