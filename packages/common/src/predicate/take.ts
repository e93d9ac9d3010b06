// Select rows of an Arrow RecordBatch by index into a new batch, copying buffers per column type
// (fixed-width values, bit-packed booleans, variable-width offsets + bytes, validity), so every
// value keeps its exact bits (no round trip through JS values: nanosecond timestamps, -0, NaN
// payloads and decimals are copied as stored).
// Invariants: the result has the input's schema object and `indexes.length` rows, row k being
// input row indexes[k]; a validity bitmap only when a selected row is null; the input is not
// modified and shares no buffer with the result.

import { type Data, DataType, makeData, RecordBatch } from "apache-arrow";
import { makeColumnData, structTypeOf } from "../arrow/arrow-types.ts";
import { assert } from "../errors.ts";

function isValid(data: Data, i: number): boolean {
  const bits = data.nullBitmap;
  if (data.nullCount === 0 || bits === undefined || bits.length === 0) return true;
  const o = data.offset + i;
  return ((bits[o >> 3]! >> (o & 7)) & 1) === 1;
}

function takeBits(bits: Uint8Array, offset: number, indexes: Uint32Array): Uint8Array {
  const out = new Uint8Array((indexes.length + 7) >> 3);
  for (let k = 0; k < indexes.length; k++) {
    const o = offset + indexes[k]!;
    if ((bits[o >> 3]! >> (o & 7)) & 1) out[k >> 3]! |= 1 << (k & 7);
  }
  return out;
}

type Fixed =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array;

function takeFixed(values: Fixed, stride: number, indexes: Uint32Array): Fixed {
  const ctor = values.constructor as new (n: number) => Fixed;
  const out = new ctor(indexes.length * stride);
  for (let k = 0; k < indexes.length; k++) {
    const from = indexes[k]! * stride;
    for (let s = 0; s < stride; s++) (out as Int32Array)[k * stride + s] = (values as Int32Array)[from + s]!;
  }
  return out;
}

function takeColumn(data: Data, indexes: Uint32Array): Data {
  const n = indexes.length;
  let nullCount = 0;
  for (let k = 0; k < n; k++) if (!isValid(data, indexes[k]!)) nullCount++;
  const nullBitmap = nullCount > 0 ? takeBits(data.nullBitmap!, data.offset, indexes) : undefined;
  const type = data.type;
  if (DataType.isBool(type)) {
    const values = takeBits(data.values as Uint8Array, data.offset, indexes);
    return makeColumnData({ type, length: n, nullCount, nullBitmap, data: values });
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const outOffsets = new Int32Array(n + 1);
    let size = 0;
    for (let k = 0; k < n; k++) {
      const i = indexes[k]!;
      size += offsets[i + 1]! - offsets[i]!;
      outOffsets[k + 1] = size;
    }
    const out = new Uint8Array(size);
    for (let k = 0; k < n; k++) {
      const i = indexes[k]!;
      out.set(bytes.subarray(offsets[i]!, offsets[i + 1]!), outOffsets[k]!);
    }
    return makeColumnData({ type, length: n, nullCount, nullBitmap, data: out, valueOffsets: outOffsets });
  }
  const values = data.values as Fixed;
  // Elements per row: Decimal128 is 4 Uint32 words, FixedSizeBinary(w) w bytes, others one.
  const stride = DataType.isDecimal(type) ? 4 : DataType.isFixedSizeBinary(type) ? type.byteWidth : 1;
  assert(values.length >= data.length * stride, "fixed-width column buffer is short");
  return makeColumnData({ type, length: n, nullCount, nullBitmap, data: takeFixed(values, stride, indexes) });
}

/** A new batch of the rows `indexes` (each < batch.numRows) of `batch`, in that order. */
export function takeRows(batch: RecordBatch, indexes: Uint32Array): RecordBatch {
  for (const i of indexes) assert(i < batch.numRows, `row ${i} of a batch of ${batch.numRows}`);
  const children = batch.data.children.map((c) => takeColumn(c, indexes));
  const schema = batch.schema;
  const data = makeData({ type: structTypeOf(schema), length: indexes.length, nullCount: 0, children });
  const out = new RecordBatch(schema, data);
  const writable = out as { schema: typeof schema; data: typeof data };
  writable.schema = schema;
  writable.data = data;
  return out;
}
