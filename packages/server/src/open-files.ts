// The server's budget of open file descriptors. Without one, a 400-bucket table under
// `ulimit -n 1024` ran the process out of descriptors (EMFILE) and it could not even restart on its
// data directory. The budget splits the soft RLIMIT_NOFILE at start:
//   limit = in use at start + reserve + log files + primary-key buckets x KV_BUCKET_OPEN_FILES
//  - in use at start: what the process holds before the cluster starts (stdio, the event loop);
//  - reserve (server.open-files.reserve): connections, listeners, the metadata store and
//    short-lived files (checkpoints, snapshots, directory listings, KV restores). Connections are
//    capped to fit in it (rpc.max-connections lowered per server when needed), so a flood of
//    connections cannot take the descriptors storage counts on;
//  - log files (log.open-files.max): the LRU file cache every log tablet shares (segments, indexes,
//    directories; storage's file-cache.ts), so any number of log buckets fits in it;
//  - each hosted primary-key bucket keeps its lmdb store open: KV_BUCKET_OPEN_FILES descriptors
//    that cannot be closed between uses. These are counted: the coordinator refuses a table or
//    partition whose primary-key buckets would not fit (BUCKET_MAX_NUM_EXCEPTION, naming the limit
//    and how to raise it), and a primary-key replica beyond the budget at restart goes offline
//    with that explanation instead of the process running out of descriptors.
// Node has no getrlimit: the soft limit is read from /proc/self/limits (Linux), else from
// `ulimit -n` in a child shell, else assumed to be 1024 (the usual default). (Node raises its soft
// limit to the hard one at start-up, so the hard limit a service is given is what counts.)
// Invariant: kvBucketsHosted <= kvBucketsMax; every reservation is released exactly once.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { assert, Errors, FlussError } from "@fluss-ts/common";

/** Descriptors one primary-key bucket's lmdb environment holds (lock.mdb, data.mdb twice: measured). */
export const KV_BUCKET_OPEN_FILES = 3;
/** A limit reported as "unlimited" counts as this many (Linux's default fs.nr_open). */
const UNLIMITED_OPEN_FILES = 1 << 20;
/** Assumed when the limit cannot be read. */
const FALLBACK_OPEN_FILES = 1024;
/** The derived reserve: a quarter of the limit, within these bounds. */
const RESERVE_MIN = 64;
const RESERVE_MAX = 4096;
/** Part of the reserve kept for files: the metadata store, listeners, short-lived files. */
const RESERVE_FOR_FILES = 16;
/** Smallest log file cache worth running with (an active segment's three files for a few buckets). */
export const LOG_OPEN_FILES_MIN = 16;

export interface OpenFilesLimit {
  readonly soft: number;
  readonly source: "/proc/self/limits" | "ulimit -n" | "assumed";
}

function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === "unlimited") return UNLIMITED_OPEN_FILES;
  if (!/^[0-9]{1,10}$/.test(t)) return null;
  return Math.min(Number(t), UNLIMITED_OPEN_FILES);
}

/** The soft limit on open files of this process. */
export function readOpenFilesLimit(): OpenFilesLimit {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    const soft = m === null ? null : parseLimit(m[1]!);
    if (soft !== null) return { soft, source: "/proc/self/limits" };
  } catch {
    // not Linux: ask a shell
  }
  try {
    const soft = parseLimit(
      execFileSync("/bin/sh", ["-c", "ulimit -n"], { encoding: "utf8", timeout: 5000 }),
    );
    if (soft !== null) return { soft, source: "ulimit -n" };
  } catch {
    // no shell either
  }
  return { soft: FALLBACK_OPEN_FILES, source: "assumed" };
}

/** Descriptors this process has open now (Linux /proc/self/fd), or null when unknown. */
export function countOpenFiles(): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1; // minus the one reading the directory
  } catch {
    return null;
  }
}

export interface OpenFilesPlan {
  readonly limit: number;
  readonly limitSource: OpenFilesLimit["source"];
  readonly inUseAtStart: number;
  readonly reserve: number;
  /** Bound of the log file cache. */
  readonly logOpenFilesMax: number;
  readonly kvBucketOpenFiles: number;
  readonly kvBucketsMax: number;
  /** Connections each RPC server accepts at most (rpc.max-connections, capped to the reserve). */
  readonly connectionsPerServerMax: number;
}

export interface OpenFilesOptions {
  /** log.open-files.max; 0 derives it (half of what the reserve leaves). */
  readonly logOpenFilesMax: number;
  /** server.open-files.reserve; 0 derives it (a quarter of the limit, 64 to 4096). */
  readonly openFilesReserve: number;
  /** rpc.max-connections: per RPC server, before the cap. */
  readonly rpcConnectionsMax: number;
  /** RPC servers in the process (coordinator and tablet servers), sharing the reserve. */
  readonly servers: number;
}

function tooLow(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

/** Split `limit` as the file comment says; INVALID_CONFIG_EXCEPTION when the options do not fit. */
export function planOpenFiles(
  limit: OpenFilesLimit,
  inUseAtStart: number,
  options: OpenFilesOptions,
): OpenFilesPlan {
  const reserve =
    options.openFilesReserve > 0
      ? options.openFilesReserve
      : Math.min(RESERVE_MAX, Math.max(RESERVE_MIN, Math.floor(limit.soft / 4)));
  const available = limit.soft - inUseAtStart - reserve;
  const how = `raise the limit (ulimit -n, or LimitNOFILE= for a service)`;
  if (available < LOG_OPEN_FILES_MIN) {
    throw tooLow(
      `the open files limit ${limit.soft} (${limit.source}) is too low: ${inUseAtStart} are in use at start and 'server.open-files.reserve' keeps ${reserve}, leaving ${Math.max(0, available)} for storage where at least ${LOG_OPEN_FILES_MIN} are needed; ${how} or lower 'server.open-files.reserve'`,
    );
  }
  const logOpenFilesMax =
    options.logOpenFilesMax > 0
      ? options.logOpenFilesMax
      : Math.max(LOG_OPEN_FILES_MIN, Math.floor(available / 2));
  if (logOpenFilesMax > available) {
    throw tooLow(
      `'log.open-files.max' ${logOpenFilesMax} does not fit the open files limit ${limit.soft} (${limit.source}): ${inUseAtStart} in use at start and ${reserve} reserved ('server.open-files.reserve') leave ${available}; ${how} or lower 'log.open-files.max'`,
    );
  }
  return {
    limit: limit.soft,
    limitSource: limit.source,
    inUseAtStart,
    reserve,
    logOpenFilesMax,
    kvBucketOpenFiles: KV_BUCKET_OPEN_FILES,
    kvBucketsMax: Math.floor((available - logOpenFilesMax) / KV_BUCKET_OPEN_FILES),
    connectionsPerServerMax: Math.min(
      options.rpcConnectionsMax,
      Math.max(1, Math.floor((reserve - RESERVE_FOR_FILES) / Math.max(1, options.servers))),
    ),
  };
}

/** Process-wide accounting of the descriptors primary-key buckets hold (shared by tablet servers). */
export class OpenFilesBudget {
  readonly plan: OpenFilesPlan;
  private hosted = 0;

  constructor(plan: OpenFilesPlan) {
    this.plan = plan;
  }

  /** Read the limit and what is in use now, and plan with `options`. */
  static measure(options: OpenFilesOptions): OpenFilesBudget {
    const limit = readOpenFilesLimit();
    return new OpenFilesBudget(planOpenFiles(limit, countOpenFiles() ?? 32, options));
  }

  get kvBucketsHosted(): number {
    return this.hosted;
  }

  /** The budget in one line, for the start-up log. */
  describe(): string {
    const p = this.plan;
    return `open files: limit ${p.limit} (${p.limitSource}); ${p.inUseAtStart} in use at start, ${p.reserve} reserved for connections (at most ${p.connectionsPerServerMax} per server), the metadata store and short-lived files; log segments share ${p.logOpenFilesMax} (any number of log buckets); primary-key buckets: at most ${p.kvBucketsMax} (${p.kvBucketOpenFiles} each, for their lmdb store)`;
  }

  /** What limits primary-key buckets and how to get more (ends error messages). */
  private explain(): string {
    const p = this.plan;
    return `each keeps ${p.kvBucketOpenFiles} files open for its lmdb store; open files limit ${p.limit} (${p.limitSource}), ${p.inUseAtStart} in use at start, ${p.reserve} reserved ('server.open-files.reserve'), ${p.logOpenFilesMax} for log segments ('log.open-files.max'): raise the limit (ulimit -n) and restart, or lower 'log.open-files.max'`;
  }

  /**
   * Coordinator side, before a table or partition is recorded: BUCKET_MAX_NUM_EXCEPTION when
   * `count` more primary-key buckets would not fit.
   */
  checkNewKvBuckets(count: number, what: string): void {
    const free = this.plan.kvBucketsMax - this.hosted;
    if (count <= free) return;
    throw new FlussError(
      Errors.BUCKET_MAX_NUM_EXCEPTION,
      `${what} needs ${count} primary-key buckets but this server has room for ${free} more (${this.hosted} of at most ${this.plan.kvBucketsMax} hosted; ${this.explain()})`,
    );
  }

  /** Tablet side, before a primary-key bucket opens its store: KV_STORAGE_EXCEPTION when full. */
  reserveKvBucket(): void {
    if (this.hosted >= this.plan.kvBucketsMax) {
      throw new FlussError(
        Errors.KV_STORAGE_EXCEPTION,
        `this server already hosts ${this.hosted} primary-key buckets, the most its open files allow (${this.explain()})`,
      );
    }
    this.hosted++;
  }

  releaseKvBucket(): void {
    assert(this.hosted > 0, "a primary-key bucket reservation is released once");
    this.hosted--;
  }
}
