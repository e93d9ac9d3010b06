// Fluss's KV record batch (DefaultKvRecordBatch, magic 0): the body of a PutKv request per bucket.
//
// Header, 28 bytes, little-endian:
//    0 Length i32 (= batch size - 4) |  4 Magic i8 (0) | 5 CRC u32 | 9 SchemaId i16 |
//   11 Attributes i8 (0, unused)     | 12 WriterId i64 (-1 = none) | 20 BatchSequence i32 (-1 = none) |
//   24 RecordCount i32 | 28 records...
// The CRC is CRC-32C (Castagnoli) of bytes [9, end): SchemaId through the last record.
// Record (DefaultKvRecord): Length i32 (bytes after this field) | KeyLength unsigned varint |
//   Key bytes | Row bytes (the rest; absent — zero bytes — means delete the key).
// The row is a COMPACTED (or INDEXED) row as the table's kv format says; this file never looks
// inside keys or rows.
// Invariants: a built batch always verifies; the reader validates the whole batch eagerly (sizes,
// magic, CRC unless disabled, record framing, no trailing bytes) before returning any record, and
// raises CORRUPT_RECORD_EXCEPTION for anything that does not parse. Returned keys and rows are
// views into the input bytes (no copies).

import { crc32c } from "@node-rs/crc32";
import { Errors, FlussError } from "../errors.ts";

export const KV_MAGIC_V0 = 0;
export const KV_CURRENT_MAGIC = KV_MAGIC_V0;
export const KV_BATCH_HEADER_SIZE = 28;
export const KV_LENGTH_OVERHEAD = 4;
export const KV_NO_WRITER_ID = -1n;
export const KV_NO_BATCH_SEQUENCE = -1;
const OFF_MAGIC = 4;
const OFF_CRC = 5;
const OFF_SCHEMA_ID = 9;
const OFF_ATTRIBUTES = 11;
const OFF_WRITER_ID = 12;
const OFF_BATCH_SEQUENCE = 20;
const OFF_RECORD_COUNT = 24;
const INT32_MAX = 2147483647;

export interface KvRecordInput {
  readonly key: Uint8Array;
  /** Encoded row, or null to delete the key. */
  readonly row: Uint8Array | null;
}

export interface KvWriterState {
  /** -1n when the writer is not idempotent. */
  readonly writerId?: bigint;
  /** -1 when the writer is not idempotent. */
  readonly batchSequence?: number;
}

export interface KvBatchInput extends KvWriterState {
  readonly schemaId: number;
  readonly records: readonly KvRecordInput[];
}

export interface KvRecordView {
  readonly key: Uint8Array;
  /** The row bytes, or null for a delete. */
  readonly row: Uint8Array | null;
}

export interface KvRecordBatchView {
  /** Size of the whole batch in bytes (Length + 4). */
  readonly sizeInBytes: number;
  readonly magic: number;
  readonly crc: number;
  readonly schemaId: number;
  readonly attributes: number;
  readonly writerId: bigint;
  readonly batchSequence: number;
  readonly recordCount: number;
  readonly records: readonly KvRecordView[];
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes one record takes in a batch, including its length field. */
export function kvRecordSize(key: Uint8Array, row: Uint8Array | null): number {
  return (
    KV_LENGTH_OVERHEAD + varintSize(key.byteLength) + key.byteLength + (row === null ? 0 : row.byteLength)
  );
}

function invalid(message: string): FlussError {
  return new FlussError(Errors.INVALID_ARGUMENT, message);
}

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 32767) {
    throw invalid(`schema id must be in [0, 32767], got ${schemaId}`);
  }
}

/**
 * Accumulates records and builds DefaultKvRecordBatch bytes. `writeLimit` bounds the batch size
 * (hasRoomFor); build() can be called again with another writer state (e.g. on a retry).
 */
export class KvRecordBatchBuilder {
  readonly schemaId: number;
  readonly writeLimit: number;
  #buf: Buffer;
  #pos = KV_BATCH_HEADER_SIZE;
  #count = 0;

  constructor(schemaId: number, writeLimit = INT32_MAX, initialCapacity = 1024) {
    checkSchemaId(schemaId);
    this.schemaId = schemaId;
    this.writeLimit = writeLimit;
    this.#buf = Buffer.alloc(Math.max(initialCapacity, KV_BATCH_HEADER_SIZE));
  }

  get recordCount(): number {
    return this.#count;
  }

  get sizeInBytes(): number {
    return this.#pos;
  }

  /** True when the record fits under the write limit (always true for the first record). */
  hasRoomFor(key: Uint8Array, row: Uint8Array | null): boolean {
    return this.#count === 0 || this.#pos + kvRecordSize(key, row) <= this.writeLimit;
  }

  append(key: Uint8Array, row: Uint8Array | null): void {
    const size = kvRecordSize(key, row);
    if (this.#pos + size > INT32_MAX)
      throw new FlussError(Errors.RECORD_TOO_LARGE_EXCEPTION, "kv batch over 2 GiB");
    if (this.#pos + size > this.#buf.length) {
      const next = Buffer.alloc(Math.max(this.#buf.length * 2, this.#pos + size));
      this.#buf.copy(next, 0, 0, this.#pos);
      this.#buf = next;
    }
    const buf = this.#buf;
    let pos = this.#pos;
    buf.writeInt32LE(size - KV_LENGTH_OVERHEAD, pos);
    pos += 4;
    let n = key.byteLength;
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    buf.set(key, pos);
    pos += key.byteLength;
    if (row !== null) {
      buf.set(row, pos);
      pos += row.byteLength;
    }
    this.#pos = pos;
    this.#count++;
  }

  /** The batch bytes (a fresh copy) with the given writer state. */
  build(state: KvWriterState = {}): Uint8Array {
    const writerId = state.writerId ?? KV_NO_WRITER_ID;
    const batchSequence = state.batchSequence ?? KV_NO_BATCH_SEQUENCE;
    if (writerId < -(2n ** 63n) || writerId >= 2n ** 63n)
      throw invalid(`writer id ${writerId} out of int64 range`);
    if (!Number.isInteger(batchSequence) || batchSequence < -2147483648 || batchSequence > INT32_MAX) {
      throw invalid(`batch sequence ${batchSequence} out of int32 range`);
    }
    const out = Buffer.alloc(this.#pos);
    this.#buf.copy(out, KV_BATCH_HEADER_SIZE, KV_BATCH_HEADER_SIZE, this.#pos);
    out.writeInt32LE(this.#pos - KV_LENGTH_OVERHEAD, 0);
    out.writeInt8(KV_CURRENT_MAGIC, OFF_MAGIC);
    out.writeInt16LE(this.schemaId, OFF_SCHEMA_ID);
    out.writeInt8(0, OFF_ATTRIBUTES);
    out.writeBigInt64LE(writerId, OFF_WRITER_ID);
    out.writeInt32LE(batchSequence, OFF_BATCH_SEQUENCE);
    out.writeInt32LE(this.#count, OFF_RECORD_COUNT);
    out.writeUInt32LE(crc32c(out.subarray(OFF_SCHEMA_ID)) >>> 0, OFF_CRC);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}

/** Build one KV batch from its records. */
export function buildKvRecordBatch(input: KvBatchInput): Uint8Array {
  let size = KV_BATCH_HEADER_SIZE;
  for (const r of input.records) size += kvRecordSize(r.key, r.row);
  const builder = new KvRecordBatchBuilder(input.schemaId, INT32_MAX, size);
  for (const r of input.records) builder.append(r.key, r.row);
  return builder.build(input);
}

function corrupt(what: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `kv record batch: ${what}`);
}

/** CRC-32C the header should carry for a batch (over SchemaId..end). */
export function computeKvBatchCrc(batch: Uint8Array): number {
  return crc32c(batch.subarray(OFF_SCHEMA_ID)) >>> 0;
}

/**
 * Parse and validate one KV batch at the start of `bytes` (bytes after the batch are ignored; see
 * sizeInBytes). Throws CORRUPT_RECORD_EXCEPTION for truncated or malformed input and, unless
 * `verifyCrc` is false, for a CRC mismatch.
 */
export function readKvRecordBatch(
  bytes: Uint8Array,
  options: { verifyCrc?: boolean } = {},
): KvRecordBatchView {
  if (bytes.byteLength < KV_BATCH_HEADER_SIZE) {
    throw corrupt(`${bytes.byteLength} bytes is shorter than the ${KV_BATCH_HEADER_SIZE}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getInt32(0, true);
  const sizeInBytes = length + KV_LENGTH_OVERHEAD;
  if (length < KV_BATCH_HEADER_SIZE - KV_LENGTH_OVERHEAD) {
    throw corrupt(`size ${sizeInBytes} is smaller than the header (${KV_BATCH_HEADER_SIZE})`);
  }
  if (sizeInBytes > bytes.byteLength)
    throw corrupt(`truncated: header says ${sizeInBytes} bytes, got ${bytes.byteLength}`);
  const magic = view.getInt8(OFF_MAGIC);
  if (magic !== KV_MAGIC_V0) throw corrupt(`unsupported magic ${magic}`);
  const batch = bytes.subarray(0, sizeInBytes);
  const crc = view.getUint32(OFF_CRC, true);
  if (options.verifyCrc !== false) {
    const computed = computeKvBatchCrc(batch);
    if (computed !== crc) throw corrupt(`CRC mismatch (stored ${crc}, computed ${computed})`);
  }
  const recordCount = view.getInt32(OFF_RECORD_COUNT, true);
  if (recordCount < 0) throw corrupt(`negative record count ${recordCount}`);
  const records: KvRecordView[] = [];
  let pos = KV_BATCH_HEADER_SIZE;
  for (let r = 0; r < recordCount; r++) {
    if (pos + KV_LENGTH_OVERHEAD > sizeInBytes) throw corrupt(`record ${r} of ${recordCount} is truncated`);
    const recordLength = view.getInt32(pos, true);
    const end = pos + KV_LENGTH_OVERHEAD + recordLength;
    if (recordLength < 1 || end > sizeInBytes) throw corrupt(`record ${r} has bad length ${recordLength}`);
    let p = pos + KV_LENGTH_OVERHEAD;
    let keyLength = 0;
    for (let shift = 0; ; shift += 7) {
      if (p >= end || shift > 28) throw corrupt(`record ${r} has a bad key length`);
      const b = bytes[p++]!;
      keyLength |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    if (keyLength < 0 || p + keyLength > end)
      throw corrupt(`record ${r} key length ${keyLength} overruns the record`);
    const key = bytes.subarray(p, p + keyLength);
    p += keyLength;
    records.push({ key, row: p === end ? null : bytes.subarray(p, end) });
    pos = end;
  }
  if (pos !== sizeInBytes)
    throw corrupt(`${sizeInBytes - pos} bytes after the last of ${recordCount} records`);
  return {
    sizeInBytes,
    magic,
    crc,
    schemaId: view.getInt16(OFF_SCHEMA_ID, true),
    attributes: view.getInt8(OFF_ATTRIBUTES),
    writerId: view.getBigInt64(OFF_WRITER_ID, true),
    batchSequence: view.getInt32(OFF_BATCH_SEQUENCE, true),
    recordCount,
    records,
  };
}
