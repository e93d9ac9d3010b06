// Limits and defaults of the log tablet in one place, units last in every name. Every loop over
// segments, index entries or batches in packages/storage/src/log is bounded by one of these.

/** Fluss log.segment.file-size: roll to a new segment once the active one would exceed this. */
export const segmentBytesMaxDefault = 1024 * 1024 * 1024;
/** Segment file positions are stored as u32 in the offset index; we keep them in the i32 range. */
export const segmentBytesMaxLimit = 2 ** 31 - 1;
/** Fluss log.index.interval-size: one offset index entry per this many log bytes. */
export const indexIntervalBytesDefault = 4096;
/** Fluss log.index.file-size: an index file never grows beyond this; a full index rolls the segment. */
export const indexBytesMaxDefault = 10 * 1024 * 1024;
/** Fluss server.writer-id.expiration-time. */
export const writerExpirationMsDefault = 7 * 24 * 60 * 60 * 1000;
/** How often the recovery point is persisted at most (besides rolls and close). */
export const recoveryCheckpointIntervalMsDefault = 60_000;
/** Flush period for flush mode "interval". */
export const flushIntervalMsDefault = 1000;

/** Offsets within a segment are stored as u32 relative offsets; we keep them in the i32 range. */
export const relativeOffsetMax = 2 ** 31 - 1;
/** Offset index entry: relative offset u32 LE, file position u32 LE. */
export const offsetIndexEntryBytes = 8;
/** Time index entry: timestamp i64 LE, relative offset u32 LE. */
export const timeIndexEntryBytes = 12;

/** Window used to walk batch headers in a segment file; bodies larger than this are skipped over. */
export const scanWindowBytes = 64 * 1024;
/** First read of a header walk: a walk from an index entry usually ends within this. */
export const scanFirstFillBytes = 8 * 1024;
/** Enough bytes to parse any batch header magic (v2 is 56 bytes). */
export const batchHeaderBytesMax = 64;
/** Smallest batch we can meet in a segment (a v0 header with no records): bounds header walks. */
export const batchBytesMin = 48;
/** Chunk used to read index files sequentially when validating them. */
export const indexReadChunkBytes = 64 * 1024;

/** Fluss keeps the metadata of this many recent batches per writer to answer duplicates. */
export const writerBatchesRetained = 5;
/** Segments of one tablet; a bound for every loop over them. */
export const segmentsMax = 1_000_000;
/** Appends waiting for a group commit at once; more is a bug upstream (no backpressure applied). */
export const flushWaitersMax = 1_000_000;
/** Subscribers to append / high-watermark events. */
export const listenersMax = 100_000;
/** Largest writer snapshot file we read back (a larger one is treated as corrupt). */
export const writerSnapshotBytesMax = 256 * 1024 * 1024;
/** Writer snapshot files kept in a tablet directory when listing them. */
export const writerSnapshotsMax = segmentsMax;
/** Partial writes/reads retried before giving up (regular files should never need more than 1). */
export const ioAttemptsMax = 1024;
/** Descriptors a file cache (file-cache.ts) keeps open when its owner sets no bound (tests, tools). */
export const fileCacheOpenFilesDefault = 1024;
/** Smallest file cache: room for the asynchronous pins (half) plus nested synchronous uses. */
export const fileCacheOpenFilesMin = 8;
/** Asynchronous file operations waiting for a pin at once (one or a few per tablet). */
export const fileCacheWaitersMax = 1_000_000;

export const logFileSuffix = ".log";
export const offsetIndexFileSuffix = ".index";
export const timeIndexFileSuffix = ".timeindex";
export const writerSnapshotFileSuffix = ".writer_snapshot";
export const recoveryCheckpointFileName = "recovery-point.checkpoint";
export const cleanShutdownFileName = ".clean_shutdown";
export const tempFileSuffix = ".tmp";
