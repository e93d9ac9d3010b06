// Automatic partitions (Fluss's AutoPartitionStrategy and its PartitionUtils helpers): the
// `table.auto-partition.*` options of a table, the time value of "now + k units" in the table's
// zone, which partitions to pre-create, which have expired, and the checks a manually created
// partition of such a table must pass.
// Rules (as Fluss): the time key is `table.auto-partition.key`, or the only partition key. Names
// for offsets 0..num-precreate-1 are pre-created (offset 0 = the unit containing now); only tables
// with a single partition key pre-create (the others must set num-precreate 0: a time value alone
// is not a full name). A partition expires when its time value sorts (as a plain string) before
// the value of now − num-retention units; a negative num-retention keeps everything. HOUR steps
// move the instant; DAY/MONTH/QUARTER/YEAR steps move the local date (java.time semantics).
// Invariants: pure given `nowMs`; values of one format sort in time order as strings.

import { Errors, FlussError } from "../errors.ts";
import { parseBoolean, parseInteger } from "../options.ts";
import type { DataType } from "../types.ts";
import { type PartitionSpec, partitionValuesOf } from "./naming.ts";
import {
  AUTO_PARTITION_TIME_UNITS,
  type AutoPartitionTimeUnit,
  timeFormatOf,
  validateTimeFormat,
} from "./time-format.ts";
import {
  type LocalDateTime,
  localAt,
  plusDays,
  plusMonths,
  resolveLocal,
  resolveZone,
  systemTimeZone,
  utcFields,
} from "./zoned-time.ts";

/** Option keys (Fluss's names). */
export const AUTO_PARTITION_ENABLED = "table.auto-partition.enabled";
export const AUTO_PARTITION_KEY = "table.auto-partition.key";
export const AUTO_PARTITION_TIME_UNIT = "table.auto-partition.time-unit";
export const AUTO_PARTITION_TIME_FORMAT = "table.auto-partition.time-format";
export const AUTO_PARTITION_TIME_ZONE = "table.auto-partition.time-zone";
export const AUTO_PARTITION_NUM_PRECREATE = "table.auto-partition.num-precreate";
export const AUTO_PARTITION_NUM_RETENTION = "table.auto-partition.num-retention";

export const AUTO_PARTITION_NUM_PRECREATE_DEFAULT = 2;
export const AUTO_PARTITION_NUM_RETENTION_DEFAULT = 7;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const HOUR_MS = 3_600_000;
/** Years an auto-partition time may have; beyond them nothing is created or considered older. */
const YEAR_MIN = 1;
const YEAR_MAX = 9999;

export interface AutoPartitionStrategy {
  readonly enabled: boolean;
  /** The time partition key as configured (null: the table's only partition key). */
  readonly key: string | null;
  readonly timeUnit: AutoPartitionTimeUnit;
  /** A custom DateTimeFormatter-style pattern, or null for the unit's default. */
  readonly timeFormat: string | null;
  readonly numPrecreate: number;
  readonly numRetention: number;
  /** Zone id the time values are computed in. */
  readonly timeZone: string;
}

function invalidConfig(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function invalidTable(message: string): FlussError {
  return new FlussError(Errors.INVALID_TABLE_EXCEPTION, message);
}

function invalidPartition(message: string): FlussError {
  return new FlussError(Errors.PARTITION_SPEC_INVALID_EXCEPTION, message);
}

/**
 * The strategy of a table's properties, defaults applied. `defaultTimeZone` stands for an unset
 * time zone (Fluss: the system zone of the process that evaluates it, here the server's).
 */
export function autoPartitionStrategyOf(
  properties: Readonly<Record<string, string>>,
  defaultTimeZone: string = systemTimeZone(),
): AutoPartitionStrategy {
  const get = (k: string): string | undefined => (Object.hasOwn(properties, k) ? properties[k] : undefined);
  const unitText = (get(AUTO_PARTITION_TIME_UNIT) ?? "DAY").trim().toUpperCase();
  if (!(AUTO_PARTITION_TIME_UNITS as readonly string[]).includes(unitText)) {
    throw invalidConfig(
      `invalid value '${get(AUTO_PARTITION_TIME_UNIT)}' for '${AUTO_PARTITION_TIME_UNIT}' ` +
        `(allowed: ${AUTO_PARTITION_TIME_UNITS.join(", ")})`,
    );
  }
  const int = (k: string, def: number): number => {
    const v = get(k);
    return v === undefined ? def : parseInteger(v, INT32_MIN, INT32_MAX);
  };
  const key = get(AUTO_PARTITION_KEY);
  const enabled = get(AUTO_PARTITION_ENABLED);
  return {
    enabled: enabled === undefined ? false : parseBoolean(enabled),
    key: key === undefined || key.trim() === "" ? null : key,
    timeUnit: unitText as AutoPartitionTimeUnit,
    timeFormat: get(AUTO_PARTITION_TIME_FORMAT) ?? null,
    numPrecreate: int(AUTO_PARTITION_NUM_PRECREATE, AUTO_PARTITION_NUM_PRECREATE_DEFAULT),
    numRetention: int(AUTO_PARTITION_NUM_RETENTION, AUTO_PARTITION_NUM_RETENTION_DEFAULT),
    timeZone: get(AUTO_PARTITION_TIME_ZONE) ?? defaultTimeZone,
  };
}

/** The partition key whose value is the partition's time. */
export function autoPartitionKeyOf(partitionKeys: readonly string[], s: AutoPartitionStrategy): string {
  return s.key ?? partitionKeys[0]!;
}

/** The time value inside a partition name (the whole name for a single partition key). */
export function autoPartitionValueOf(
  partitionKeys: readonly string[],
  s: AutoPartitionStrategy,
  partitionName: string,
): string {
  if (partitionKeys.length === 1) return partitionName;
  const values = partitionValuesOf(partitionKeys, partitionName);
  return values[partitionKeys.indexOf(autoPartitionKeyOf(partitionKeys, s))]!;
}

/** Local fields of now + `offset` units in the strategy's zone, or null outside years 1..9999. */
function shiftedLocal(
  s: Pick<AutoPartitionStrategy, "timeUnit" | "timeZone">,
  nowMs: number,
  offset: number,
): LocalDateTime | null {
  const zone = resolveZone(s.timeZone);
  const inRange = (t: LocalDateTime): boolean => t.year >= YEAR_MIN && t.year <= YEAR_MAX;
  if (s.timeUnit === "HOUR") {
    const at = nowMs + offset * HOUR_MS;
    if (!inRange(utcFields(at))) return null;
    return localAt(zone, at);
  }
  const local = localAt(zone, nowMs);
  const months = s.timeUnit === "YEAR" ? 12 : s.timeUnit === "QUARTER" ? 3 : s.timeUnit === "MONTH" ? 1 : 0;
  if (months > 0 && Math.abs(offset) > (YEAR_MAX - YEAR_MIN + 1) * (12 / months)) return null;
  if (months === 0 && Math.abs(offset) > (YEAR_MAX - YEAR_MIN + 1) * 366) return null;
  const target = months > 0 ? plusMonths(local, offset * months) : plusDays(local, offset);
  if (!inRange(target)) return null;
  return resolveLocal(zone, target);
}

/**
 * The auto-partition time value of now + `offset` units (Fluss's generateAutoPartitionTime), or
 * null when that time falls outside years 1..9999.
 */
export function autoPartitionTime(
  s: Pick<AutoPartitionStrategy, "timeUnit" | "timeZone" | "timeFormat">,
  nowMs: number,
  offset: number,
): string | null {
  const t = shiftedLocal(s, nowMs, offset);
  return t === null ? null : timeFormatOf(s.timeUnit, s.timeFormat).format(t);
}

/** Order of two time values: they compare as plain strings (UTF-16 code units, as Java). */
export function compareAutoPartitionTimes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `value` is a time value of the strategy's format. */
export function isAutoPartitionTime(
  s: Pick<AutoPartitionStrategy, "timeUnit" | "timeFormat">,
  value: string,
): boolean {
  return timeFormatOf(s.timeUnit, s.timeFormat).matches(value);
}

/**
 * The earliest time value retained at `nowMs` (now − num-retention units); partitions whose time
 * value sorts before it have expired. Null when nothing expires (negative num-retention, or a
 * cut-off before year 1).
 */
export function retentionCutoff(s: AutoPartitionStrategy, nowMs: number): string | null {
  if (s.numRetention < 0) return null;
  return autoPartitionTime(s, nowMs, -s.numRetention);
}

/** Has a partition with this time value expired at `nowMs`? */
export function isExpiredAutoPartition(s: AutoPartitionStrategy, timeValue: string, nowMs: number): boolean {
  const cutoff = retentionCutoff(s, nowMs);
  return cutoff !== null && compareAutoPartitionTimes(timeValue, cutoff) < 0;
}

/**
 * Names of the partitions to have pre-created at `nowMs`: offsets 0..num-precreate−1, for tables
 * with a single partition key (with several, a time value is not a full name: none).
 */
export function partitionNamesToPrecreate(
  partitionKeys: readonly string[],
  s: AutoPartitionStrategy,
  nowMs: number,
  limit = Number.POSITIVE_INFINITY,
): string[] {
  if (!s.enabled || partitionKeys.length !== 1) return [];
  const out: string[] = [];
  const n = Math.min(s.numPrecreate, limit);
  for (let k = 0; k < n; k++) {
    const name = autoPartitionTime(s, nowMs, k);
    if (name === null) break;
    if (out[out.length - 1] !== name) out.push(name); // a DST fall-back repeats an hour
  }
  return out;
}

/**
 * What a manually created partition of a table with a time format must satisfy (Fluss's
 * validateAutoPartitionTime): its time value matches the format (when auto-partitioning is on or a
 * format is set) and, with auto-partitioning on, is not already expired.
 */
export function validateAutoPartitionTime(
  spec: PartitionSpec,
  partitionKeys: readonly string[],
  s: AutoPartitionStrategy,
  nowMs: number,
): void {
  if (!s.enabled && s.timeFormat === null) return;
  const key = autoPartitionKeyOf(partitionKeys, s);
  const value = Object.hasOwn(spec, key) ? spec[key] : undefined;
  const format = timeFormatOf(s.timeUnit, s.timeFormat);
  if (value === undefined || !format.matches(value)) {
    throw invalidPartition(
      `partition value '${value ?? "null"}' of '${key}' does not match the expected format ` +
        `'${format.pattern}' for auto-partition time unit '${s.timeUnit}'`,
    );
  }
  if (!s.enabled) return;
  const cutoff = retentionCutoff(s, nowMs);
  if (cutoff !== null && compareAutoPartitionTimes(value, cutoff) < 0) {
    throw invalidPartition(
      `partition value '${value}' is out-of-date; the earliest retained partition is '${cutoff}'`,
    );
  }
}

/**
 * Check the auto-partition options of a table at CREATE (Fluss's checkPartition) and return the
 * properties to store: with several partition keys and auto-partitioning on, an unset
 * num-precreate becomes "0". `typeOf` gives a column's type (undefined: no such column).
 */
export function checkAutoPartitionOptions(
  partitionKeys: readonly string[],
  typeOf: (column: string) => DataType | undefined,
  properties: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = { ...properties };
  const zone = properties[AUTO_PARTITION_TIME_ZONE];
  if (zone !== undefined) resolveZone(zone);
  const s = autoPartitionStrategyOf(properties, "UTC");
  if (partitionKeys.length === 0) {
    if (s.enabled) {
      throw invalidConfig(
        `auto partitioning needs a partitioned table; set '${AUTO_PARTITION_ENABLED}' to false or add PARTITIONED BY`,
      );
    }
    return out;
  }
  if (s.timeFormat !== null) {
    try {
      validateTimeFormat(s.timeUnit, s.timeFormat);
    } catch (err) {
      throw invalidTable(`invalid table property '${AUTO_PARTITION_TIME_FORMAT}': ${(err as Error).message}`);
    }
  }
  if (!s.enabled) return out;
  if (s.key !== null && !partitionKeys.includes(s.key)) {
    throw invalidTable(
      `'${AUTO_PARTITION_KEY}' is '${s.key}', which is not a partition key [${partitionKeys.join(", ")}]`,
    );
  }
  if (partitionKeys.length > 1) {
    if (s.key === null) {
      throw invalidTable(
        `an auto-partitioned table with several partition keys must name its time key in '${AUTO_PARTITION_KEY}'`,
      );
    }
    if (properties[AUTO_PARTITION_NUM_PRECREATE] === undefined) out[AUTO_PARTITION_NUM_PRECREATE] = "0";
    else if (s.numPrecreate > 0) {
      throw invalidTable(
        `with several partition keys, auto pre-create is unsupported: '${AUTO_PARTITION_NUM_PRECREATE}' ` +
          `must be 0, but is ${s.numPrecreate}`,
      );
    }
  }
  const key = autoPartitionKeyOf(partitionKeys, s);
  if (typeOf(key)?.root === "DATE") {
    if (s.timeUnit !== "DAY") {
      throw invalidTable(`'${AUTO_PARTITION_TIME_UNIT}' must be 'DAY' when the time key '${key}' is a DATE`);
    }
    if (s.timeFormat !== "yyyy-MM-dd") {
      throw invalidTable(
        `'${AUTO_PARTITION_TIME_FORMAT}' must be 'yyyy-MM-dd' when the time key '${key}' is a DATE`,
      );
    }
  }
  return out;
}
