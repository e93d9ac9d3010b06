// Public entry of @fluss-ts/common: data types, schemas, options, errors and the record formats
// shared by the client, the RPC layer, storage and the server.
export {
  arrowSchemaOfColumns,
  bufferCountOf,
  checkProjection,
  projectColumns,
  type TimeUnitName,
  timeUnitOf,
  toArrowField,
  toArrowSchema,
  toArrowType,
} from "./arrow/arrow-types.ts";
export { ArrowBatchBuilder, buildRecordBatch, type InputRow } from "./arrow/batch-builder.ts";
export {
  DEFAULT_ZSTD_LEVEL,
  ensureCodecsRegistered,
  type IpcCompression,
  NO_COMPRESSION,
} from "./arrow/compression.ts";
export {
  decodeRecordBatchMessage,
  emptyRecordBatch,
  encodeRecordBatchMessage,
  encodeRecordBatchParts,
  type MessageParts,
} from "./arrow/ipc.ts";
export {
  applyProjectionPlan,
  createProjectionPlan,
  type ProjectionPlan,
  projectRecordBatchMessage,
} from "./arrow/projection.ts";
export { type JsonValue, type OutputRow, type RowValue, readRows, rowToJson } from "./arrow/row-reader.ts";
export * from "./bytes.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./options.ts";
export * from "./partition/index.ts";
export * from "./predicate/index.ts";
export * from "./record/arrow-log-batch.ts";
export * from "./record/batch-statistics.ts";
export * from "./record/log-batch.ts";
export {
  compareScalars,
  describeScalar,
  type ScalarValue,
  scalarToLiteralText,
  type TimestampParts,
  toScalar,
} from "./record/scalar.ts";
export * from "./row/index.ts";
export * from "./scheduler.ts";
export * from "./schema.ts";
export * from "./types.ts";
export { formatDecimal } from "./values/numeric.ts";
