// Partition names and specs, as Fluss defines them. A partition of a table partitioned by keys
// [a, b] has a spec {a: "x", b: "y"} and the name "x$y": its values in partition-key order joined
// by `$`. Every value must be a valid Fluss name (ASCII letters, digits, `_`, `-`; 1..200
// characters; not "." or ".."); a partition being created must also not start with the reserved
// `__` prefix (dropping or naming an existing one may). The "qualified name" a=x/b=y is what
// messages show. Every refusal is a PARTITION_SPEC_INVALID_EXCEPTION naming the bad value.
// Invariants: pure functions; a name's value count equals the key count; since values never contain
// `$`, name ↔ values is a bijection.

import { Errors, FlussError } from "../errors.ts";

/** Joins partition values into a partition name. */
export const PARTITION_SEPARATOR = "$";
/** Longest partition value (Fluss's name limit, shared with database and table names). */
export const PARTITION_VALUE_LENGTH_MAX = 200;
/** Prefix reserved for partitions the system creates. */
export const RESERVED_NAME_PREFIX = "__";

/** A partition spec: partition key → value. Key order does not matter; the table's key order does. */
export type PartitionSpec = Readonly<Record<string, string>>;

function invalidPartition(message: string): FlussError {
  return new FlussError(Errors.PARTITION_SPEC_INVALID_EXCEPTION, message);
}

function isNameChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    code === 0x5f || // _
    code === 0x2d // -
  );
}

/**
 * Why `value` is not a valid Fluss name (partition value, database or table name), or null when
 * it is. Same checks, order and wording as Fluss's TablePath.detectInvalidName.
 */
export function detectInvalidName(value: string): string | null {
  if (value.length === 0) return "the empty string is not allowed";
  if (value === ".") return "'.' is not allowed";
  if (value === "..") return "'..' is not allowed";
  if (value.length > PARTITION_VALUE_LENGTH_MAX) {
    return `the length of '${value}' is longer than the max allowed length ${PARTITION_VALUE_LENGTH_MAX}`;
  }
  for (let i = 0; i < value.length; i++) {
    if (!isNameChar(value.charCodeAt(i))) {
      return `'${value}' contains one or more characters other than ASCII alphanumerics, '_' and '-'`;
    }
  }
  return null;
}

/** Why `value` may not be created (it starts with the reserved `__`), or null. */
export function detectReservedPrefix(value: string): string | null {
  if (!value.startsWith(RESERVED_NAME_PREFIX)) return null;
  return (
    `'${RESERVED_NAME_PREFIX}' is not allowed as prefix, since it is reserved for internal ` +
    "databases/internal tables/internal partitions in Fluss server"
  );
}

/** Why a partition value is invalid (`isCreate` adds the reserved-prefix rule), or null. */
export function invalidPartitionValueReason(value: string, isCreate: boolean): string | null {
  return detectInvalidName(value) ?? (isCreate ? detectReservedPrefix(value) : null);
}

/** Throws PARTITION_SPEC_INVALID_EXCEPTION for the first invalid value. */
export function validatePartitionValues(values: readonly string[], isCreate: boolean): void {
  for (const v of values) {
    const reason = invalidPartitionValueReason(v, isCreate);
    if (reason !== null) throw invalidPartition(`the partition value ${v} is invalid: ${reason}`);
  }
}

/**
 * Check a full spec against the table's partition keys and return its values in key order.
 * `table` only labels messages ("db.table").
 */
export function validatePartitionSpec(
  table: string,
  partitionKeys: readonly string[],
  spec: PartitionSpec,
  isCreate: boolean,
): string[] {
  const given = Object.keys(spec);
  if (given.length !== partitionKeys.length) {
    throw invalidPartition(
      `partition spec ${formatSpec(spec)} has ${given.length} value(s) but partitioned table ${table} ` +
        `has ${partitionKeys.length} partition key(s) [${partitionKeys.join(", ")}]`,
    );
  }
  const values: string[] = [];
  for (const key of partitionKeys) {
    const v = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (v === undefined) {
      throw invalidPartition(
        `partition spec ${formatSpec(spec)} does not contain partition key '${key}' of partitioned table ${table}`,
      );
    }
    values.push(v);
  }
  validatePartitionValues(values, isCreate);
  return values;
}

/** The partition name of values already in key order. */
export function partitionNameOf(values: readonly string[]): string {
  return values.join(PARTITION_SEPARATOR);
}

/** The values of a partition name, in key order; the count must match the keys. */
export function partitionValuesOf(partitionKeys: readonly string[], name: string): string[] {
  const values = name.split(PARTITION_SEPARATOR);
  if (values.length !== partitionKeys.length) {
    throw invalidPartition(
      `partition name '${name}' has ${values.length} value(s) but the table has ` +
        `${partitionKeys.length} partition key(s) [${partitionKeys.join(", ")}]`,
    );
  }
  return values;
}

/** Parse a partition name back into its spec (keys in table order). */
export function parsePartitionName(partitionKeys: readonly string[], name: string): PartitionSpec {
  const values = partitionValuesOf(partitionKeys, name);
  const spec: Record<string, string> = {};
  partitionKeys.forEach((k, i) => {
    spec[k] = values[i]!;
  });
  return spec;
}

/** The spec of values in key order. */
export function partitionSpecOf(partitionKeys: readonly string[], values: readonly string[]): PartitionSpec {
  if (values.length !== partitionKeys.length) {
    throw invalidPartition(
      `${values.length} partition value(s) for ${partitionKeys.length} partition key(s)`,
    );
  }
  const spec: Record<string, string> = {};
  partitionKeys.forEach((k, i) => {
    spec[k] = values[i]!;
  });
  return spec;
}

/** "a=x/b=y": how Fluss shows a partition in messages. */
export function qualifiedPartitionName(partitionKeys: readonly string[], values: readonly string[]): string {
  return partitionKeys.map((k, i) => `${k}=${values[i]}`).join("/");
}

function formatSpec(spec: PartitionSpec): string {
  return `{${Object.entries(spec)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
}

/**
 * Does the partition with `values` (in key order) match a partial spec? Every key of the partial
 * spec must be a partition key (else PARTITION_SPEC_INVALID_EXCEPTION) and have the same value.
 * An empty partial spec matches everything.
 */
export function partitionMatches(
  partitionKeys: readonly string[],
  values: readonly string[],
  partial: PartitionSpec,
): boolean {
  for (const [k, v] of Object.entries(partial)) {
    const i = partitionKeys.indexOf(k);
    if (i < 0) {
      throw invalidPartition(
        `'${k}' is not a partition key of the table (partition keys: [${partitionKeys.join(", ")}])`,
      );
    }
    if (values[i] !== v) return false;
  }
  return true;
}
