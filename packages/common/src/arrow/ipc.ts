// One Arrow IPC stream-format record-batch message, without schema message or end-of-stream marker:
// exactly the bytes Fluss puts after the change-type bytes of an ARROW log batch.
// Encoding walks the batch's columns (flat types only: the ones arrow-types.ts produces), takes
// their buffers as they are (validity omitted when a column has no nulls), compresses each buffer
// when asked (Arrow BUFFER body compression: an i64 uncompressed-length prefix, -1 when the buffer
// is stored raw because compressing did not make it smaller; an empty buffer stays empty), and
// pads every buffer to 8 bytes. Decoding maps buffers back to typed arrays without copying when
// they are aligned, copying only misaligned numeric buffers, and decompresses compressed bodies.
// Invariants: a decoded batch never aliases a decompression scratch; node and buffer counts must
// match the expected schema exactly or decoding fails with CORRUPT_RECORD_EXCEPTION.

import {
  type Schema as ArrowSchema,
  type Data,
  DataType,
  type Field,
  makeData,
  RecordBatch,
} from "apache-arrow";
import { assert, Errors, FlussError, invalidArgument } from "../errors.ts";
import { makeColumnData, structTypeOf } from "./arrow-types.ts";
import { compressBuffer, decompressBuffer, type IpcCompression } from "./compression.ts";
import {
  dataViewOf,
  type MessageLayout,
  messageHeaderSize,
  readI64,
  readMessageLayout,
  writeMessageHeader,
} from "./ipc-metadata.ts";

export type { IpcCompression } from "./compression.ts";

// Typed arrays use the platform byte order; Arrow IPC and Fluss batches are little-endian.
assert(new Uint8Array(Uint16Array.of(1).buffer)[0] === 1, "fluss-ts needs a little-endian platform");

const ZEROS = new Uint8Array(8);
const EMPTY = new Uint8Array(0);

export function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** A message as a list of byte parts (header, buffers, paddings), to copy once into a batch. */
export interface MessageParts {
  readonly parts: Uint8Array[];
  readonly byteLength: number;
}

interface ColumnBuffers {
  nodeLengths: number[];
  nodeNullCounts: number[];
  buffers: Uint8Array[];
}

function bytesOf(view: ArrayBufferView, byteLength: number): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, byteLength);
}

/** Bits [offset, offset + length) of a bitmap as a byte-aligned bitmap (a view when possible). */
function bitsFrom(bitmap: Uint8Array, offset: number, length: number): Uint8Array {
  const bytes = (length + 7) >> 3;
  if ((offset & 7) === 0) return bitmap.subarray(offset >> 3, (offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < length; i++) {
    const j = offset + i;
    if ((bitmap[j >> 3]! >> (j & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

function variableBuffers(data: Data): [Uint8Array, Uint8Array] {
  const offsets = data.valueOffsets as Int32Array | undefined;
  const values = (data.values as Uint8Array | undefined) ?? EMPTY;
  if (offsets === undefined || offsets.length === 0) return [new Uint8Array(4), EMPTY];
  const first = offsets[0]!;
  const last = offsets[data.length]!;
  if (first === 0) return [bytesOf(offsets, (data.length + 1) * 4), values.subarray(0, last)];
  const rebased = new Int32Array(data.length + 1);
  for (let i = 0; i <= data.length; i++) rebased[i] = offsets[i]! - first;
  return [bytesOf(rebased, rebased.byteLength), values.subarray(first, last)];
}

function fixedBuffer(data: Data): Uint8Array {
  const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
  return bytesOf(values, data.length * data.stride * values.BYTES_PER_ELEMENT);
}

function collectColumn(data: Data, out: ColumnBuffers): void {
  const { type, length } = data;
  const nullCount = data.nullCount;
  out.nodeLengths.push(length);
  out.nodeNullCounts.push(nullCount);
  const nullBitmap = data.nullBitmap as Uint8Array | undefined;
  out.buffers.push(nullCount > 0 && nullBitmap ? bitsFrom(nullBitmap, data.offset, length) : EMPTY);
  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    out.buffers.push(...variableBuffers(data));
  } else if (DataType.isBool(type)) {
    out.buffers.push(bitsFrom(data.values as Uint8Array, data.offset, length));
  } else if (
    DataType.isInt(type) ||
    DataType.isFloat(type) ||
    DataType.isDecimal(type) ||
    DataType.isFixedSizeBinary(type) ||
    DataType.isDate(type) ||
    DataType.isTime(type) ||
    DataType.isTimestamp(type)
  ) {
    out.buffers.push(fixedBuffer(data));
  } else {
    throw invalidArgument(`Arrow type ${String(type)} is not supported in a log batch`);
  }
}

/** Encode a record batch as an IPC message, returned as parts (no copy of uncompressed buffers). */
export function encodeRecordBatchParts(batch: RecordBatch, compression: IpcCompression): MessageParts {
  const cols: ColumnBuffers = { nodeLengths: [], nodeNullCounts: [], buffers: [] };
  for (const child of batch.data.children) collectColumn(child, cols);
  const compressed = compression.type !== "NONE";
  const body: Uint8Array[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  let bodyLength = 0;
  for (const buf of cols.buffers) {
    offsets.push(bodyLength);
    let stored = buf.byteLength;
    if (compressed && stored > 0) stored = pushCompressed(body, buf, compression);
    else if (stored > 0) body.push(buf);
    lengths.push(stored);
    const padded = pad8(stored);
    if (padded > stored) body.push(ZEROS.subarray(0, padded - stored));
    bodyLength += padded;
  }
  const header = new Uint8Array(messageHeaderSize(cols.nodeLengths.length, lengths.length, compressed));
  writeMessageHeader(header, 0, {
    rowCount: batch.numRows,
    nodeLengths: cols.nodeLengths,
    nodeNullCounts: cols.nodeNullCounts,
    bufferOffsets: offsets,
    bufferLengths: lengths,
    compression: compression.type,
    bodyLength,
  });
  return { parts: [header, ...body], byteLength: header.byteLength + bodyLength };
}

/** Append prefix + payload of one compressed buffer; returns the stored length. */
function pushCompressed(body: Uint8Array[], buf: Uint8Array, c: IpcCompression): number {
  const packed = compressBuffer(c.type, buf, c.zstdLevel);
  const prefix = new Uint8Array(8);
  const dv = dataViewOf(prefix);
  if (packed.byteLength < buf.byteLength) {
    dv.setUint32(0, buf.byteLength, true);
    body.push(prefix, packed);
    return 8 + packed.byteLength;
  }
  dv.setInt32(0, -1, true);
  dv.setInt32(4, -1, true);
  body.push(prefix, buf);
  return 8 + buf.byteLength;
}

export function concatParts(m: MessageParts): Uint8Array {
  const out = new Uint8Array(m.byteLength);
  let pos = 0;
  for (const p of m.parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/** One IPC stream-format record-batch message (continuation, metadata, body). */
export function encodeRecordBatchMessage(batch: RecordBatch, compression: IpcCompression): Uint8Array {
  return concatParts(encodeRecordBatchParts(batch, compression));
}

// ---- decoding --------------------------------------------------------------------------------

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `invalid Arrow record batch: ${why}`);
}

class BufferSource {
  readonly bytes: Uint8Array;
  readonly layout: MessageLayout;
  readonly dv: DataView;
  index = 0;

  constructor(bytes: Uint8Array, layout: MessageLayout) {
    this.bytes = bytes;
    this.layout = layout;
    this.dv = dataViewOf(bytes);
  }

  /** The next buffer, decompressed when the body is compressed. */
  next(): Uint8Array {
    const { layout, dv } = this;
    const at = layout.buffersPos + 16 * this.index++;
    const offset = readI64(dv, at);
    const length = readI64(dv, at + 8);
    if (offset + length > layout.bodyLength) throw corrupt(`buffer ${this.index - 1} exceeds the body`);
    const raw = this.bytes.subarray(layout.bodyStart + offset, layout.bodyStart + offset + length);
    if (layout.compression === "NONE" || length === 0) return raw;
    if (length < 8) throw corrupt("compressed buffer shorter than its length prefix");
    const lo = dv.getUint32(layout.bodyStart + offset, true);
    const hi = dv.getInt32(layout.bodyStart + offset + 4, true);
    if (hi === -1 && lo === 0xffffffff) return raw.subarray(8);
    if (hi !== 0 || lo > 0x7fffffff) throw corrupt(`uncompressed length prefix out of range`);
    return decompressBuffer(layout.compression, raw.subarray(8), lo);
  }
}

type TypedCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
};

/** A typed-array view of `count` elements over `bytes`, copying only when misaligned. */
function typedView(ctor: TypedCtor, bytes: Uint8Array, count: number): ArrayBufferView {
  const need = count * ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength < need) throw corrupt(`buffer of ${bytes.byteLength} bytes, need ${need}`);
  if (bytes.byteOffset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer, bytes.byteOffset, count);
  // Copy explicitly: `bytes` may be a Node Buffer, whose slice() is a view, not a copy.
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(0, need));
  return new ctor(copy.buffer, 0, count);
}

function fixedWidthOf(type: DataType): number {
  if (DataType.isInt(type) || DataType.isTime(type)) return type.bitWidth / 8;
  if (DataType.isFloat(type)) return [2, 4, 8][type.precision]!;
  if (DataType.isDecimal(type)) return type.bitWidth / 8;
  if (DataType.isFixedSizeBinary(type)) return type.byteWidth;
  if (DataType.isDate(type)) return type.unit === 0 ? 4 : 8;
  if (DataType.isTimestamp(type)) return 8;
  throw invalidArgument(`Arrow type ${String(type)} is not supported in a log batch`);
}

function loadColumn(field: Field, src: BufferSource, nodeIndex: number): Data {
  const { layout, dv } = src;
  const length = readI64(dv, layout.nodesPos + 16 * nodeIndex);
  const nullCount = readI64(dv, layout.nodesPos + 16 * nodeIndex + 8);
  if (length !== layout.rowCount || nullCount > length) throw corrupt(`field node ${nodeIndex}`);
  const validity = src.next();
  if (nullCount > 0 && validity.byteLength < (length + 7) >> 3) throw corrupt("short validity bitmap");
  const nullBitmap = nullCount > 0 ? validity : undefined;
  const type = field.type as DataType;
  if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    const offsetBytes = src.next();
    const data = src.next();
    const valueOffsets =
      length === 0 && offsetBytes.byteLength < 4
        ? new Int32Array(1)
        : (typedView(Int32Array, offsetBytes, length + 1) as Int32Array);
    if (valueOffsets[length]! > data.byteLength) throw corrupt("string offsets exceed the data buffer");
    return makeColumnData({ type, length, nullCount, nullBitmap, valueOffsets, data });
  }
  if (DataType.isBool(type)) {
    const data = src.next();
    if (data.byteLength < (length + 7) >> 3) throw corrupt("short boolean buffer");
    return makeColumnData({ type, length, nullCount, nullBitmap, data });
  }
  const width = fixedWidthOf(type);
  const ctor = type.ArrayType as TypedCtor;
  const data = typedView(ctor, src.next(), (length * width) / ctor.BYTES_PER_ELEMENT);
  return makeColumnData({ type, length, nullCount, nullBitmap, data });
}

/** Decode a record-batch message already parsed into `layout`. */
export function decodeWithLayout(bytes: Uint8Array, layout: MessageLayout, schema: ArrowSchema): RecordBatch {
  const fields = schema.fields;
  if (layout.nodeCount !== fields.length) {
    throw corrupt(`${layout.nodeCount} field nodes for a schema of ${fields.length} columns`);
  }
  const src = new BufferSource(bytes, layout);
  const children: Data[] = [];
  for (let i = 0; i < fields.length; i++) children.push(loadColumn(fields[i]!, src, i));
  if (src.index !== layout.bufferCount) throw corrupt(`${layout.bufferCount} buffers, expected ${src.index}`);
  const data = makeData({ type: structTypeOf(schema), length: layout.rowCount, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/**
 * Decode one IPC record-batch message against the Arrow schema of the columns it holds.
 * Uncompressed, aligned buffers are views into `bytes` (zero-copy): do not overwrite `bytes`
 * while the batch is in use. Misaligned numeric buffers are copied; compressed ones decompressed.
 */
export function decodeRecordBatchMessage(bytes: Uint8Array, arrowSchema: ArrowSchema): RecordBatch {
  return decodeWithLayout(bytes, readMessageLayout(bytes), arrowSchema);
}

/** An empty record batch (no rows) of a schema: what a header-only log batch decodes to. */
export function emptyRecordBatch(schema: ArrowSchema): RecordBatch {
  const children = schema.fields.map((f) => makeData({ type: f.type, length: 0, nullCount: 0 }));
  return new RecordBatch(schema, makeData({ type: structTypeOf(schema), length: 0, nullCount: 0, children }));
}
