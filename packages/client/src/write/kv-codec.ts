// How a primary-key table's rows become KV records on the client: the COMPACTED key of the
// primary key (minus partition columns), the bucket from the bucket key, and the COMPACTED row.
// Partial updates name target columns: a row may only set those (the key always), every other
// column is sent as null and the server keeps its stored value.

import {
  bucketForKey,
  type Column,
  CompactedKeyEncoder,
  type DataType,
  Errors,
  encodeCompactedRow,
  FlussError,
  type TableInfo,
} from "@fluss-ts/common";
import type { KvItem } from "./kv-payload.ts";

export type Row = Readonly<Record<string, unknown>>;

export class KvRowCodec {
  readonly columns: readonly Column[];
  /** Column indexes of a partial update, or null for full rows. */
  readonly targetColumns: readonly number[] | null;
  private readonly known: ReadonlySet<string>;
  private readonly allowed: ReadonlySet<string>;
  private readonly keyEncoder: CompactedKeyEncoder;
  private readonly bucketEncoder: CompactedKeyEncoder | null;
  private readonly bucketFromKey: boolean;
  private readonly bucketCount: number;
  private readonly names: readonly string[];
  private readonly types: readonly DataType[];

  private readonly partitionOf: (row: Row) => string | null;

  constructor(
    info: TableInfo,
    targetColumnNames: readonly string[] | null,
    partitionOf: (row: Row) => string | null = () => null,
  ) {
    this.partitionOf = partitionOf;
    const d = info.descriptor;
    const schema = d.schema;
    if (schema.primaryKey.length === 0) {
      throw new FlussError(Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION, `${info.path.table} has no primary key`);
    }
    this.columns = schema.columns;
    this.names = schema.columns.map((c) => c.name);
    this.types = schema.columns.map((c) => c.type);
    this.known = new Set(this.names);
    const partition = new Set(d.partitionKeys);
    const keyNames = schema.primaryKey.filter((k) => !partition.has(k));
    this.keyEncoder = new CompactedKeyEncoder(schema.columns, keyNames);
    const bucketKeys = d.bucketKeys.length > 0 ? d.bucketKeys : keyNames;
    const sameKey = bucketKeys.length === keyNames.length && bucketKeys.every((k, i) => k === keyNames[i]);
    // When the bucket key is the whole key, its encoding is the key's bytes: encode once.
    this.bucketEncoder =
      info.bucketCount > 1 && !sameKey ? new CompactedKeyEncoder(schema.columns, bucketKeys) : null;
    this.bucketFromKey = info.bucketCount > 1 && sameKey;
    this.bucketCount = info.bucketCount;
    if (targetColumnNames === null) {
      this.targetColumns = null;
      this.allowed = this.known;
    } else {
      this.targetColumns = this.resolveTargets(targetColumnNames, schema.primaryKey);
      this.allowed = new Set(targetColumnNames);
    }
  }

  private resolveTargets(targets: readonly string[], primaryKey: readonly string[]): number[] {
    const out: number[] = [];
    for (const t of targets) {
      const i = this.names.indexOf(t);
      if (i < 0) throw new FlussError(Errors.INVALID_TARGET_COLUMN, `target column '${t}' does not exist`);
      if (!out.includes(i)) out.push(i);
    }
    for (const k of primaryKey) {
      if (!targets.includes(k)) {
        throw new FlussError(
          Errors.INVALID_TARGET_COLUMN,
          `a partial update must include every primary-key column; '${k}' is missing`,
        );
      }
    }
    for (const c of this.columns) {
      if (!targets.includes(c.name) && !c.type.nullable) {
        throw new FlussError(
          Errors.INVALID_TARGET_COLUMN,
          `a partial update must leave only nullable columns out; '${c.name}' is NOT NULL`,
        );
      }
    }
    return out.sort((a, b) => a - b);
  }

  private checkKeys(row: Row, allowed: ReadonlySet<string>): void {
    for (const k in row) {
      if (allowed.has(k)) continue;
      if (this.known.has(k)) {
        throw new FlussError(
          Errors.SCHEMA_MISMATCH,
          `column '${k}' is not among the target columns of this writer`,
        );
      }
      throw new FlussError(
        Errors.SCHEMA_MISMATCH,
        `unknown column '${k}' (the table has: ${this.names.join(", ")})`,
      );
    }
  }

  private bucketOf(row: Row, key: Uint8Array): number {
    if (this.bucketFromKey) return bucketForKey(key, this.bucketCount);
    return this.bucketEncoder ? bucketForKey(this.bucketEncoder.encode(row), this.bucketCount) : 0;
  }

  /** An upsert: the key and the full (or partial) row, checked against the schema. */
  upsert(row: Row): KvItem {
    this.checkKeys(row, this.allowed);
    const key = this.keyEncoder.encode(row);
    const values = this.columns.map((c) => {
      const v = row[c.name];
      return v === undefined ? null : v;
    });
    return {
      key,
      row: encodeCompactedRow(this.types, values, this.names),
      bucket: this.bucketOf(row, key),
      partition: this.partitionOf(row),
    };
  }

  /** A delete: only the primary-key columns are read. */
  delete(row: Row): KvItem {
    this.checkKeys(row, this.known);
    const key = this.keyEncoder.encode(row);
    return {
      key,
      row: null,
      bucket: this.bucketOf(row, key),
      partition: this.partitionOf(row),
    };
  }
}
