// ARROW-format log batches: a batch header (log-batch.ts; v0, or v1 with statistics) whose body
// is the per-record change-type bytes (only when the batch is not append-only) followed by one
// Arrow IPC record-batch message. A batch with no records has no body at all (header only), as in Fluss.
// With `statistics` (Fluss's `table.statistics.columns`) the batch is magic v1 and carries the
// column statistics (batch-statistics.ts) between the header and the body; without records the
// block is empty (StatisticsLength 0), as Fluss writes it.
// Building, decoding and the server-side projection of whole fetch responses live here.
// Projection keeps every header field (base offset, timestamps, writer id, sequence, record count,
// last offset delta, attributes) and only rewrites Length, and for v1+ drops the statistics
// (StatisticsLength 0, block removed: Fluss's FileLogProjection does the same, the statistics
// describe columns the projection may remove); the CRC is NOT recomputed, exactly as
// Fluss does, so a projected batch fails a CRC check by design: readers of projected data must
// not verify it (decodeArrowLogBatch verifies only when asked).
// Invariants: recordCount equals the Arrow row count and the change-type count; a decoded batch's
// columns are the `columns` the caller says the batch holds (all, or the projected ones).

import type { RecordBatch } from "apache-arrow";
import { arrowSchemaOfColumns } from "../arrow/arrow-types.ts";
import { buildRecordBatch, type InputRow } from "../arrow/batch-builder.ts";
import type { IpcCompression } from "../arrow/compression.ts";
import { decodeRecordBatchMessage, emptyRecordBatch, encodeRecordBatchParts } from "../arrow/ipc.ts";
import { type ProjectionPlan, projectMessageFromMetadata, projectMessageParts } from "../arrow/projection.ts";
import { Errors, FlussError, invalidArgument } from "../errors.ts";
import type { Column, Schema } from "../schema.ts";
import {
  computeBatchStatistics,
  encodeBatchStatistics,
  resolveStatisticsColumns,
} from "./batch-statistics.ts";
import {
  type BatchHeader,
  buildBatch,
  computeBatchCrc,
  isAppendOnly,
  LOG_OVERHEAD,
  layoutOf,
  NO_BATCH_SEQUENCE,
  NO_WRITER_ID,
  peekBatchSize,
  readBatchHeader,
} from "./log-batch.ts";

export interface ArrowLogBatchInput {
  schema: Schema;
  schemaId: number;
  /** The records, either as row objects or as an already built Arrow batch of `schema`. */
  rows?: readonly InputRow[];
  recordBatch?: RecordBatch;
  /** One ChangeType byte per record; when given the batch is not append-only. */
  changeTypes?: Uint8Array;
  compression: IpcCompression;
  writerId?: bigint;
  batchSequence?: number;
  baseOffset?: bigint;
  commitTimestamp?: bigint;
  /**
   * Column statistics, as Fluss's `table.statistics.columns`: true or "*" every supported column,
   * "a,b" or ["a", "b"] those columns; absent / false = none (a magic v0 batch).
   */
  statistics?: boolean | string | readonly string[];
}

function recordBatchOf(input: ArrowLogBatchInput): RecordBatch {
  if ((input.rows === undefined) === (input.recordBatch === undefined)) {
    throw invalidArgument("give exactly one of 'rows' and 'recordBatch'");
  }
  if (input.rows !== undefined) return buildRecordBatch(input.schema, input.rows);
  const batch = input.recordBatch!;
  const names = batch.schema.fields.map((f) => f.name).join(",");
  if (names !== input.schema.columns.map((c) => c.name).join(",")) {
    throw new FlussError(Errors.SCHEMA_MISMATCH, `record batch columns (${names}) do not match the schema`);
  }
  return batch;
}

function checkChangeTypes(changeTypes: Uint8Array, recordCount: number): void {
  if (changeTypes.byteLength !== recordCount) {
    throw invalidArgument(`${changeTypes.byteLength} change types for ${recordCount} records`);
  }
  for (let i = 0; i < changeTypes.byteLength; i++) {
    if (changeTypes[i]! > 4) throw invalidArgument(`unknown change type ${changeTypes[i]} at record ${i}`);
  }
}

/** A complete ARROW log batch (header with CRC, statistics if asked, change types if any, IPC message). */
export function buildArrowLogBatch(input: ArrowLogBatchInput): Uint8Array {
  const batch = recordBatchOf(input);
  const recordCount = batch.numRows;
  const statsColumns = resolveStatisticsColumns(input.schema, input.statistics);
  let statistics: Uint8Array | undefined;
  if (statsColumns !== null) {
    statistics =
      recordCount > 0 && statsColumns.length > 0
        ? encodeBatchStatistics(input.schema, computeBatchStatistics(batch, input.schema, statsColumns))
        : new Uint8Array(0);
  }
  const body: Uint8Array[] = [];
  if (input.changeTypes !== undefined) {
    checkChangeTypes(input.changeTypes, recordCount);
    body.push(input.changeTypes);
  }
  if (recordCount > 0) body.push(...encodeRecordBatchParts(batch, input.compression).parts);
  return buildBatch({
    schemaId: input.schemaId,
    appendOnly: input.changeTypes === undefined,
    writerId: input.writerId ?? NO_WRITER_ID,
    batchSequence: input.batchSequence ?? NO_BATCH_SEQUENCE,
    recordCount,
    lastOffsetDelta: recordCount > 0 ? recordCount - 1 : 0,
    body,
    ...(input.baseOffset !== undefined ? { baseOffset: input.baseOffset } : {}),
    ...(input.commitTimestamp !== undefined ? { commitTimestamp: input.commitTimestamp } : {}),
    ...(statistics !== undefined ? { statistics } : {}),
  });
}

export interface DecodedArrowLogBatch {
  header: BatchHeader;
  /** One ChangeType byte per record (a view into the batch), null for append-only batches. */
  changeTypes: Uint8Array | null;
  recordBatch: RecordBatch;
}

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, why);
}

/**
 * Decode one ARROW log batch. `columns` are the columns the batch holds, in order (the table
 * schema's, or the projected ones for a projected fetch). The CRC is checked only with
 * `verifyCrc: true`; never ask for it on projected data, whose CRC is stale by design.
 */
export function decodeArrowLogBatch(
  batchBytes: Uint8Array,
  columns: readonly Column[],
  opts: { verifyCrc?: boolean } = {},
): DecodedArrowLogBatch {
  const header = readBatchHeader(batchBytes);
  if (batchBytes.byteLength < header.sizeBytes) throw corrupt("record batch is truncated");
  const bytes = batchBytes.subarray(0, header.sizeBytes);
  if (opts.verifyCrc === true && computeBatchCrc(bytes, header.magic) !== header.crc) {
    throw corrupt("record batch fails its CRC check");
  }
  const arrowSchema = arrowSchemaOfColumns(columns);
  const appendOnly = isAppendOnly(header);
  const count = header.recordCount;
  const ctEnd = header.recordsOffset + (appendOnly ? 0 : count);
  if (ctEnd > bytes.byteLength) throw corrupt("change types exceed the record batch");
  const changeTypes = appendOnly ? null : bytes.subarray(header.recordsOffset, ctEnd);
  if (count === 0 || ctEnd === bytes.byteLength) {
    if (count !== 0) throw corrupt(`record batch claims ${count} records but has no Arrow data`);
    return { header, changeTypes, recordBatch: emptyRecordBatch(arrowSchema) };
  }
  const recordBatch = decodeRecordBatchMessage(bytes.subarray(ctEnd), arrowSchema);
  if (recordBatch.numRows !== count) {
    throw corrupt(`record batch claims ${count} records, its Arrow data holds ${recordBatch.numRows}`);
  }
  return { header, changeTypes, recordBatch };
}

/** The projected form of one batch as parts (header copy with new Length first). */
function projectOneBatch(batch: Uint8Array, header: BatchHeader, plan: ProjectionPlan): Uint8Array[] {
  const L = layoutOf(header.magic);
  const ctLength = isAppendOnly(header) ? 0 : header.recordCount;
  const msgStart = header.recordsOffset + ctLength;
  if (msgStart > batch.byteLength) throw corrupt("change types exceed the record batch");
  const message = projectMessageParts(batch.subarray(msgStart), plan);
  const head = new Uint8Array(L.headerSize);
  head.set(batch.subarray(0, L.headerSize));
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  dv.setInt32(8, L.headerSize + ctLength + message.byteLength - LOG_OVERHEAD, true);
  if (L.statisticsLength >= 0) dv.setInt32(L.statisticsLength, 0, true); // statistics are dropped
  const parts: Uint8Array[] = [head];
  if (ctLength > 0) parts.push(batch.subarray(header.recordsOffset, msgStart));
  parts.push(...message.parts);
  return parts;
}

/** A projection plan, or one per schema id (a log may hold batches of several schema versions). */
export type ProjectionPlanSource = ProjectionPlan | ((schemaId: number) => ProjectionPlan);

/**
 * The projected form of one batch when only some of its bytes are at hand: `prefix` holds its
 * first bytes (header, statistics, change types, Arrow metadata) and `read(position, length)`
 * fetches any other range of the batch. Only the selected columns' buffers are read. Null when
 * the prefix does not reach the end of the Arrow metadata (or the batch has no records): read
 * the whole batch instead.
 */
export function projectBatchFrom(
  header: BatchHeader,
  prefix: Uint8Array,
  read: (position: number, length: number) => Uint8Array,
  plan: ProjectionPlan,
): Uint8Array[] | null {
  if (header.recordCount === 0) return null;
  const L = layoutOf(header.magic);
  const ctLength = isAppendOnly(header) ? 0 : header.recordCount;
  const msgStart = header.recordsOffset + ctLength;
  if (prefix.byteLength <= msgStart + 8) return null;
  const message = projectMessageFromMetadata(prefix.subarray(msgStart), plan, (position, length) =>
    read(msgStart + position, length),
  );
  if (message === null) return null;
  const head = new Uint8Array(L.headerSize);
  head.set(prefix.subarray(0, L.headerSize));
  const dv = new DataView(head.buffer);
  dv.setInt32(8, L.headerSize + ctLength + message.byteLength - LOG_OVERHEAD, true);
  if (L.statisticsLength >= 0) dv.setInt32(L.statisticsLength, 0, true); // statistics are dropped
  const parts: Uint8Array[] = [head];
  if (ctLength > 0) parts.push(prefix.subarray(header.recordsOffset, msgStart));
  parts.push(...message.parts);
  return parts;
}

/**
 * Rewrite every whole batch of `buf` (concatenated ARROW batches, e.g. a fetch response) to its
 * projected form. Header-only batches (no records) pass through unchanged; a trailing partial
 * batch is dropped. The CRCs are not recomputed (see the file comment).
 */
export function projectLogBatches(buf: Uint8Array, plans: ProjectionPlanSource): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  while (pos < buf.byteLength) {
    const size = peekBatchSize(buf, pos);
    if (size < 0 || pos + size > buf.byteLength) break;
    const header = readBatchHeader(buf, pos);
    const batch = buf.subarray(pos, pos + header.sizeBytes);
    const projected =
      header.recordCount === 0 && header.sizeBytes === header.recordsOffset
        ? [batch]
        : projectOneBatch(batch, header, typeof plans === "function" ? plans(header.schemaId) : plans);
    for (const p of projected) {
      parts.push(p);
      total += p.byteLength;
    }
    pos += header.sizeBytes;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
