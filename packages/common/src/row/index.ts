// Public entry of the row formats: COMPACTED and INDEXED rows, compacted keys, Fluss's bucket hash, the KV
// record batch of PutKv and the stored KV value. Value converters (../values/) are shared with the
// Arrow batch builder, imported directly by the modules that use them and not re-exported here.

export { bucketForKey, fmix32, MURMUR_SEED, murmurHashBytes, murmurMix } from "./bucketing.ts";
export { CompactedArrowBuilder } from "./compacted-arrow.ts";
export {
  CompactedRowReader,
  CompactedRowWriter,
  DECIMAL_COMPACT_PRECISION_MAX,
  type DecodeOptions,
  decodeCompactedRow,
  encodeCompactedRow,
  nullBitsetSize,
} from "./compacted-row.ts";
export { RowCursor, scanCompactedRow } from "./compacted-scan.ts";
export { decodeIndexedRow, encodeIndexedRow, indexedFieldWidth } from "./indexed-row.ts";
export { CompactedKeyEncoder, decodeKey, encodeKey } from "./key-encoder.ts";
export {
  buildKvRecordBatch,
  computeKvBatchCrc,
  KV_BATCH_HEADER_SIZE,
  KV_CURRENT_MAGIC,
  KV_MAGIC_V0,
  KV_NO_BATCH_SEQUENCE,
  KV_NO_WRITER_ID,
  type KvBatchInput,
  KvRecordBatchBuilder,
  type KvRecordBatchView,
  type KvRecordInput,
  type KvRecordView,
  type KvWriterState,
  kvRecordSize,
  readKvRecordBatch,
} from "./kv-record-batch.ts";
export { decodeKvValue, encodeKvValue, KV_VALUE_SCHEMA_ID_SIZE } from "./kv-value.ts";
export type { RowInput } from "./row-input.ts";
export { valuesOf } from "./row-input.ts";
export { buildValueRecordBatch, readValueRecordBatch } from "./value-record-batch.ts";
