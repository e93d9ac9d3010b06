// The metadata of one Arrow IPC stream-format record-batch message, read and written by hand:
//   0xFFFFFFFF continuation | i32 metadata length M (flatbuffer + padding, M % 8 == 0) |
//   flatbuffer Message { version V5, header: RecordBatch { length, nodes [FieldNode{length,
//   null_count}], buffers [Buffer{offset, length}], compression?: BodyCompression{codec, method} },
//   bodyLength } | body (bodyLength bytes, buffer offsets relative to its start).
// Reading walks the flatbuffer generically (vtables), so metadata written by Arrow Java or C++ is
// understood; writing uses one fixed forward layout (all uoffsets point forward, every i64 and
// struct 8-aligned relative to the flatbuffer start). Reading returns positions, not copies, so the
// projection can pick field nodes and buffers without decoding anything else.
// Invariants: every position is checked against the message bounds before use; corrupt input
// raises CORRUPT_RECORD_EXCEPTION, never an out-of-range read.

import { Errors, FlussError } from "../errors.ts";
import type { ArrowCompression } from "../options.ts";
import { compressionCode, compressionFromCode } from "./compression.ts";

const CONTINUATION = -1;
const METADATA_V5 = 4;
const HEADER_RECORD_BATCH = 3;
const TWO_32 = 4294967296;

/** Where the parts of a record-batch message are (absolute positions in the given bytes). */
export interface MessageLayout {
  readonly rowCount: number;
  readonly nodeCount: number;
  /** Position of FieldNode 0; node i is 16 bytes: length i64, null count i64. */
  readonly nodesPos: number;
  readonly bufferCount: number;
  /** Position of Buffer 0; buffer i is 16 bytes: offset i64, length i64 (relative to the body). */
  readonly buffersPos: number;
  readonly compression: ArrowCompression;
  readonly bodyStart: number;
  readonly bodyLength: number;
  /** Position just past the message (bodyStart + bodyLength). */
  readonly end: number;
}

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `invalid Arrow record batch message: ${why}`);
}

export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Read a non-negative i64 that fits a double (all sizes and counts here do). */
export function readI64(dv: DataView, pos: number): number {
  const v = dv.getUint32(pos, true) + dv.getInt32(pos + 4, true) * TWO_32;
  if (v < 0 || !Number.isSafeInteger(v)) throw corrupt(`value ${v} at byte ${pos} is out of range`);
  return v;
}

export function writeI64(dv: DataView, pos: number, v: number): void {
  dv.setUint32(pos, v >>> 0, true);
  dv.setInt32(pos + 4, Math.floor(v / TWO_32), true);
}

/** Minimal flatbuffer table access over a bounded region [start, end). */
class FbReader {
  readonly dv: DataView;
  readonly start: number;
  readonly end: number;

  constructor(dv: DataView, start: number, end: number) {
    this.dv = dv;
    this.start = start;
    this.end = end;
  }

  check(pos: number, size: number): number {
    if (pos < this.start || pos + size > this.end) throw corrupt(`flatbuffer offset ${pos} out of bounds`);
    return pos;
  }

  /** Absolute position of field `id` of the table at `table`, or -1 when absent. */
  field(table: number, id: number): number {
    const vt = this.check(table - this.dv.getInt32(this.check(table, 4), true), 4);
    const vtSize = this.dv.getUint16(vt, true);
    const slot = 4 + 2 * id;
    if (slot + 2 > vtSize) return -1;
    const off = this.dv.getUint16(this.check(vt + slot, 2), true);
    return off === 0 ? -1 : table + off;
  }

  /** Follow the uoffset stored at `pos`. */
  deref(pos: number): number {
    return this.check(pos + this.dv.getUint32(this.check(pos, 4), true), 4);
  }
}

/**
 * Parse the metadata of the record-batch message starting at `bytes[pos]`. With `bodyPresent`
 * false, `bytes` may end after the metadata (the body is read elsewhere).
 */
export function readMessageLayout(bytes: Uint8Array, pos = 0, bodyPresent = true): MessageLayout {
  const dv = dataViewOf(bytes);
  if (bytes.byteLength - pos < 8) throw corrupt("truncated before the metadata length");
  let metaStart = pos + 8;
  let metaLength = dv.getInt32(pos + 4, true);
  if (dv.getInt32(pos, true) !== CONTINUATION) {
    metaStart = pos + 4; // pre-0.15 format without the continuation marker
    metaLength = dv.getInt32(pos, true);
  }
  const metaEnd = metaStart + metaLength;
  if (metaLength < 8 || metaEnd > bytes.byteLength) throw corrupt(`metadata length ${metaLength}`);
  const fb = new FbReader(dv, metaStart, metaEnd);
  const message = fb.deref(metaStart);
  const version = fb.field(message, 0);
  if (version >= 0 && dv.getInt16(fb.check(version, 2), true) < METADATA_V5 - 1) {
    throw corrupt("metadata versions before V4 are not supported");
  }
  const headerType = fb.field(message, 1);
  if (headerType < 0 || dv.getUint8(fb.check(headerType, 1)) !== HEADER_RECORD_BATCH) {
    throw corrupt("not a record batch message");
  }
  const bodyLengthPos = fb.field(message, 3);
  const bodyLength = bodyLengthPos < 0 ? 0 : readI64(dv, fb.check(bodyLengthPos, 8));
  const headerPos = fb.field(message, 2);
  if (headerPos < 0) throw corrupt("record batch header missing");
  const rb = fb.deref(headerPos);
  const end = metaEnd + bodyLength;
  if (bodyPresent && end > bytes.byteLength) throw corrupt(`body of ${bodyLength} bytes is truncated`);
  return { ...readRecordBatchTable(fb, rb), bodyStart: metaEnd, bodyLength, end };
}

function readStructVector(fb: FbReader, table: number, id: number): { count: number; pos: number } {
  const f = fb.field(table, id);
  if (f < 0) return { count: 0, pos: 0 };
  const v = fb.deref(f);
  const count = fb.dv.getUint32(v, true);
  fb.check(v + 4, count * 16);
  return { count, pos: v + 4 };
}

function readRecordBatchTable(
  fb: FbReader,
  rb: number,
): Pick<MessageLayout, "rowCount" | "nodeCount" | "nodesPos" | "bufferCount" | "buffersPos" | "compression"> {
  const lengthPos = fb.field(rb, 0);
  const rowCount = lengthPos < 0 ? 0 : readI64(fb.dv, fb.check(lengthPos, 8));
  const nodes = readStructVector(fb, rb, 1);
  const buffers = readStructVector(fb, rb, 2);
  let compression: ArrowCompression = "NONE";
  const compPos = fb.field(rb, 3);
  if (compPos >= 0) {
    const bc = fb.deref(compPos);
    const codecPos = fb.field(bc, 0);
    const methodPos = fb.field(bc, 1);
    if (methodPos >= 0 && fb.dv.getInt8(fb.check(methodPos, 1)) !== 0) {
      throw corrupt("only BUFFER body compression is supported");
    }
    compression = compressionFromCode(codecPos < 0 ? 0 : fb.dv.getInt8(fb.check(codecPos, 1)));
  }
  return {
    rowCount,
    nodeCount: nodes.count,
    nodesPos: nodes.pos,
    bufferCount: buffers.count,
    buffersPos: buffers.pos,
    compression,
  };
}

/** The parts of a record-batch message header to write. */
export interface MessageHeaderSpec {
  rowCount: number;
  /** Per field node: length and null count (parallel arrays). */
  nodeLengths: ArrayLike<number>;
  nodeNullCounts: ArrayLike<number>;
  /** Per buffer: offset in the body and length (parallel arrays). */
  bufferOffsets: ArrayLike<number>;
  bufferLengths: ArrayLike<number>;
  compression: ArrowCompression;
  /** Total body length, a multiple of 8. */
  bodyLength: number;
}

/** Bytes of the continuation + length prefix and the flatbuffer for these counts. */
export function messageHeaderSize(nodeCount: number, bufferCount: number, compressed: boolean): number {
  return 8 + 88 + 16 * nodeCount + 16 * bufferCount + (compressed ? 16 : 0);
}

/**
 * Write the message header (continuation, metadata length, flatbuffer) into `out` at `pos`;
 * returns the position where the body starts. Layout, relative to the flatbuffer start F:
 * 0 root → 16 | 4 Message vtable | 16 Message table | 36 RecordBatch vtable | 48 RecordBatch
 * table | 76 nodes | buffers | BodyCompression vtable + table.
 */
export function writeMessageHeader(out: Uint8Array, pos: number, spec: MessageHeaderSpec): number {
  const n = spec.nodeLengths.length;
  const b = spec.bufferLengths.length;
  const compressed = spec.compression !== "NONE";
  const size = messageHeaderSize(n, b, compressed);
  const dv = dataViewOf(out);
  out.fill(0, pos, pos + size);
  dv.setInt32(pos, CONTINUATION, true);
  dv.setInt32(pos + 4, size - 8, true);
  const f = pos + 8;
  dv.setUint32(f, 16, true);
  writeVtable(dv, f + 4, 20, [16, 18, 4, 8]); // version, header_type, header, bodyLength
  dv.setInt32(f + 16, 12, true);
  dv.setUint32(f + 20, 48 - 20, true);
  writeI64(dv, f + 24, spec.bodyLength);
  dv.setInt16(f + 32, METADATA_V5, true);
  dv.setUint8(f + 34, HEADER_RECORD_BATCH);
  writeVtable(dv, f + 36, 24, [16, 4, 8, compressed ? 12 : 0]); // length, nodes, buffers, compression
  dv.setInt32(f + 48, 12, true);
  const nodesVec = 76;
  const buffersVec = nodesVec + 4 + 16 * n + 4;
  dv.setUint32(f + 52, nodesVec - 52, true);
  dv.setUint32(f + 56, buffersVec - 56, true);
  writeI64(dv, f + 64, spec.rowCount);
  writeStructs(dv, f + nodesVec, spec.nodeLengths, spec.nodeNullCounts);
  writeStructs(dv, f + buffersVec, spec.bufferOffsets, spec.bufferLengths);
  if (compressed) {
    const vt = buffersVec + 4 + 16 * b;
    writeVtable(dv, f + vt, 8, [4, 5]); // codec, method (BUFFER = 0)
    dv.setInt32(f + vt + 8, 8, true);
    dv.setInt8(f + vt + 12, compressionCode(spec.compression));
    dv.setUint32(f + 60, vt + 8 - 60, true);
  }
  return pos + size;
}

function writeVtable(dv: DataView, at: number, tableSize: number, offsets: readonly number[]): void {
  dv.setUint16(at, 4 + 2 * offsets.length, true);
  dv.setUint16(at + 2, tableSize, true);
  for (let i = 0; i < offsets.length; i++) dv.setUint16(at + 4 + 2 * i, offsets[i]!, true);
}

function writeStructs(dv: DataView, at: number, a: ArrayLike<number>, b: ArrayLike<number>): void {
  dv.setUint32(at, a.length, true);
  for (let i = 0; i < a.length; i++) {
    writeI64(dv, at + 4 + 16 * i, a[i]!);
    writeI64(dv, at + 12 + 16 * i, b[i]!);
  }
}
