// Configuration of a log tablet. Time reaches the tablet two ways (a Clock for "now" and common's
// Scheduler for periodic work, see types.ts), so tests can drive both. `resolveLogConfig` fills defaults and refuses values
// that would break an invariant (segment positions and relative offsets must fit the index).

import { Errors, FlussError } from "@fluss-ts/common";
import {
  flushIntervalMsDefault,
  indexBytesMaxDefault,
  indexIntervalBytesDefault,
  offsetIndexEntryBytes,
  recoveryCheckpointIntervalMsDefault,
  segmentBytesMaxDefault,
  segmentBytesMaxLimit,
  timeIndexEntryBytes,
  writerExpirationMsDefault,
} from "./constants.ts";

/**
 * always: an append resolves only once its bytes are fdatasync'ed (group commit);
 * interval: fdatasync every `intervalMs`; never: leave it to the OS (rolled segments are still
 * flushed in the background so that recovery only re-checks the active segment).
 */
export type FlushMode = "always" | "interval" | "never";

export interface FlushPolicy {
  readonly mode: FlushMode;
  readonly intervalMs: number;
}

export interface LogConfig {
  readonly segmentBytesMax: number;
  readonly indexIntervalBytes: number;
  readonly indexBytesMax: number;
  readonly flush: FlushPolicy;
  readonly writerExpirationMs: number;
  readonly recoveryCheckpointIntervalMs: number;
}

export interface LogConfigInput {
  readonly segmentBytesMax?: number;
  readonly indexIntervalBytes?: number;
  readonly indexBytesMax?: number;
  readonly flush?: Partial<FlushPolicy>;
  readonly writerExpirationMs?: number;
  readonly recoveryCheckpointIntervalMs?: number;
}

function invalid(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function intIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function resolveLogConfig(input: LogConfigInput = {}): LogConfig {
  const mode = input.flush?.mode ?? "always";
  if (mode !== "always" && mode !== "interval" && mode !== "never") {
    throw invalid(`flush mode must be always, interval or never, got ${String(mode)}`);
  }
  const segmentBytesMax = intIn(
    "segmentBytesMax",
    input.segmentBytesMax ?? segmentBytesMaxDefault,
    1024,
    segmentBytesMaxLimit,
  );
  const indexBytesMax = intIn(
    "indexBytesMax",
    input.indexBytesMax ?? indexBytesMaxDefault,
    4 * offsetIndexEntryBytes * timeIndexEntryBytes,
    segmentBytesMaxLimit,
  );
  return {
    segmentBytesMax,
    indexIntervalBytes: intIn(
      "indexIntervalBytes",
      input.indexIntervalBytes ?? indexIntervalBytesDefault,
      1,
      segmentBytesMaxLimit,
    ),
    indexBytesMax,
    flush: {
      mode,
      intervalMs: intIn(
        "flush.intervalMs",
        input.flush?.intervalMs ?? flushIntervalMsDefault,
        1,
        2 ** 31 - 1,
      ),
    },
    writerExpirationMs: intIn(
      "writerExpirationMs",
      input.writerExpirationMs ?? writerExpirationMsDefault,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    recoveryCheckpointIntervalMs: intIn(
      "recoveryCheckpointIntervalMs",
      input.recoveryCheckpointIntervalMs ?? recoveryCheckpointIntervalMsDefault,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}
