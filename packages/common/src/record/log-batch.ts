// The Fluss log record batch: a fixed little-endian header followed by the body (for the ARROW
// format: per-record change types when not append-only, then one Arrow IPC record-batch message).
//
// Magic v0 header (48 bytes):
//   0 BaseOffset i64 | 8 Length i32 (= batch size - 12) | 12 Magic i8 | 13 CommitTimestamp i64 |
//  21 CRC u32 | 25 SchemaId i16 | 27 Attributes i8 | 28 LastOffsetDelta i32 | 32 WriterId i64 |
//  40 BatchSequence i32 | 44 RecordCount i32 | 48 records...
// Magic v1 adds StatisticsLength i32 at 48 and the statistics bytes (batch-statistics.ts) before
// the records: 52 header bytes, then statistics, then change types and the Arrow message.
// Magic v2 adds LeaderEpoch i32 after CommitTimestamp (every later field moves by 4).
// The CRC is CRC-32C over SchemaId..end, so the server can stamp BaseOffset and CommitTimestamp
// (and the leader epoch) without recomputing it.

import { crc32c } from "@node-rs/crc32";
import { Errors, FlussError } from "../errors.ts";

export const LOG_OVERHEAD = 12;
export const NO_WRITER_ID = -1n;
export const NO_BATCH_SEQUENCE = -1;
export const NO_LEADER_EPOCH = -1;
export const MAGIC_V0 = 0;
export const MAGIC_V1 = 1;
export const MAGIC_V2 = 2;
/** The magic this implementation writes when a batch has no statistics (v1 when it has). */
export const CURRENT_MAGIC = MAGIC_V0;
export const ATTR_APPEND_ONLY = 0x01;
/** Upper bound on one batch; a header claiming more is corrupt. */
export const BATCH_SIZE_MAX = 64 * 1024 * 1024;

interface Layout {
  readonly leaderEpoch: number; // -1 when absent
  readonly crc: number;
  readonly schemaId: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly writerId: number;
  readonly batchSequence: number;
  readonly recordCount: number;
  readonly statisticsLength: number; // -1 when absent
  readonly headerSize: number;
}

const V0: Layout = {
  leaderEpoch: -1,
  crc: 21,
  schemaId: 25,
  attributes: 27,
  lastOffsetDelta: 28,
  writerId: 32,
  batchSequence: 40,
  recordCount: 44,
  statisticsLength: -1,
  headerSize: 48,
};
const V1: Layout = { ...V0, statisticsLength: 48, headerSize: 52 };
const V2: Layout = {
  leaderEpoch: 21,
  crc: 25,
  schemaId: 29,
  attributes: 31,
  lastOffsetDelta: 32,
  writerId: 36,
  batchSequence: 44,
  recordCount: 48,
  statisticsLength: 52,
  headerSize: 56,
};

export function layoutOf(magic: number): Layout {
  if (magic === MAGIC_V0) return V0;
  if (magic === MAGIC_V1) return V1;
  if (magic === MAGIC_V2) return V2;
  throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `unsupported record batch magic ${magic}`);
}

export const HEADER_SIZE_V0 = V0.headerSize;
export const HEADER_SIZE_V1 = V1.headerSize;

export interface BatchHeader {
  baseOffset: bigint;
  /** Total bytes of the batch, header included. */
  sizeBytes: number;
  magic: number;
  commitTimestamp: bigint;
  leaderEpoch: number;
  crc: number;
  schemaId: number;
  attributes: number;
  lastOffsetDelta: number;
  writerId: bigint;
  batchSequence: number;
  recordCount: number;
  /** Byte offset (within the batch) where the statistics start; -1 when none. */
  statisticsOffset: number;
  statisticsLength: number;
  /** Byte offset (within the batch) where the records start. */
  recordsOffset: number;
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Batch size from the first 12 bytes, or -1 if fewer are present. Does not validate. */
export function peekBatchSize(buf: Uint8Array, pos = 0): number {
  if (buf.byteLength - pos < LOG_OVERHEAD) return -1;
  return view(buf).getInt32(pos + 8, true) + LOG_OVERHEAD;
}

/** Parse the header of the batch at `buf[pos..]`. Checks structure, not the CRC. */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  const dv = view(buf);
  if (buf.byteLength - pos < LOG_OVERHEAD + 1) {
    throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "record batch truncated before its header");
  }
  const length = dv.getInt32(pos + 8, true);
  const magic = dv.getInt8(pos + 12);
  const L = layoutOf(magic);
  const sizeBytes = length + LOG_OVERHEAD;
  if (length < L.headerSize - LOG_OVERHEAD || sizeBytes > BATCH_SIZE_MAX) {
    throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `record batch length ${length} out of range`);
  }
  if (buf.byteLength - pos < L.headerSize) {
    throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "record batch truncated inside its header");
  }
  const statisticsLength = L.statisticsLength < 0 ? 0 : dv.getInt32(pos + L.statisticsLength, true);
  if (statisticsLength < 0 || L.headerSize + statisticsLength > sizeBytes) {
    throw new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `statistics length ${statisticsLength} out of range`,
    );
  }
  const recordCount = dv.getInt32(pos + L.recordCount, true);
  const lastOffsetDelta = dv.getInt32(pos + L.lastOffsetDelta, true);
  if (recordCount < 0 || lastOffsetDelta < 0) {
    throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "negative record count or offset delta");
  }
  return {
    baseOffset: dv.getBigInt64(pos, true),
    sizeBytes,
    magic,
    commitTimestamp: dv.getBigInt64(pos + 13, true),
    leaderEpoch: L.leaderEpoch < 0 ? NO_LEADER_EPOCH : dv.getInt32(pos + L.leaderEpoch, true),
    crc: dv.getUint32(pos + L.crc, true),
    schemaId: dv.getInt16(pos + L.schemaId, true),
    attributes: dv.getInt8(pos + L.attributes),
    lastOffsetDelta,
    writerId: dv.getBigInt64(pos + L.writerId, true),
    batchSequence: dv.getInt32(pos + L.batchSequence, true),
    recordCount,
    statisticsOffset: statisticsLength > 0 ? L.headerSize : -1,
    statisticsLength,
    recordsOffset: L.headerSize + statisticsLength,
  };
}

/** CRC-32C of the bytes the CRC field covers (SchemaId to the end of the batch). */
export function computeBatchCrc(batch: Uint8Array, magic: number): number {
  const L = layoutOf(magic);
  return crc32c(batch.subarray(L.schemaId)) >>> 0;
}

/** True when the whole batch is present and its CRC matches. */
export function isBatchValid(batch: Uint8Array): boolean {
  try {
    const h = readBatchHeader(batch);
    if (batch.byteLength < h.sizeBytes) return false;
    return computeBatchCrc(batch.subarray(0, h.sizeBytes), h.magic) === h.crc;
  } catch {
    return false;
  }
}

export interface NewBatch {
  schemaId: number;
  appendOnly: boolean;
  writerId: bigint;
  batchSequence: number;
  recordCount: number;
  /** lastOffset - baseOffset; for ordinary batches recordCount - 1 (0 for an empty batch). */
  lastOffsetDelta: number;
  /** The body: change-type bytes (if not append-only) then the Arrow IPC message. */
  body: readonly Uint8Array[];
  baseOffset?: bigint;
  commitTimestamp?: bigint;
  /**
   * A statistics block (encodeBatchStatistics): when given the batch is magic v1 with it between
   * the header and the body (an empty block = v1 with StatisticsLength 0, as Fluss writes a
   * batch without records when statistics are enabled). Absent = magic v0.
   */
  statistics?: Uint8Array;
}

/** Assemble a v0 batch (v1 with `statistics`): header, statistics, body parts, CRC computed. */
export function buildBatch(b: NewBatch): Uint8Array {
  const L = b.statistics === undefined ? V0 : V1;
  const statsLength = b.statistics?.byteLength ?? 0;
  let bodyLength = 0;
  for (const p of b.body) bodyLength += p.byteLength;
  const size = L.headerSize + statsLength + bodyLength;
  if (size > BATCH_SIZE_MAX) {
    throw new FlussError(
      Errors.RECORD_TOO_LARGE_EXCEPTION,
      `record batch of ${size} bytes exceeds ${BATCH_SIZE_MAX}`,
    );
  }
  const out = new Uint8Array(size);
  const dv = view(out);
  dv.setBigInt64(0, b.baseOffset ?? 0n, true);
  const magic = L === V0 ? MAGIC_V0 : MAGIC_V1;
  dv.setInt32(8, size - LOG_OVERHEAD, true);
  dv.setInt8(12, magic);
  dv.setBigInt64(13, b.commitTimestamp ?? 0n, true);
  dv.setInt16(L.schemaId, b.schemaId, true);
  dv.setInt8(L.attributes, b.appendOnly ? ATTR_APPEND_ONLY : 0);
  dv.setInt32(L.lastOffsetDelta, b.lastOffsetDelta, true);
  dv.setBigInt64(L.writerId, b.writerId, true);
  dv.setInt32(L.batchSequence, b.batchSequence, true);
  dv.setInt32(L.recordCount, b.recordCount, true);
  let pos = L.headerSize;
  if (b.statistics !== undefined) {
    dv.setInt32(L.statisticsLength, statsLength, true);
    out.set(b.statistics, pos);
    pos += statsLength;
  }
  for (const p of b.body) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  dv.setUint32(L.crc, computeBatchCrc(out, magic), true);
  return out;
}

/** Server side: stamp base offset and commit timestamp in place (CRC unaffected). */
export function stampBatch(
  batch: Uint8Array,
  baseOffset: bigint,
  commitTimestamp: bigint,
  leaderEpoch?: number,
): void {
  const dv = view(batch);
  dv.setBigInt64(0, baseOffset, true);
  dv.setBigInt64(13, commitTimestamp, true);
  const L = layoutOf(dv.getInt8(12));
  if (L.leaderEpoch >= 0 && leaderEpoch !== undefined) dv.setInt32(L.leaderEpoch, leaderEpoch, true);
}

export function isAppendOnly(h: BatchHeader): boolean {
  return (h.attributes & ATTR_APPEND_ONLY) !== 0;
}

export function lastOffsetOf(h: BatchHeader): bigint {
  return h.baseOffset + BigInt(h.lastOffsetDelta);
}

export function nextOffsetOf(h: BatchHeader): bigint {
  return h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
}

export interface BatchSlice {
  header: BatchHeader;
  /** The whole batch (a view, not a copy). */
  bytes: Uint8Array;
}

/**
 * Split concatenated batches (a produce request body, a fetch response, a segment read).
 * `verifyCrc` refuses a batch whose CRC does not match. A trailing partial batch is an error when
 * `allowPartialTail` is false (produce) and silently dropped when true (fetch responses may end
 * mid-batch).
 */
export function splitBatches(
  buf: Uint8Array,
  opts: { verifyCrc: boolean; allowPartialTail: boolean },
): BatchSlice[] {
  const out: BatchSlice[] = [];
  let pos = 0;
  while (pos < buf.byteLength) {
    const size = peekBatchSize(buf, pos);
    if (size < 0 || pos + size > buf.byteLength) {
      if (opts.allowPartialTail) break;
      throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `record batch at byte ${pos} is truncated`);
    }
    const header = readBatchHeader(buf, pos);
    const bytes = buf.subarray(pos, pos + header.sizeBytes);
    if (opts.verifyCrc && computeBatchCrc(bytes, header.magic) !== header.crc) {
      throw new FlussError(
        Errors.CORRUPT_RECORD_EXCEPTION,
        `record batch at byte ${pos} fails its CRC check`,
      );
    }
    out.push({ header, bytes });
    pos += header.sizeBytes;
  }
  return out;
}

// Change types of records in a non-append-only batch (one byte each, in record order).
export const ChangeType = {
  APPEND_ONLY: 0,
  INSERT: 1,
  UPDATE_BEFORE: 2,
  UPDATE_AFTER: 3,
  DELETE: 4,
} as const;
export type ChangeTypeValue = (typeof ChangeType)[keyof typeof ChangeType];

const shortNames = ["+A", "+I", "-U", "+U", "-D"] as const;
export type ChangeTypeName = (typeof shortNames)[number];

export function changeTypeName(v: number): ChangeTypeName {
  const n = shortNames[v];
  if (n === undefined) throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `unknown change type ${v}`);
  return n;
}
