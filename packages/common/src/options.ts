// Typed configuration options: table options under Fluss's names (validated at CREATE TABLE, unknown
// keys refused) and the value parsers they share (durations like "7 d", sizes like "1 gb").
// Server and client options reuse the same parsers; their defaults live where they are consumed.

import { Errors, FlussError } from "./errors.ts";
import type { TableDescriptor } from "./schema.ts";

function invalidConfig(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  nanos: 1e-6,
  us: 1e-3,
  micros: 1e-3,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Parse a duration the way Fluss writes them ("7 d", "30min", "100 ms", "1h"); bare numbers are ms. */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) throw invalidConfig(`invalid duration '${text}' (examples: 500 ms, 30 s, 10 min, 2 h, 7 d)`);
  const unit = m[2]!.toLowerCase();
  const factor = unit === "" ? 1 : DURATION_UNITS_MS[unit];
  if (factor === undefined) throw invalidConfig(`invalid duration unit '${m[2]}' in '${text}'`);
  return Math.round(Number(m[1]) * factor);
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  bytes: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parse a memory size ("64 mb", "1gb", "4096"); units are powers of 1024 as in Fluss. */
export function parseSizeBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) throw invalidConfig(`invalid size '${text}' (examples: 4096, 64 kb, 1 gb)`);
  return Math.round(Number(m[1]) * factor);
}

export function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === "true") return true;
  if (t === "false") return false;
  throw invalidConfig(`invalid boolean '${text}' (expected true or false)`);
}

export function parseInteger(text: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw invalidConfig(`invalid integer '${text}'`);
  const n = Number(t);
  if (n < min || n > max) throw invalidConfig(`${n} is outside [${min}, ${max}]`);
  return n;
}

type OptionKind =
  | { kind: "enum"; values: readonly string[] }
  | { kind: "int"; min: number; max: number }
  | { kind: "bool" }
  | { kind: "duration" }
  | { kind: "string" };

export interface TableOptionDef {
  readonly key: string;
  readonly type: OptionKind;
  readonly defaultValue?: string;
  readonly description: string;
  /** Needs a primary-key table. */
  readonly pkOnly?: boolean;
}

const defs: TableOptionDef[] = [
  {
    key: "table.replication.factor",
    type: { kind: "int", min: 1, max: 64 },
    description: "Replicas per bucket.",
  },
  {
    key: "table.log.format",
    type: { kind: "enum", values: ["ARROW"] },
    defaultValue: "ARROW",
    description: "Log record format (ARROW; INDEXED and COMPACTED are not supported yet).",
  },
  {
    key: "table.log.arrow.compression.type",
    type: { kind: "enum", values: ["NONE", "LZ4_FRAME", "ZSTD"] },
    defaultValue: "ZSTD",
    description: "Arrow IPC body compression of log batches.",
  },
  {
    key: "table.log.arrow.compression.zstd.level",
    type: { kind: "int", min: 1, max: 22 },
    defaultValue: "3",
    description: "ZSTD level when compression is ZSTD.",
  },
  {
    key: "table.log.ttl",
    type: { kind: "duration" },
    defaultValue: "7 d",
    description: "Log retention time.",
  },
  {
    key: "table.log.tiered.local-segments",
    type: { kind: "int", min: 1, max: 1_000_000 },
    defaultValue: "2",
    description: "Local segments kept after tiering.",
  },
  {
    key: "table.statistics.columns",
    type: { kind: "string" },
    // No default, as in Fluss: without it writers build magic v0 batches, which every Fluss client
    // reads. The TypeScript SDK (and so the CLI) sets '*' on the log tables it creates.
    description:
      "Columns whose min/max/null counts each log batch carries (magic v1 batches), for filter pushdown: '*' (every supported column), 'a,b', or 'none'. Unset (Fluss's default): no statistics, magic v0 batches. The TypeScript SDK and the CLI set '*' on the log tables they create; readers older than Fluss 1.0 (Java client 0.9) cannot read v1 batches.",
  },
  // Lake tiering (Fluss's names and defaults); read by @fluss-ts/lake's tiering service.
  {
    key: "table.datalake.enabled",
    type: { kind: "bool" },
    defaultValue: "false",
    description:
      "Tier the table into the lake (needs the tiering service: datalake.format on the server or `fluss tiering`).",
  },
  {
    key: "table.datalake.format",
    type: { kind: "enum", values: ["ICEBERG"] },
    description: "Lake format of the table (only iceberg here); default: the server's datalake.format.",
  },
  {
    key: "table.datalake.freshness",
    type: { kind: "duration" },
    defaultValue: "3 min",
    description:
      "How far the lake may lag behind the table: the tiering service runs a round at least this often.",
  },
  // Automatic partitions; cross-option rules (time key, format per unit, zone) are checked by
  // partition/auto-partition.ts's checkAutoPartitionOptions at CREATE TABLE.
  {
    key: "table.auto-partition.enabled",
    type: { kind: "bool" },
    defaultValue: "false",
    description: "Create and expire time partitions automatically.",
  },
  {
    key: "table.auto-partition.key",
    type: { kind: "string" },
    description: "The time partition key; required when the table has several partition keys.",
  },
  {
    key: "table.auto-partition.time-unit",
    type: { kind: "enum", values: ["HOUR", "DAY", "MONTH", "QUARTER", "YEAR"] },
    defaultValue: "DAY",
    description: "Granularity of automatic partitions (yyyyMMddHH, yyyyMMdd, yyyyMM, yyyyQ, yyyy).",
  },
  {
    key: "table.auto-partition.time-format",
    type: { kind: "string" },
    description: "A custom pattern for time values, e.g. yyyy-MM-dd (fields in order, fixed width).",
  },
  {
    key: "table.auto-partition.time-zone",
    type: { kind: "string" },
    description: "Zone of the time values (IANA name or offset); default: the server's zone.",
  },
  {
    key: "table.auto-partition.num-precreate",
    type: { kind: "int", min: 0, max: 2147483647 },
    defaultValue: "2",
    description: "Partitions created ahead, the current one included.",
  },
  {
    key: "table.auto-partition.num-retention",
    type: { kind: "int", min: -2147483648, max: 2147483647 },
    defaultValue: "7",
    description: "Past partitions kept; older ones are dropped (negative: keep all).",
  },
];

export const TABLE_OPTIONS: ReadonlyMap<string, TableOptionDef> = new Map(defs.map((d) => [d.key, d]));

/** Register an option owned by a later layer (e.g. KV or partition options). */
export function registerTableOption(def: TableOptionDef): void {
  (TABLE_OPTIONS as Map<string, TableOptionDef>).set(def.key, def);
}

function checkValue(def: TableOptionDef, value: string): string {
  const t = def.type;
  switch (t.kind) {
    case "enum": {
      const v = value.trim().toUpperCase();
      if (!t.values.includes(v)) {
        throw invalidConfig(`invalid value '${value}' for '${def.key}' (allowed: ${t.values.join(", ")})`);
      }
      return v;
    }
    case "int":
      try {
        return String(parseInteger(value, t.min, t.max));
      } catch (err) {
        throw invalidConfig(`invalid value '${value}' for '${def.key}': ${(err as Error).message}`);
      }
    case "bool":
      return String(parseBoolean(value));
    case "duration":
      try {
        parseDurationMs(value);
      } catch (err) {
        throw invalidConfig(`invalid value '${value}' for '${def.key}': ${(err as Error).message}`);
      }
      return value.trim();
    case "string":
      return value;
  }
}

/**
 * Validate table options; returns the normalised properties (enum values upper-cased).
 * Throws INVALID_CONFIG_EXCEPTION for an unknown key or a bad value.
 */
export function validateTableOptions(
  properties: Readonly<Record<string, string>>,
  isPrimaryKeyTable: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    const def = TABLE_OPTIONS.get(key);
    if (!def) {
      const known = [...TABLE_OPTIONS.keys()].sort().join(", ");
      throw invalidConfig(`unknown table option '${key}' (known: ${known})`);
    }
    if (def.pkOnly && !isPrimaryKeyTable) {
      throw invalidConfig(`table option '${key}' is only valid for primary-key tables`);
    }
    out[key] = checkValue(def, String(value));
  }
  return out;
}

export type ArrowCompression = "NONE" | "LZ4_FRAME" | "ZSTD";

/** Resolved log options of a table, defaults applied. */
export interface LogOptions {
  /** `table.statistics.columns` for the batches a writer builds; null: none (primary-key tables never). */
  statisticsColumns: string | null;
  compression: ArrowCompression;
  zstdLevel: number;
  ttlMs: number;
}

function prop(d: TableDescriptor, key: string): string {
  const v = d.properties[key] ?? TABLE_OPTIONS.get(key)?.defaultValue;
  if (v === undefined) throw invalidConfig(`option '${key}' has no value and no default`);
  return v;
}

export function logOptionsOf(d: TableDescriptor): LogOptions {
  const stats =
    d.properties["table.statistics.columns"] ?? TABLE_OPTIONS.get("table.statistics.columns")?.defaultValue;
  return {
    statisticsColumns:
      d.schema.primaryKey.length > 0 || stats === undefined || stats.trim().toLowerCase() === "none"
        ? null
        : stats,
    compression: prop(d, "table.log.arrow.compression.type") as ArrowCompression,
    zstdLevel: Number(prop(d, "table.log.arrow.compression.zstd.level")),
    ttlMs: parseDurationMs(prop(d, "table.log.ttl")),
  };
}
