// Encoding between the bytes a KV tablet handles and decoded rows, for one table schema:
// KV records' rows (COMPACTED), stored values (i16 schema id + COMPACTED row) and keys (the
// compacted encoding of the primary key minus partition keys). checkRecord validates a record
// without decoding its row when it can: the row is walked (scanCompactedRow, same refusals as
// decoding) and the key compared with the bytes of the row's key fields, which is the same test
// as re-encoding the decoded key values whenever those bytes are canonical (checked per type:
// minimal varints, 0/1 booleans, ASCII strings); anything else takes the decoding path.
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
  KV_VALUE_SCHEMA_ID_SIZE,
  type Schema,
  scanCompactedRow,
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

/** How a key column's bytes in a row are known canonical (re-encode to themselves), or null. */
type QuickKey = "fixed" | "bool" | "int" | "long" | "ascii";

function quickKeyOf(type: DataType): QuickKey | null {
  switch (type.root) {
    case "TINYINT":
    case "SMALLINT":
      return "fixed";
    case "BOOLEAN":
      return "bool";
    case "INTEGER":
      return "int";
    case "BIGINT":
      return "long";
    case "STRING":
      return "ascii";
    default:
      return null;
  }
}

/** A minimal varint of at most `maxBytes` whose last byte holds at most `lastMax`. */
function canonicalVarint(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxBytes: number,
  lastMax: number,
): boolean {
  const n = end - start;
  if (n === 1) return true;
  const last = bytes[end - 1]!;
  return last !== 0 && (n < maxBytes || last <= lastMax);
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
  private readonly keyIndexes: readonly number[];
  /** Per key column, how its bytes are known canonical; null when some key column has no way. */
  private readonly quickKeys: readonly QuickKey[] | null;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;

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
    this.keyIndexes = physicalKey.map((k) => schema.columns.findIndex((c) => c.name === k));
    const quick = this.keyIndexes.map((i) => quickKeyOf(this.types[i]!));
    this.quickKeys = quick.every((q) => q !== null) ? (quick as QuickKey[]) : null;
    this.starts = new Int32Array(this.types.length);
    this.ends = new Int32Array(this.types.length);
  }

  /**
   * Validate an upsert record without decoding its row when possible: the same refusals, in the
   * same order, as decodeRow followed by checkKey.
   */
  checkRecord(key: Uint8Array, rowBytes: Uint8Array, record: number): void {
    try {
      scanCompactedRow(this.types, rowBytes, this.starts, this.ends);
    } catch (err) {
      throw corrupt(`kv record ${record}: the row does not decode: ${(err as Error).message}`, err);
    }
    if (key.byteLength > 0 && key.byteLength <= KV_KEY_BYTES_MAX && this.keyMatchesRow(key, rowBytes)) return;
    this.checkKey(key, this.decodeRow(rowBytes, record), record);
  }

  /** The key is the concatenation of the row's key-field bytes, each canonical. */
  private keyMatchesRow(key: Uint8Array, row: Uint8Array): boolean {
    const quick = this.quickKeys;
    if (quick === null) return false;
    let p = 0;
    for (let k = 0; k < quick.length; k++) {
      const col = this.keyIndexes[k]!;
      const s = this.starts[col]!;
      const e = this.ends[col]!;
      if (s < 0 || p + (e - s) > key.length) return false;
      switch (quick[k]!) {
        case "bool":
          if (row[s]! > 1) return false;
          break;
        case "int":
          if (!canonicalVarint(row, s, e, 5, 0x0f)) return false;
          break;
        case "long":
          if (!canonicalVarint(row, s, e, 10, 0x01)) return false;
          break;
        case "ascii": {
          let q = s;
          while (row[q]! & 0x80) q++;
          if (!canonicalVarint(row, s, q + 1, 5, 0x07)) return false;
          for (let j = q + 1; j < e; j++) if (row[j]! > 0x7f) return false;
          break;
        }
        case "fixed":
          break;
      }
      for (let j = s; j < e; j++) if (key[p++] !== row[j]) return false;
    }
    return p === key.length;
  }

  /** The row of a stored value, as a view (decodeValue's checks, without decoding the row). */
  storedRow(value: Uint8Array): Uint8Array {
    if (value.byteLength <= KV_VALUE_SCHEMA_ID_SIZE) {
      throw new FlussError(
        Errors.CORRUPT_RECORD_EXCEPTION,
        `kv value of ${value.byteLength} bytes holds no row`,
      );
    }
    const schemaId = ((value[0]! | (value[1]! << 8)) << 16) >> 16;
    if (schemaId !== this.schemaId) {
      throw new FlussError(
        Errors.KV_STORAGE_EXCEPTION,
        `a stored value has schema id ${schemaId}; only schema id ${this.schemaId} is supported`,
      );
    }
    return value.subarray(KV_VALUE_SCHEMA_ID_SIZE);
  }

  /** Write the stored value of `rowBytes` (i16 schema id + row) into `out` at `at`; returns its end. */
  writeValue(out: Uint8Array, at: number, rowBytes: Uint8Array): number {
    out[at] = this.schemaId & 0xff;
    out[at + 1] = this.schemaId >>> 8;
    out.set(rowBytes, at + KV_VALUE_SCHEMA_ID_SIZE);
    return at + KV_VALUE_SCHEMA_ID_SIZE + rowBytes.byteLength;
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
