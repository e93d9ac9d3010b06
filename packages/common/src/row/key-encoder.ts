// Fluss's CompactedKeyEncoder: the primary-key (or bucket-key) columns encoded with the COMPACTED
// value encoding (see compacted-row.ts) and NO null bitset, one after another in key order.
// Because the encoding has no header, the bytes of a key prefix (e.g. the bucket key when it is a
// prefix of the primary key) are a byte prefix of the full key — prefix lookup relies on this.
// These bytes are what the bucket hash (bucketing.ts) runs over and what the KV store is keyed by.
// Invariants: key values are never null (SCHEMA_MISMATCH naming the column, as Fluss refuses them);
// the nullability flag of a key type does not change the bytes.

import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { type DataType, typeToSql } from "../types.ts";
import { mismatchError, ValueMismatch } from "../values/mismatch.ts";
import { CompactedRowReader, CompactedRowWriter, type DecodeOptions } from "./compacted-row.ts";
import { type RowInput, valuesOf } from "./row-input.ts";

function keyWriteInto(
  writer: CompactedRowWriter,
  types: readonly DataType[],
  values: readonly unknown[],
  names: readonly string[] | undefined,
): void {
  if (values.length !== types.length) {
    throw new FlussError(
      Errors.SCHEMA_MISMATCH,
      `key has ${values.length} values, expected ${types.length} key columns`,
    );
  }
  writer.reset(0);
  let i = 0;
  try {
    for (; i < types.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        throw new FlussError(
          Errors.SCHEMA_MISMATCH,
          `key column '${names?.[i] ?? `#${i}`}' (${typeToSql(types[i]!)}) must not be null`,
        );
      }
      writer.writeField(types[i]!, v);
    }
  } catch (err) {
    if (err instanceof ValueMismatch) throw mismatchError(names?.[i] ?? `#${i}`, types[i]!, err);
    throw err;
  }
}

let shared: CompactedRowWriter | undefined;

/** Encode key values (in key-column order) as Fluss compacted key bytes. */
export function encodeKey(
  types: readonly DataType[],
  values: readonly unknown[],
  names?: readonly string[],
): Uint8Array {
  shared ??= new CompactedRowWriter(0, 128);
  keyWriteInto(shared, types, values, names);
  return shared.toBytes();
}

/** Decode compacted key bytes back into values (output convention of decodeCompactedRow). */
export function decodeKey(types: readonly DataType[], bytes: Uint8Array, options?: DecodeOptions): unknown[] {
  const reader = new CompactedRowReader(bytes, 0);
  const out = new Array<unknown>(types.length);
  for (let i = 0; i < types.length; i++) out[i] = reader.readField(types[i]!, options);
  if (reader.remaining !== 0) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `compacted key: ${reader.remaining} trailing bytes after ${types.length} key columns`,
    );
  }
  return out;
}

/**
 * Extracts and encodes the key columns of full rows of a table, e.g. the primary key (minus
 * partition keys) or the bucket key. Reuses one buffer; not reentrant.
 */
export class CompactedKeyEncoder {
  readonly columns: readonly Column[];
  readonly keyNames: readonly string[];
  readonly keyTypes: readonly DataType[];
  readonly #indexes: readonly number[];
  readonly #writer = new CompactedRowWriter(0, 64);
  readonly #scratch: unknown[];

  constructor(columns: readonly Column[], keyNames: readonly string[]) {
    if (keyNames.length === 0)
      throw new FlussError(Errors.INVALID_ARGUMENT, "a key needs at least one column");
    const indexes = keyNames.map((k) => {
      const i = columns.findIndex((c) => c.name === k);
      if (i < 0)
        throw new FlussError(Errors.INVALID_ARGUMENT, `key column '${k}' is not a column of the table`);
      return i;
    });
    this.columns = columns;
    this.keyNames = [...keyNames];
    this.keyTypes = indexes.map((i) => columns[i]!.type);
    this.#indexes = indexes;
    this.#scratch = new Array<unknown>(indexes.length);
  }

  /** Key bytes of a full row (by column name or by column index). */
  encode(row: RowInput): Uint8Array {
    const values = Array.isArray(row) ? valuesOf(this.columns, row) : undefined;
    for (let k = 0; k < this.#indexes.length; k++) {
      const i = this.#indexes[k]!;
      this.#scratch[k] = values
        ? values[i]
        : (row as Readonly<Record<string, unknown>>)[this.columns[i]!.name];
    }
    try {
      keyWriteInto(this.#writer, this.keyTypes, this.#scratch, this.keyNames);
    } finally {
      this.#scratch.fill(undefined);
    }
    return this.#writer.toBytes();
  }

  /** Key bytes of key values given in key-column order. */
  encodeValues(values: readonly unknown[]): Uint8Array {
    keyWriteInto(this.#writer, this.keyTypes, values, this.keyNames);
    return this.#writer.toBytes();
  }
}
