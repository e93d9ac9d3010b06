// Fluss's DefaultValueRecordBatch: how a limit scan of a primary-key table returns stored values.
// Layout (little-endian): Length i32 (batch size - 4) | Magic i8 (0) | RecordCount i32 | records,
// each Length i32 (record size - 4) | SchemaId i16 | row bytes. A stored KV value is already
// "i16 schema id + row", so a record is its length followed by the stored value as is.

import { Errors, FlussError } from "../errors.ts";

const HEADER_BYTES = 9;
const VALUE_MAGIC = 0;

/** Batch the stored values (each i16 schema id + row). */
export function buildValueRecordBatch(values: readonly Uint8Array[]): Uint8Array {
  let size = HEADER_BYTES;
  for (const v of values) size += 4 + v.byteLength;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, size - 4, true);
  dv.setInt8(4, VALUE_MAGIC);
  dv.setInt32(5, values.length, true);
  let pos = HEADER_BYTES;
  for (const v of values) {
    dv.setInt32(pos, v.byteLength, true);
    out.set(v, pos + 4);
    pos += 4 + v.byteLength;
  }
  return out;
}

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `invalid value record batch: ${why}`);
}

/** The stored values of a value record batch (views into `bytes`). */
export function readValueRecordBatch(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength < HEADER_BYTES) throw corrupt("shorter than its header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getInt32(0, true) + 4;
  if (size !== bytes.byteLength) throw corrupt(`length says ${size} bytes, got ${bytes.byteLength}`);
  if (dv.getInt8(4) !== VALUE_MAGIC) throw corrupt(`unknown magic ${dv.getInt8(4)}`);
  const count = dv.getInt32(5, true);
  const out: Uint8Array[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > size) throw corrupt(`record ${i} is truncated`);
    const len = dv.getInt32(pos, true);
    if (len < 2 || pos + 4 + len > size) throw corrupt(`record ${i} has a bad length ${len}`);
    out.push(bytes.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  if (pos !== size) throw corrupt("trailing bytes after the last record");
  return out;
}
