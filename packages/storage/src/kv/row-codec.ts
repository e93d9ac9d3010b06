// Encoding between the bytes a KV tablet handles and decoded rows, for one table schema:
// KV records' rows (COMPACTED), stored values (i16 schema id + COMPACTED row) and keys (the
// compacted encoding of the primary key minus partition keys).
// Invariants: decoded rows use `{ timestamps: "bigint" }` so re-encoding is lossless; merged rows
// are encoded with CHAR as STRING (the bytes are identical; a listagg may outgrow CHAR(n), as in
// Fluss); every malformed record raises CORRUPT_RECORD_EXCEPTION naming what is wrong.

import {
  CompactedKeyEncoder,
  type DataType,
  decodeCompactedRow,
  decodeKey,
  decodeKvValue,
  Errors,
  encodeCompactedRow,
  encodeKvValue,
  FlussError,
  isFlussError,
  type Schema,
} from "@fluss-ts/common";
import { KV_KEY_BYTES_MAX } from "./kv-store.ts";
import type { Row } from "./types.ts";

const decodeOptions = { timestamps: "bigint" } as const;

function corrupt(message: string, cause?: unknown): FlussError {
  return new FlussError(
    Errors.CORRUPT_RECORD_EXCEPTION,
    message,
    cause === undefined ? undefined : { cause },
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export class RowCodec {
  readonly schema: Schema;
  readonly schemaId: number;
  readonly types: readonly DataType[];
  private readonly storageTypes: readonly DataType[];
  private readonly names: readonly string[];
  private readonly keyEncoder: CompactedKeyEncoder;

  constructor(schema: Schema, schemaId: number, partitionKeys: readonly string[]) {
    this.schema = schema;
    this.schemaId = schemaId;
    this.types = schema.columns.map((c) => c.type);
    this.storageTypes = this.types.map((t) =>
      t.root === "CHAR" ? { root: "STRING", nullable: t.nullable } : t,
    );
    this.names = schema.columns.map((c) => c.name);
    const physicalKey = schema.primaryKey.filter((k) => !partitionKeys.includes(k));
    this.keyEncoder = new CompactedKeyEncoder(schema.columns, physicalKey);
  }

  /** The row of a KV record. */
  decodeRow(bytes: Uint8Array, record: number): Row {
    try {
      return decodeCompactedRow(this.types, bytes, decodeOptions);
    } catch (err) {
      throw corrupt(`kv record ${record}: the row does not decode: ${(err as Error).message}`, err);
    }
  }

  /** The row of a stored value (written by this tablet, so a failure is storage corruption). */
  decodeValue(value: Uint8Array): Row {
    const { schemaId, row } = decodeKvValue(value);
    if (schemaId !== this.schemaId) {
      throw new FlussError(
        Errors.KV_STORAGE_EXCEPTION,
        `a stored value has schema id ${schemaId}; only schema id ${this.schemaId} is supported`,
      );
    }
    return decodeCompactedRow(this.types, row, decodeOptions);
  }

  /** The stored value of a merged row. */
  encodeValue(row: Row): Uint8Array {
    return encodeKvValue(this.schemaId, encodeCompactedRow(this.storageTypes, row, this.names));
  }

  /** The stored value of a record's row bytes, as they came (copied). */
  valueOfRowBytes(rowBytes: Uint8Array): Uint8Array {
    return encodeKvValue(this.schemaId, rowBytes);
  }

  /** The key of a full row (a fresh copy). */
  keyOf(row: Row): Uint8Array {
    return this.keyEncoder.encode(row);
  }

  /**
   * A record's key is 1..KV_KEY_BYTES_MAX bytes, decodes as the primary key, and (for an upsert)
   * equals the key of its row.
   */
  checkKey(key: Uint8Array, row: Row | null, record: number): void {
    if (key.byteLength === 0) throw corrupt(`kv record ${record} has an empty key`);
    if (key.byteLength > KV_KEY_BYTES_MAX) {
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `kv record ${record}: key of ${key.byteLength} bytes exceeds ${KV_KEY_BYTES_MAX} bytes`,
      );
    }
    if (row === null) {
      try {
        decodeKey(this.keyEncoder.keyTypes, key);
      } catch (err) {
        throw corrupt(`kv record ${record}: the key does not decode as the primary key`, err);
      }
      return;
    }
    let expected: Uint8Array;
    try {
      expected = this.keyEncoder.encode(row);
    } catch (err) {
      if (!isFlussError(err)) throw err;
      throw corrupt(`kv record ${record}: the row has no valid primary key: ${err.message}`, err);
    }
    if (!sameBytes(expected, key))
      throw corrupt(`kv record ${record}: the key does not match the row's primary key`);
  }
}
