// The value Fluss stores in the KV store for a key (ValueEncoder / ValueDecoder): the schema id the
// row was written with, then the encoded row (COMPACTED or INDEXED, per the table's kv format).
// Layout: SchemaId i16 little-endian | row bytes (the rest, never empty).
// Invariants: the schema id is in [0, 32767]; decoding returns a view of the row (no copy) and
// raises CORRUPT_RECORD_EXCEPTION for a value too short to hold a schema id and a row.

import { Errors, FlussError } from "../errors.ts";

export const KV_VALUE_SCHEMA_ID_SIZE = 2;

export function encodeKvValue(schemaId: number, row: Uint8Array): Uint8Array {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 32767) {
    throw new FlussError(Errors.INVALID_ARGUMENT, `schema id must be in [0, 32767], got ${schemaId}`);
  }
  const out = new Uint8Array(KV_VALUE_SCHEMA_ID_SIZE + row.byteLength);
  out[0] = schemaId & 0xff;
  out[1] = schemaId >>> 8;
  out.set(row, KV_VALUE_SCHEMA_ID_SIZE);
  return out;
}

export function decodeKvValue(value: Uint8Array): { schemaId: number; row: Uint8Array } {
  if (value.byteLength <= KV_VALUE_SCHEMA_ID_SIZE) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `kv value of ${value.byteLength} bytes holds no row`,
    );
  }
  const schemaId = ((value[0]! | (value[1]! << 8)) << 16) >> 16;
  return { schemaId, row: value.subarray(KV_VALUE_SCHEMA_ID_SIZE) };
}
