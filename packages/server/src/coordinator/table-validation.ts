// Checks a table descriptor at CREATE TABLE and resolves its defaults (bucket count, replication
// factor). Every refusal is an INVALID_TABLE_EXCEPTION or INVALID_CONFIG_EXCEPTION naming what is
// wrong, so a user fixes the definition in one try. Pure: no I/O.

import {
  Errors,
  FlussError,
  TABLE_OPTIONS,
  type TableDescriptor,
  validateName,
  validateTableOptions,
} from "@fluss-ts/common";

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
  if (isPk) throw invalidTable("primary-key tables are not supported yet");
  if (d.partitionKeys.length > 0) throw invalidTable("partitioned tables are not supported yet");
  checkKeyColumns(d, d.bucketKeys, "bucket key");
  const bucketCount = d.bucketCount ?? env.defaultBucketNumber;
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > env.bucketCountMax) {
    throw new FlussError(
      Errors.BUCKET_MAX_NUM_EXCEPTION,
      `bucket count must be in [1, ${env.bucketCountMax}], got ${bucketCount}`,
    );
  }
  const properties = validateTableOptions(d.properties, isPk);
  const rfText = properties["table.replication.factor"];
  const replicationFactor = rfText === undefined ? env.defaultReplicationFactor : Number(rfText);
  if (replicationFactor > env.liveTabletServers) {
    throw new FlussError(
      Errors.INVALID_REPLICATION_FACTOR,
      `replication factor ${replicationFactor} is larger than the ${env.liveTabletServers} live tablet server(s)`,
    );
  }
  // Record the effective defaults so a later reader sees what the table was created with.
  for (const [key, def] of TABLE_OPTIONS) {
    if (properties[key] === undefined && def.defaultValue !== undefined && key.startsWith("table.log.")) {
      properties[key] = def.defaultValue;
    }
  }
  return { descriptor: { ...d, properties, bucketCount }, bucketCount, replicationFactor };
}
