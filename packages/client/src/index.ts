// Public entry of @fluss-ts/client, the TypeScript SDK: connect, admin, writers, scanners, and the
// error catalogue (FlussError, Errors with Fluss's codes and names, isFlussError).

export {
  type ErrorKind,
  type ErrorName,
  Errors,
  FlussError,
  isFlussError,
} from "@fluss-ts/common";
export type { PartitionInfo } from "./admin.ts";
export { Admin, type TableDefinition, type TablePathLike } from "./admin.ts";
export type {
  ClusterBucketState,
  ClusterBucketStatus,
  ClusterHealth,
  ClusterHealthStatus,
  ClusterServerStatus,
  ClusterStatus,
  ClusterStatusOptions,
} from "./api/get-cluster-status.ts";
export { connect, FlussConnection } from "./connection.ts";
export { Lookuper, PrefixLookuper } from "./lookup/lookup-api.ts";
export type {
  Acks,
  ConnectOptions,
  PartitionsOption,
  ScanOptions,
  StartPosition,
  WriterOptions,
} from "./options.ts";
export { LogScanner, type ScanBatch, type ScanRecord } from "./scan/log-scanner.ts";
export {
  type BucketPosition,
  type OutOfRangePolicy,
  parseScanPositions,
  type ScanPositions,
} from "./scan/positions.ts";
export { SnapshotScanner } from "./scan/snapshot-scanner.ts";
export {
  type AnyRow,
  type BigintInput,
  bigint,
  binary,
  boolean,
  bytes,
  type ColumnType,
  char,
  type DefinedSchema,
  date,
  decimal,
  defineSchema,
  double,
  float,
  type InputOf,
  int,
  type RowOf,
  smallint,
  string,
  type TimestampInput,
  time,
  timestamp,
  timestampLtz,
  tinyint,
} from "./schema-types.ts";
export { type SnapshotScanOptions, Table } from "./table.ts";
export { AppendWriter } from "./write/append-writer.ts";
export { UpsertWriter } from "./write/upsert-writer.ts";
export type { AppendAck, UpsertAck, WriteReceipt } from "./write/write-receipt.ts";
