// Public entry of @fluss-ts/lake: lake tiering of fluss-ts tables to Apache Iceberg (Parquet data
// files, Avro manifests, file-system warehouse in the Hadoop-catalog layout) and union read (the
// lake snapshot followed by the log from the offsets it records). It talks to the cluster only
// through @fluss-ts/client, so an SDK user installs it (with its WebAssembly Parquet codec) only
// for lake reads.

export { BUCKET_COLUMN, OFFSET_COLUMN, SYSTEM_COLUMNS, TIMESTAMP_COLUMN } from "./iceberg/lake-schema.ts";
export {
  COMMIT_USER,
  type LakeSnapshotState,
  LakeTable,
  OFFSETS_PROPERTY,
} from "./iceberg/lake-table.ts";
export { decodeOffsets, encodeOffsets, type LakeOffsets, type TieredBucket } from "./iceberg/offsets-file.ts";
export { tableLocation } from "./iceberg/table-store.ts";
export { describeLake, type LakeDescription } from "./lake-state.ts";
export {
  type UnionBatch,
  type UnionRecord,
  UnionScanner,
  type UnionScanOptions,
} from "./read/union-scanner.ts";
export { type RoundResult, tierRound } from "./tiering/tiering-round.ts";
export {
  freshnessMsOf,
  isLakeEnabled,
  type TableTieringStatus,
  type TieringLogger,
  TieringService,
  type TieringServiceOptions,
} from "./tiering/tiering-service.ts";
