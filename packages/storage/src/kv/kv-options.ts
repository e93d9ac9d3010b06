// The KV options of a primary-key table, parsed from table properties (`resolveKvOptions`) and
// checked against the table's schema (`validateKvTable`), with Fluss's rules:
//  - `table.merge-engine`: unset = last row wins; first_row | versioned | aggregation (any case).
//  - `table.delete.behavior`: ALLOW | IGNORE | DISABLE. Unset: ALLOW for the default engine,
//    IGNORE for first_row / versioned / aggregation. ALLOW is refused for first_row and versioned
//    (allowed for aggregation, where a delete removes the row or nulls the target columns).
//  - `table.changelog.image`: FULL (default) | WAL; WAL is refused with aggregation.
//  - `table.merge-engine.versioned.ver-column`: required by versioned; INT, BIGINT, TIMESTAMP or
//    TIMESTAMP_LTZ.
//  - `fields.<col>.agg` (aggregation only; default last_value_ignore_nulls; not on key columns)
//    and `fields.<col>.<fn>.delimiter` for listagg / string_agg (non-empty, default ",").
//  - `auto-increment.fields`: one INT/BIGINT column of a primary-key table, not a key column.
//  - `table.kv.format`: COMPACTED only (INDEXED is refused as not supported here).
// Option errors are INVALID_CONFIG_EXCEPTION; schema-shape errors INVALID_TABLE_EXCEPTION.
// Invariant: a resolved KvOptions is internally consistent (the combinations above hold); what
// needs the schema is checked by validateKvTable, which the tablet also runs at open.

import { Errors, FlussError, type Schema } from "@fluss-ts/common";
import { checkAggregationTypes, parseAggregationFields } from "./kv-agg-options.ts";
import {
  type AggregationSpec,
  type ChangelogImage,
  type DeleteBehavior,
  KV_OPTION,
  type KvOptions,
  type MergeEngine,
} from "./types.ts";

function invalidConfig(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, message);
}

function invalidTable(message: string): FlussError {
  return new FlussError(Errors.INVALID_TABLE_EXCEPTION, message);
}

const fixedKeys: ReadonlySet<string> = new Set(Object.values(KV_OPTION));

/** True for the property keys resolveKvOptions owns (fixed keys and the `fields.*` family). */
export function isKvOptionKey(key: string): boolean {
  return fixedKeys.has(key) || key.startsWith("fields.");
}

function enumOf<T extends string>(key: string, value: string | undefined, allowed: readonly T[]): T | null {
  if (value === undefined) return null;
  const v = value.trim().toUpperCase();
  const hit = allowed.find((a) => a.toUpperCase() === v);
  if (hit === undefined) {
    throw invalidConfig(`invalid value '${value}' for '${key}' (allowed: ${allowed.join(", ")})`);
  }
  return hit;
}

function mergeEngineOf(props: Readonly<Record<string, string>>): MergeEngine {
  const engine = enumOf(KV_OPTION.mergeEngine, props[KV_OPTION.mergeEngine], [
    "first_row",
    "versioned",
    "aggregation",
  ] as const);
  const aggKeys = Object.keys(props).filter((k) => k.startsWith("fields."));
  if (engine !== "aggregation" && aggKeys.length > 0) {
    throw invalidConfig(
      `'${aggKeys[0]}': aggregation functions are only supported by the aggregation merge engine ` +
        `('${KV_OPTION.mergeEngine}' = 'aggregation')`,
    );
  }
  switch (engine) {
    case null:
      return { kind: "last_row" };
    case "first_row":
      return { kind: "first_row" };
    case "versioned": {
      const column = props[KV_OPTION.versionColumn]?.trim();
      if (column === undefined || column.length === 0) {
        throw invalidConfig(`'${KV_OPTION.versionColumn}' must be set for the versioned merge engine`);
      }
      return { kind: "versioned", versionColumn: column };
    }
    case "aggregation":
      return { kind: "aggregation", fields: parseAggregationFields(props) };
  }
}

function deleteBehaviorOf(props: Readonly<Record<string, string>>, engine: MergeEngine): DeleteBehavior {
  const set = enumOf(KV_OPTION.deleteBehavior, props[KV_OPTION.deleteBehavior], [
    "ALLOW",
    "IGNORE",
    "DISABLE",
  ] as const);
  if (engine.kind === "last_row") return set ?? "ALLOW";
  if (set === "ALLOW" && (engine.kind === "first_row" || engine.kind === "versioned")) {
    throw invalidConfig(
      `a table with the '${engine.kind}' merge engine does not support deletes: ` +
        `'${KV_OPTION.deleteBehavior}' must be 'ignore' or 'disable', got 'allow'`,
    );
  }
  return set ?? "IGNORE";
}

function changelogImageOf(props: Readonly<Record<string, string>>, engine: MergeEngine): ChangelogImage {
  const image = enumOf(KV_OPTION.changelogImage, props[KV_OPTION.changelogImage], ["FULL", "WAL"] as const);
  if (image === "WAL" && engine.kind === "aggregation") {
    throw invalidConfig(
      `the aggregation merge engine needs the FULL changelog image: set '${KV_OPTION.changelogImage}' ` +
        "to 'FULL' or remove it",
    );
  }
  return image ?? "FULL";
}

function autoIncrementOf(props: Readonly<Record<string, string>>): string[] {
  const text = props[KV_OPTION.autoIncrement];
  if (text === undefined) return [];
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw invalidConfig(`'${KV_OPTION.autoIncrement}' names no column`);
  if (names.length > 1) {
    throw invalidTable(`a table can have only one auto-increment column, got ${names.join(", ")}`);
  }
  return names;
}

function kvFormatOf(props: Readonly<Record<string, string>>): "COMPACTED" {
  const format = enumOf(KV_OPTION.kvFormat, props[KV_OPTION.kvFormat], ["COMPACTED", "INDEXED"] as const);
  if (format === "INDEXED") {
    throw invalidConfig(`'${KV_OPTION.kvFormat}' = 'INDEXED' is not supported (use COMPACTED)`);
  }
  return "COMPACTED";
}

/**
 * Parse and cross-check the KV options among `properties` (other keys are ignored: the caller
 * validates them). Throws INVALID_CONFIG_EXCEPTION (or INVALID_TABLE_EXCEPTION for more than one
 * auto-increment column).
 */
export function resolveKvOptions(properties: Readonly<Record<string, string>>): KvOptions {
  const mergeEngine = mergeEngineOf(properties);
  return {
    mergeEngine,
    deleteBehavior: deleteBehaviorOf(properties, mergeEngine),
    changelogImage: changelogImageOf(properties, mergeEngine),
    autoIncrementColumns: autoIncrementOf(properties),
    kvFormat: kvFormatOf(properties),
    explicitKeys: Object.keys(properties).filter(isKvOptionKey).sort(),
  };
}

/** Options of a table without any KV property (what a log table resolves to). */
export function defaultKvOptions(): KvOptions {
  return resolveKvOptions({});
}

function checkLogTable(schema: Schema, options: KvOptions): void {
  if (schema.primaryKey.length > 0) return;
  const key = options.explicitKeys[0];
  if (key === KV_OPTION.autoIncrement) {
    throw invalidTable("auto-increment columns can only be used in primary-key tables");
  }
  if (key !== undefined) {
    throw invalidConfig(`'${key}' is only supported for primary-key tables`);
  }
}

function checkKeys(schema: Schema, partitionKeys: readonly string[], bucketKeys: readonly string[]): void {
  const pk = new Set(schema.primaryKey);
  for (const p of partitionKeys) {
    if (!pk.has(p)) {
      throw invalidTable(
        `a partitioned primary-key table needs its partition keys [${partitionKeys.join(", ")}] ` +
          `among the primary key [${schema.primaryKey.join(", ")}]`,
      );
    }
  }
  const physical = schema.primaryKey.filter((k) => !partitionKeys.includes(k));
  if (physical.length === 0) {
    throw invalidTable("the primary key must have a column that is not a partition key");
  }
  for (const b of bucketKeys) {
    if (!physical.includes(b)) {
      throw invalidTable(
        `bucket keys must be a subset of the primary key excluding partition keys ` +
          `[${physical.join(", ")}], got [${bucketKeys.join(", ")}]`,
      );
    }
  }
}

function checkVersionColumn(schema: Schema, engine: MergeEngine): void {
  if (engine.kind !== "versioned") return;
  const column = schema.columns.find((c) => c.name === engine.versionColumn);
  if (column === undefined) {
    throw invalidConfig(
      `the version column '${engine.versionColumn}' of the versioned merge engine does not exist`,
    );
  }
  const ok = ["INTEGER", "BIGINT", "TIMESTAMP_WITHOUT_TIME_ZONE", "TIMESTAMP_WITH_LOCAL_TIME_ZONE"];
  if (!ok.includes(column.type.root)) {
    throw invalidConfig(
      `the version column '${column.name}' must be INT, BIGINT, TIMESTAMP or TIMESTAMP_LTZ, got ${column.type.root}`,
    );
  }
}

function checkAutoIncrement(schema: Schema, options: KvOptions): void {
  for (const name of options.autoIncrementColumns) {
    const column = schema.columns.find((c) => c.name === name);
    if (column === undefined) throw invalidTable(`auto-increment column '${name}' does not exist`);
    if (schema.primaryKey.includes(name)) {
      throw invalidTable(`auto-increment column '${name}' cannot be a primary-key column`);
    }
    if (column.type.root !== "INTEGER" && column.type.root !== "BIGINT") {
      throw invalidTable(`auto-increment column '${name}' must be INT or BIGINT, got ${column.type.root}`);
    }
  }
}

/**
 * Refuse a table definition the KV options cannot serve: KV options on a log table, partition /
 * bucket keys outside the primary key, a bad version column, an aggregation function on a type
 * it cannot handle or on a key column, a bad auto-increment column.
 */
export function validateKvTable(
  schema: Schema,
  options: KvOptions,
  partitionKeys: readonly string[] = [],
  bucketKeys: readonly string[] = [],
): void {
  checkLogTable(schema, options);
  if (schema.primaryKey.length === 0) return;
  checkKeys(schema, partitionKeys, bucketKeys);
  checkVersionColumn(schema, options.mergeEngine);
  if (options.mergeEngine.kind === "aggregation") checkAggregationTypes(schema, options.mergeEngine.fields);
  checkAutoIncrement(schema, options);
}

export type { AggregationSpec };
