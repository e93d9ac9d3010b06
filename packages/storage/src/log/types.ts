// The shapes LogTablet takes and returns (kept apart so the tablet file stays about behaviour).

import type { Clock, Scheduler } from "@fluss-ts/common";
import type { LogConfigInput } from "./config.ts";
import type { FileCache } from "./file-cache.ts";
import type { TailCut } from "./log-loader.ts";
import type { RemoteLogOptions } from "./remote-log.ts";

export interface LogTabletOptions {
  readonly dir: string;
  readonly clock: Clock;
  readonly config?: LogConfigInput;
  /** Interval flushes (default: the process's timers, unref'ed). */
  readonly scheduler?: Scheduler;
  /** The server's bounded cache of open files, shared by its tablets (default: one per process). */
  readonly files?: FileCache;
  /** Remote log tiering (remote-log.ts): where this bucket's closed segments are copied. */
  readonly remote?: RemoteLogOptions;
}

export interface AppendOptions {
  /** Stamped into batches whose magic carries a leader epoch (v2). */
  readonly leaderEpoch?: number;
}

export interface AppendInfo {
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly logEndOffset: bigint;
  /** The batch had already been appended by this writer: nothing was written this time. */
  readonly duplicate: boolean;
}

/** What a truncation removed, for the caller to log (truncations by replication are never silent). */
export interface TruncateInfo {
  /** The log end offset before the truncation. */
  readonly previousEndOffset: bigint;
  /** The log end offset after it (the start of the batch holding the requested offset, at most). */
  readonly endOffset: bigint;
  /** The high watermark before the truncation (a cut below it removes data once committed here). */
  readonly previousHighWatermark: bigint;
}

export interface ReadResult {
  /** Whole batches, possibly none. */
  readonly records: Uint8Array;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

export interface LogEvent {
  readonly logEndOffset: bigint;
  readonly highWatermark: bigint;
}

export type LogListener = (event: LogEvent) => void;

export interface LogTabletStats {
  readonly appends: number;
  /** Appends whose write failed and was undone (e.g. a full disk); the log is as before each. */
  readonly appendsFailed: number;
  readonly duplicates: number;
  readonly bytesAppended: number;
  readonly flushes: number;
  readonly rolls: number;
  readonly segments: number;
  readonly truncatedOnLoadBytes: number;
  /** Torn tails recovery cut when the tablet was opened (file, position, bytes): for the log. */
  readonly tailCuts: readonly TailCut[];
  readonly cleanShutdown: boolean;
  /** False once writes are fenced (a failed fdatasync or an append that could not be undone). */
  readonly writable: boolean;
}
