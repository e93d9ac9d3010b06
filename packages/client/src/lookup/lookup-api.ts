// The user-facing lookups of a primary-key table: a point lookup by the full primary key and a
// prefix lookup by the bucket key. Keys are encoded as the server stores them (COMPACTED); values
// come back as rows with the same value conventions as the scanner's. `R` is the row type of a
// typed table (see schema-types.ts), `I` its input type (keys are given as part of a row).

import {
  bucketForKey,
  CompactedKeyEncoder,
  decodeCompactedRow,
  decodeKvValue,
  Errors,
  FlussError,
  type TableInfo,
} from "@fluss-ts/common";
import type { AnyRow } from "../schema-types.ts";
import type { LookupBatcher } from "./lookuper.ts";

export type Row = Record<string, unknown>;

/**
 * The partition id of a key row of a partitioned table (null: no such partition, so no row);
 * absent for a non-partitioned table.
 */
export type PartitionOfKey = (
  key: Readonly<Record<string, unknown>>,
) => bigint | null | Promise<bigint | null>;

/** Where a key lives: its bucket of the table, or of its partition (null: no such partition). */
async function partitionTargetOf(
  partitionOf: PartitionOfKey,
  key: Readonly<Record<string, unknown>>,
  bucket: number,
): Promise<{ partitionId: bigint | null; bucket: number } | null> {
  const partitionId = await partitionOf(key);
  return partitionId === null ? null : { partitionId, bucket };
}

/** Decode a stored KV value (i16 schema id + COMPACTED row) into a row object. */
export function rowDecoder(info: TableInfo): (value: Uint8Array) => Row {
  const columns = info.descriptor.schema.columns;
  const types = columns.map((c) => c.type);
  return (value) => {
    const { row } = decodeKvValue(value);
    const values = decodeCompactedRow(types, row);
    const out: Row = {};
    for (let i = 0; i < columns.length; i++) out[columns[i]!.name] = values[i] ?? null;
    return out;
  };
}

function keyColumns(info: TableInfo): string[] {
  const partition = new Set(info.descriptor.partitionKeys);
  return info.descriptor.schema.primaryKey.filter((k) => !partition.has(k));
}

function requirePk(info: TableInfo): void {
  if (info.descriptor.schema.primaryKey.length === 0) {
    throw new FlussError(
      Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
      `${info.path.table} has no primary key to look up`,
    );
  }
}

/** Point lookups by the full primary key. */
export class Lookuper<R extends object = AnyRow, I extends object = AnyRow> {
  private readonly batcher: LookupBatcher;
  private readonly keyEncoder: CompactedKeyEncoder;
  /** Null when the bucket key is the whole key: its encoding is the key's bytes. */
  private readonly bucketEncoder: CompactedKeyEncoder | null;
  private readonly bucketCount: number;
  private readonly decode: (value: Uint8Array) => Row;
  private readonly partitionOf: PartitionOfKey | null;

  constructor(info: TableInfo, batcher: LookupBatcher, partitionOf: PartitionOfKey | null = null) {
    this.partitionOf = partitionOf;
    requirePk(info);
    const columns = info.descriptor.schema.columns;
    const keys = keyColumns(info);
    const bucketKeys = info.descriptor.bucketKeys.length > 0 ? info.descriptor.bucketKeys : keys;
    this.batcher = batcher;
    this.keyEncoder = new CompactedKeyEncoder(columns, keys);
    const sameKey = bucketKeys.length === keys.length && bucketKeys.every((k, i) => k === keys[i]);
    this.bucketEncoder = sameKey ? null : new CompactedKeyEncoder(columns, bucketKeys);
    this.bucketCount = info.bucketCount;
    this.decode = rowDecoder(info);
  }

  /** The row stored under the key `key` names (its primary-key columns), or null. */
  lookup(keyRow: Readonly<Partial<I>>): Promise<R | null> {
    const key = keyRow as Readonly<Record<string, unknown>>;
    let bytes: Uint8Array;
    let bucket: number;
    try {
      bytes = this.keyEncoder.encode(key);
      bucket = bucketForKey(this.bucketEncoder ? this.bucketEncoder.encode(key) : bytes, this.bucketCount);
    } catch (err) {
      return Promise.reject(err);
    }
    // A table without partitions needs no await before the lookup joins this turn's batch.
    if (this.partitionOf === null)
      return this.batcher.lookup({ partitionId: null, bucket }, bytes).then(this.first);
    return partitionTargetOf(this.partitionOf, key, bucket).then((target) =>
      target === null ? null : this.batcher.lookup(target, bytes).then(this.first),
    );
  }

  private readonly first = (values: Uint8Array[]): R | null =>
    values.length === 0 ? null : (this.decode(values[0]!) as R);
}

/** Prefix lookups: all rows whose bucket key (a proper prefix of the primary key) matches. */
export class PrefixLookuper<R extends object = AnyRow, I extends object = AnyRow> {
  private readonly batcher: LookupBatcher;
  private readonly encoder: CompactedKeyEncoder;
  private readonly bucketCount: number;
  private readonly decode: (value: Uint8Array) => Row;

  private readonly partitionOf: PartitionOfKey | null;

  constructor(
    info: TableInfo,
    lookupColumns: readonly string[],
    batcher: LookupBatcher,
    partitionOf: PartitionOfKey | null = null,
  ) {
    this.partitionOf = partitionOf;
    requirePk(info);
    const keys = keyColumns(info);
    const bucketKeys = info.descriptor.bucketKeys.length > 0 ? info.descriptor.bucketKeys : keys;
    const same = (a: readonly string[], b: readonly string[]) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    const partitionKeys = info.descriptor.partitionKeys;
    const lookupBucketKeys = lookupColumns.filter((c) => !partitionKeys.includes(c));
    const missingPartitionKey = partitionKeys.some((k) => !lookupColumns.includes(k));
    if (!same(lookupBucketKeys, bucketKeys) || same(bucketKeys, keys) || missingPartitionKey) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `a prefix lookup takes the bucket key (${bucketKeys.join(", ")})${partitionKeys.length > 0 ? ` and the partition keys (${partitionKeys.join(", ")})` : ""}; the bucket key must be a proper prefix of the primary key (${keys.join(", ")})`,
      );
    }
    this.batcher = batcher;
    this.encoder = new CompactedKeyEncoder(info.descriptor.schema.columns, bucketKeys);
    this.bucketCount = info.bucketCount;
    this.decode = rowDecoder(info);
  }

  /** Every row whose bucket-key columns equal those of `prefix`. */
  async lookup(prefixRow: Readonly<Partial<I>>): Promise<R[]> {
    const prefix = prefixRow as Readonly<Record<string, unknown>>;
    const bytes = this.encoder.encode(prefix);
    const bucket = bucketForKey(bytes, this.bucketCount);
    const target =
      this.partitionOf === null
        ? { partitionId: null, bucket }
        : await partitionTargetOf(this.partitionOf, prefix, bucket);
    if (target === null) return [];
    const values = await this.batcher.lookup(target, bytes);
    return values.map(this.decode) as R[];
  }
}
