// Checks a table descriptor at CREATE TABLE and resolves its defaults (bucket count, replication
// factor, the bucket key of a primary-key table). Every refusal is an INVALID_TABLE_EXCEPTION or
// INVALID_CONFIG_EXCEPTION naming what is wrong, so a user fixes the definition in one try.
// Log options are checked by common's option table, KV options (merge engine, aggregation
// functions, delete behaviour, changelog image, auto-increment) by storage's KV rules (which also
// hold a primary-key table's partition keys to its primary key and its bucket key to the primary
// key minus the partition keys), auto-partition options by common's partition rules. Partition
// keys (here): existing, distinct columns of a type Fluss can name a partition by; a log table's
// bucket key must not contain one. Replication factor: 1 to the live tablet servers (servers
// shutting down do not count).
// Pure: no I/O.

import {
  checkAutoPartitionOptions,
  Errors,
  FlussError,
  isPartitionKeyType,
  PARTITION_KEY_TYPES,
  resolveStatisticsColumns,
  TABLE_OPTIONS,
  type TableDescriptor,
  typeToSql,
  validateName,
  validateTableOptions,
} from "@fluss-ts/common";
import { isKvOptionKey, resolveKvOptions, validateKvTable } from "@fluss-ts/storage";

export interface TableDefaults {
  defaultBucketNumber: number;
  defaultReplicationFactor: number;
  bucketCountMax: number;
  liveTabletServers: number;
}

export interface ResolvedTable {
  descriptor: TableDescriptor;
  bucketCount: number;
  replicationFactor: number;
}

function invalidTable(message: string): FlussError {
  return new FlussError(Errors.INVALID_TABLE_EXCEPTION, message);
}

function checkKeyColumns(d: TableDescriptor, keys: readonly string[], what: string): void {
  const names = new Set(d.schema.columns.map((c) => c.name));
  const seen = new Set<string>();
  for (const k of keys) {
    if (!names.has(k)) throw invalidTable(`${what} column '${k}' does not exist in the schema`);
    if (seen.has(k)) throw invalidTable(`${what} column '${k}' is repeated`);
    seen.add(k);
  }
}

export function resolveTable(
  database: string,
  table: string,
  d: TableDescriptor,
  env: TableDefaults,
): ResolvedTable {
  validateName("database", database);
  validateName("table", table);
  if (d.schema.columns.length === 0) throw invalidTable("a table needs at least one column");
  const isPk = d.schema.primaryKey.length > 0;
  checkKeyColumns(d, d.bucketKeys, "bucket key");
  checkPartitionKeys(d, isPk);
  for (const k of d.schema.primaryKey) {
    const column = d.schema.columns.find((c) => c.name === k);
    if (!column) throw invalidTable(`primary key column '${k}' does not exist in the schema`);
    if (column.type.nullable) throw invalidTable(`primary key column '${k}' must be NOT NULL`);
  }
  const bucketKeys = isPk && d.bucketKeys.length === 0 ? physicalKey(d) : d.bucketKeys;
  const bucketCount = d.bucketCount ?? env.defaultBucketNumber;
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > env.bucketCountMax) {
    throw new FlussError(
      Errors.BUCKET_MAX_NUM_EXCEPTION,
      `bucket count must be in [1, ${env.bucketCountMax}], got ${bucketCount}`,
    );
  }
  const logProperties: Record<string, string> = {};
  const kvProperties: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.properties)) {
    if (isKvOptionKey(k)) kvProperties[k] = v;
    else logProperties[k] = v;
  }
  const properties = checkAutoPartitionOptions(
    d.partitionKeys,
    (name) => d.schema.columns.find((c) => c.name === name)?.type,
    { ...validateTableOptions(logProperties, isPk), ...kvProperties },
  );
  validateKvTable(d.schema, resolveKvOptions(kvProperties), d.partitionKeys, bucketKeys);
  checkStatisticsColumns(d, properties["table.statistics.columns"]);
  const rfText = properties["table.replication.factor"];
  const replicationFactor = rfText === undefined ? env.defaultReplicationFactor : Number(rfText);
  checkReplicationFactor(replicationFactor, env.liveTabletServers);
  // Record the effective defaults so a later reader sees what the table was created with.
  for (const [key, def] of TABLE_OPTIONS) {
    if (properties[key] === undefined && def.defaultValue !== undefined && key.startsWith("table.log.")) {
      properties[key] = def.defaultValue;
    }
  }
  return { descriptor: { ...d, properties, bucketKeys, bucketCount }, bucketCount, replicationFactor };
}

/**
 * A replication factor must be in [1, live tablet servers]: INVALID_REPLICATION_FACTOR otherwise
 * (also used by placement for partitions).
 */
export function checkReplicationFactor(replicationFactor: number, liveTabletServers: number): void {
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new FlussError(
      Errors.INVALID_REPLICATION_FACTOR,
      `replication factor must be a positive integer, got ${replicationFactor}`,
    );
  }
  if (replicationFactor > liveTabletServers) {
    throw new FlussError(
      Errors.INVALID_REPLICATION_FACTOR,
      `replication factor ${replicationFactor} is larger than the ${liveTabletServers} live tablet server(s)`,
    );
  }
}

/** Partition keys: distinct existing columns of supported types, kept out of a log table's bucket key. */
function checkPartitionKeys(d: TableDescriptor, isPk: boolean): void {
  checkKeyColumns(d, d.partitionKeys, "partition key");
  for (const k of d.partitionKeys) {
    const type = d.schema.columns.find((c) => c.name === k)!.type;
    if (!isPartitionKeyType(type.root)) {
      throw invalidTable(
        `partition key '${k}' has type ${typeToSql(type)}; partition keys may be ${PARTITION_KEY_TYPES.join(", ")}`,
      );
    }
  }
  // A primary-key table's bucket key is checked against its primary key by storage's KV rules.
  if (!isPk) {
    const overlap = d.bucketKeys.filter((b) => d.partitionKeys.includes(b));
    if (overlap.length > 0) {
      throw invalidTable(
        `bucket key [${d.bucketKeys.join(", ")}] must not include partition key column(s) [${overlap.join(", ")}]`,
      );
    }
  }
}

/** `table.statistics.columns` names supported columns; primary-key tables take none (as in Fluss). */
function checkStatisticsColumns(d: TableDescriptor, spec: string | undefined): void {
  if (spec === undefined || spec.trim().toLowerCase() === "none") return;
  if (d.schema.primaryKey.length > 0) {
    throw new FlussError(
      Errors.INVALID_CONFIG_EXCEPTION,
      "'table.statistics.columns' is only supported for log tables (a primary-key table's changelog is written by the server)",
    );
  }
  resolveStatisticsColumns(d.schema, spec);
}

/** The primary key without partition columns: what a primary-key table is bucketed by by default. */
function physicalKey(d: TableDescriptor): string[] {
  return d.schema.primaryKey.filter((k) => !d.partitionKeys.includes(k));
}
