// Public entry of @fluss-ts/storage: the log tablet of one bucket (segments, indexes, recovery,
// retention, idempotent writers). Segment and index internals are not exported.

// KV tablets of primary-key tables: store (lmdb), pre-write buffer, merge engines, snapshots.
export {
  isKvOptionKey,
  resolveKvOptions,
  validateKvTable,
} from "./kv/kv-options.ts";
export { SNAPSHOTS_RETAINED_DEFAULT, type SnapshotTarget } from "./kv/kv-snapshots.ts";
export { KV_KEY_BYTES_MAX } from "./kv/kv-store.ts";
export {
  type KvScan,
  KvTablet,
  type KvTabletOptions,
  type KvTabletStats,
  PRE_WRITE_BUFFER_BYTES_DEFAULT,
} from "./kv/kv-tablet.ts";
export { createRowMerger, type RowMerger } from "./kv/merge/row-merger.ts";
export {
  LocalRemoteSnapshotStore,
  type RemoteSnapshotStore,
  RemoteStorageSnapshotStore,
} from "./kv/snapshot-store.ts";
export {
  AGG_FUNCTIONS,
  type AggFunctionName,
  type AggregationSpec,
  type ChangelogImage,
  type DeleteBehavior,
  type IdAllocator,
  KV_OPTION,
  type KvOptions,
  type MergeEngine,
  type MergeEngineKind,
  type PutOptions,
  type PutResult,
  type Row,
  type SnapshotFile,
  type SnapshotManifest,
  type SnapshotScope,
} from "./kv/types.ts";
export {
  type FlushMode,
  type FlushPolicy,
  type LogConfig,
  type LogConfigInput,
  resolveLogConfig,
} from "./log/config.ts";
export {
  type EpochEndOffset,
  EpochEntries,
  type EpochEntry,
  isWellFormed as isWellFormedEpochList,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
} from "./log/epoch-entries.ts";
export { FileCache, type FileCacheStats } from "./log/file-cache.ts";
export { isDiskFull } from "./log/file-io.ts";
export type {
  BatchAccess,
  BatchSelector,
  BatchVisitor,
  ReadAllocator,
  VisitedRead,
} from "./log/log-segment.ts";
export { LogTablet } from "./log/log-tablet.ts";
export {
  REMOTE_MANIFEST_LOCAL_FILE,
  type RemoteLogOptions,
  remoteLogPrefix,
  remoteLogTablePrefix,
} from "./log/remote-log.ts";
export type { RemoteLogManifest, RemoteLogSegment } from "./log/remote-log-manifest.ts";
export {
  REMOTE_READ_CHUNK_BYTES_DEFAULT,
  type RemoteReadStats,
  remoteReadStats,
} from "./log/remote-segment-reader.ts";
export type { TierOptions, TierResult } from "./log/remote-tiering.ts";
export type {
  AppendInfo,
  AppendOptions,
  LogEvent,
  LogListener,
  LogTabletOptions,
  LogTabletStats,
  ReadResult,
  TruncateInfo,
} from "./log/types.ts";
// Remote storage (KV snapshots, tiered log segments): a local directory or S3.
export { LocalFileStorage } from "./remote/local-file-storage.ts";
export {
  checkRemoteDataDir,
  isObjectStoreUri,
  openRemoteStorage,
  S3_SETTINGS_DEFAULT,
  type S3Settings,
} from "./remote/open-remote-storage.ts";
export {
  type ByteRange,
  keySegmentOf,
  type RemoteObject,
  type RemoteStorage,
} from "./remote/remote-storage.ts";
export { S3Storage, type S3StorageOptions } from "./remote/s3-storage.ts";
