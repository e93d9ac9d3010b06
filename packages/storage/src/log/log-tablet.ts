// The log of one bucket (Fluss LogTablet + LocalLog): a run of segments, the log end offset (LEO),
// the high watermark (set from above), the recovery point, idempotent-writer state, retention.
// Appends run synchronously from validation to the write (no await between assigning offsets and
// writing them, so concurrent appends cannot interleave); only the durability wait is async, and
// with flush mode "always" concurrent appends share one fdatasync (group-commit.ts).
// Invariants: segments are sorted, contiguous (each base = predecessor's end) and only the last is
// written; logStartOffset <= highWatermark <= LEO; flushedOffset <= LEO; commit timestamps never
// decrease along the log; batches are whole and CRC-checked before they reach a segment.
// Replication: the tablet keeps a leader-epoch cache (leader-epoch-cache.ts: which epoch wrote which
// offsets, durable before a batch of a new epoch is written), takes a follower's batches as the
// leader stamped them (appendAsFollower), answers the end-offset-for-epoch query a follower uses to
// find where its log diverges, and cuts divergent tails explicitly (truncateTo, returning what it cut).
// Descriptors: the tablet holds none of its own; its segments and directory are reached through
// the server's bounded file cache (file-cache.ts), so tablets and segments cost no descriptor idle.
// Failures (see file-io.ts for the error kinds):
//  - An append whose write fails (a full disk: ENOSPC/EDQUOT; or EIO) fails alone: the segment is
//    cut back to where the append started, nothing of it is visible, and the next append may
//    succeed (retriable STORAGE_EXCEPTION when the disk is full). If the cut-back cannot be
//    confirmed, the tablet fences writes (LOG_STORAGE_EXCEPTION) but keeps serving reads.
//  - A failed fdatasync fences writes until the tablet is reopened (fsyncgate: the page cache may
//    have dropped the unflushed bytes, so nothing above the flushed offset is trusted); reads go on,
//    up to the flushed offset. Nothing waiting on that flush is acknowledged.
//  - Writes that only save work later (recovery checkpoint, writer snapshots, the last time index
//    entry of a rolled segment, the clean-shutdown marker) are skipped when the disk is full: a
//    longer recovery at the next open replaces them. So open, close and drop work on a full disk.

import {
  assert,
  type Clock,
  Errors,
  FlussError,
  invalidArgument,
  isFlussError,
  NO_WRITER_ID,
  type Scheduler,
  splitBatches,
  stampBatch,
  systemScheduler,
} from "@fluss-ts/common";
import { type LogConfig, resolveLogConfig } from "./config.ts";
import {
  listenersMax,
  logFileSuffix,
  offsetIndexFileSuffix,
  segmentsMax,
  timeIndexFileSuffix,
} from "./constants.ts";
import type { EpochEndOffset, EpochEntry } from "./epoch-entries.ts";
import { type CachedFile, type FileCache, isOutOfDescriptors, sharedFileCache } from "./file-cache.ts";
import {
  fsyncDirSync,
  isDiskFull,
  join,
  offsetFileName,
  pathSizeSync,
  storageError,
  unlinkIfExistsSync,
} from "./file-io.ts";
import { type FollowerGroup, planFollowerAppend } from "./follower-append.ts";
import { GroupCommit } from "./group-commit.ts";
import { LeaderEpochCache } from "./leader-epoch-cache.ts";
import { clampOffset, floorSegmentIndex, loadLog, type TailCut } from "./log-loader.ts";
import {
  joinChunks,
  type ReadSource,
  readVisited,
  readWhole,
  type VisitedParts,
  type VisitLimits,
} from "./log-reads.ts";
import {
  type BatchSelector,
  type BatchVisitor,
  LogSegment,
  type ReadAllocator,
  type SegmentBatch,
} from "./log-segment.ts";
import { RemoteLog } from "./remote-log.ts";
import { type TierOptions, type TierResult, tierOnce } from "./remote-tiering.ts";
import {
  deleteWriterSnapshot,
  listWriterSnapshots,
  removeCleanShutdownMarker,
  writeCheckpoint,
  writeCleanShutdownMarker,
  writeWriterSnapshot,
} from "./tablet-files.ts";
import type {
  AppendInfo,
  AppendOptions,
  LogEvent,
  LogListener,
  LogTabletOptions,
  LogTabletStats,
  ReadResult,
  TruncateInfo,
} from "./types.ts";
import { rebuildWriterState } from "./writer-recovery.ts";
import { WriterStateManager } from "./writer-state.ts";

/** Prefix a selecting visitor needs: the header and statistics of most batches. */
const PREFIX_BYTES_SELECT = 4096;

export class LogTablet {
  readonly dir: string;
  readonly config: LogConfig;
  private readonly clock: Clock;
  /** Where the segments' descriptors come from (file-cache.ts); the tablet owns none itself. */
  private readonly files: FileCache;
  /** The tablet directory (fsync'ed after segments are created), through the file cache. */
  private readonly dirFile: CachedFile;
  private readonly segments: LogSegment[];
  /** What the read walks see: the segments, and the remote log below them (log-reads.ts). */
  private readonly readSource: ReadSource;
  private readonly writers = new WriterStateManager();
  /** Which leader epoch wrote which offsets (leader-epoch-cache.ts), for replication. */
  private readonly epochs: LeaderEpochCache;
  private readonly commit: GroupCommit;
  private readonly appendListeners = new Set<LogListener>();
  private readonly hwListeners = new Set<LogListener>();
  private leo: bigint;
  private hw: bigint;
  private maxCommitTs = -1n;
  private state: "open" | "closing" | "closed" = "open";
  /** Set when writes can no longer be trusted (see the file comment); reads go on. */
  private writeFence: FlussError | null = null;
  /** An fdatasync failed: reads stop at the flushed offset. */
  private flushFailed = false;
  private dirDirty = false;
  private checkpointDue = false;
  private lastCheckpointMs: number;
  private timer: { cancel(): void } | null = null;
  private readonly counters = { appends: 0, duplicates: 0, bytesAppended: 0, rolls: 0, appendsFailed: 0 };
  private readonly loadInfo: { truncatedBytes: number; cleanShutdown: boolean; tailCuts: readonly TailCut[] };
  /** Segments copied to remote storage (remote-log.ts); null when tiering is off. */
  private readonly remote: RemoteLog | null;
  /** Remote mutations (tiering rounds) run one at a time, in this chain. */
  private remoteChain: Promise<unknown> = Promise.resolve();

  private constructor(options: LogTabletOptions, config: LogConfig) {
    this.dir = options.dir;
    this.config = config;
    this.clock = options.clock;
    this.files = options.files ?? sharedFileCache();
    this.epochs = LeaderEpochCache.load(this.dir); // before the log: a garbled file opens nothing
    const loaded = loadLog(this.dir, config, this.files);
    this.dirFile = this.files.file(this.dir, "r");
    this.remote = options.remote ? RemoteLog.open(this.dir, options.remote) : null;
    this.segments = loaded.segments; // mutated in place, never replaced (readSource shares it)
    this.readSource = {
      segments: this.segments,
      remoteFor: (offset) => (this.isRemoteOffset(offset) ? this.remote : null),
    };
    this.leo = this.active.nextOffset;
    this.hw = loaded.highWatermark;
    this.loadInfo = {
      truncatedBytes: loaded.truncatedBytes,
      cleanShutdown: loaded.cleanShutdown,
      tailCuts: loaded.cuts,
    };
    this.lastCheckpointMs = this.clock.nowMs();
    this.commit = new GroupCommit({
      flushedOffset: loaded.recoveryPoint,
      endOffset: () => this.leo,
      flushTo: (target) => this.flushTo(target),
      onFlushed: (offset) => this.onFlushed(offset),
      onFailure: (err) => this.fenceWrites(err, "an fdatasync failed", true),
    });
  }

  /** Open (or create) the tablet in `dir`, recovering it if it was not closed cleanly. */
  static async open(options: LogTabletOptions): Promise<LogTablet> {
    const tablet = new LogTablet(options, resolveLogConfig(options.config));
    try {
      tablet.initialize(options.scheduler ?? systemScheduler);
    } catch (err) {
      for (const s of tablet.segments) s.close(); // a log that cannot open keeps no file open
      tablet.dirFile.close();
      throw err;
    }
    return tablet;
  }

  private initialize(scheduler: Scheduler): void {
    for (let i = this.segments.length - 1; i >= 0 && this.maxCommitTs < 0n; i--) {
      this.maxCommitTs = this.segments[i].maxTimestamp();
    }
    this.rebuildWriterState(this.leo);
    this.epochs.repairAtOpen(this.logStartOffset, this.leo);
    this.optionalWrite(() =>
      writeCheckpoint(this.dir, { recoveryPoint: this.commit.flushedOffset, highWatermark: this.hw }, false),
    );
    removeCleanShutdownMarker(this.dir); // needs no space; the marker must be gone before any write
    if (this.config.flush.mode === "interval") {
      const handle = scheduler.setInterval(() => {
        if (this.writeFence !== null || this.state !== "open") return;
        this.commit.waitFor(this.leo).catch(() => undefined); // a failure is recorded by the group commit
      }, this.config.flush.intervalMs);
      handle.unref();
      this.timer = { cancel: () => scheduler.clearInterval(handle) };
    }
  }

  /** The true start of the log: the remote log's start when it reaches the local segments. */
  get logStartOffset(): bigint {
    return this.remoteReaches()
      ? (this.remote?.startOffset ?? this.localLogStartOffset)
      : this.localLogStartOffset;
  }

  /** First offset held in a local segment. */
  get localLogStartOffset(): bigint {
    return this.segments[0].baseOffset;
  }

  /** True when remote segments exist and run up to the local ones (no gap between them). */
  private remoteReaches(): boolean {
    const end = this.remote?.endOffset ?? null;
    return end !== null && end >= this.localLogStartOffset;
  }

  /** True when `offset` is served from remote storage (below every local segment). */
  private isRemoteOffset(offset: bigint): boolean {
    return offset < this.localLogStartOffset && this.remoteReaches();
  }

  get logEndOffset(): bigint {
    return this.leo;
  }

  get highWatermark(): bigint {
    return this.hw;
  }

  /** Every byte below this offset has been fdatasync'ed (the recovery point). */
  get flushedOffset(): bigint {
    return this.commit.flushedOffset;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  private assertOpen(): void {
    if (this.state !== "open")
      throw new FlussError(Errors.LOG_STORAGE_EXCEPTION, `log ${this.dir} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.writeFence !== null) throw this.writeFence;
  }

  /** Refuse every later write (reads go on); returns the error writes now get. */
  private fenceWrites(err: unknown, why: string, flushFailed = false): FlussError {
    if (flushFailed) this.flushFailed = true;
    if (this.writeFence === null) {
      const cause = storageError("write", this.dir, err);
      this.writeFence = new FlussError(
        Errors.LOG_STORAGE_EXCEPTION,
        `log ${this.dir} refuses writes until it is reopened: ${why} (${cause.message})`,
        { cause },
      );
    }
    return this.writeFence;
  }

  /**
   * Run a write that only saves work later (its loss costs a longer recovery): a full disk, or no
   * descriptor left for its temp file (EMFILE), skips it; any other failure is real and thrown.
   */
  private optionalWrite(write: () => void): boolean {
    try {
      write();
      return true;
    } catch (err) {
      if (isDiskFull(err) || isOutOfDescriptors(err)) return false;
      throw err;
    }
  }

  /** Where reads stop at most: after a failed fdatasync, only flushed bytes are trusted. */
  private readLimit(maxOffset: bigint): bigint {
    if (!this.flushFailed) return maxOffset;
    const flushed = this.commit.flushedOffset;
    return flushed < maxOffset ? flushed : maxOffset;
  }

  /**
   * Append one or more concatenated client batches. Each must be whole with a valid CRC, or
   * nothing is appended (CORRUPT_RECORD_EXCEPTION). Offsets and the commit timestamp are stamped
   * into `batches` in place. A duplicate of a writer's recent batch is not stored again.
   */
  async append(batches: Uint8Array, options: AppendOptions = {}): Promise<AppendInfo> {
    this.assertWritable();
    if (batches.byteLength > this.config.segmentBytesMax) {
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `append of ${batches.byteLength} bytes exceeds the segment size ${this.config.segmentBytesMax}`,
      );
    }
    const slices = splitBatches(batches, { verifyCrc: true, allowPartialTail: false });
    if (slices.length === 0)
      throw new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "append of no record batches");
    const duplicate = this.writers.check(slices.map((s) => s.header));
    if (duplicate !== null) {
      this.counters.duplicates++;
      await this.durable(duplicate.lastOffset + 1n);
      return {
        firstOffset: duplicate.firstOffset,
        lastOffset: duplicate.lastOffset,
        logEndOffset: this.leo,
        duplicate: true,
      };
    }
    const commitTs = this.nextCommitTimestamp();
    const planned: SegmentBatch[] = [];
    let offset = this.leo;
    for (const s of slices) {
      const next = offset + BigInt(s.header.lastOffsetDelta) + 1n;
      const position = s.bytes.byteOffset - batches.byteOffset;
      planned.push({
        position,
        sizeBytes: s.header.sizeBytes,
        baseOffset: offset,
        nextOffset: next,
        commitTimestamp: commitTs,
      });
      offset = next;
    }
    if (options.leaderEpoch !== undefined) this.noteLeaderEpoch(options.leaderEpoch);
    const segment = this.maybeRoll(batches.byteLength, offset - 1n);
    for (let i = 0; i < slices.length; i++)
      stampBatch(slices[i].bytes, planned[i].baseOffset, commitTs, options.leaderEpoch);
    this.writeToSegment(segment, batches, planned);
    const first = this.leo;
    this.leo = offset;
    this.maxCommitTs = commitTs;
    for (let i = 0; i < slices.length; i++) {
      const h = slices[i].header;
      if (h.writerId === NO_WRITER_ID) continue;
      const p = planned[i];
      this.writers.record(h.writerId, {
        batchSequence: h.batchSequence,
        firstOffset: p.baseOffset,
        lastOffset: p.nextOffset - 1n,
        timestampMs: Number(commitTs),
      });
    }
    this.counters.appends++;
    this.counters.bytesAppended += batches.byteLength;
    this.emit(this.appendListeners);
    await this.durable(offset);
    return { firstOffset: first, lastOffset: offset - 1n, logEndOffset: this.leo, duplicate: false };
  }

  /** Write stamped, checked batches at the end of `segment`; a failure is answered as appendFailed says. */
  private writeToSegment(segment: LogSegment, bytes: Uint8Array, planned: readonly SegmentBatch[]): void {
    try {
      segment.append(bytes, planned);
    } catch (err) {
      if (!isFlussError(err)) throw err; // a broken invariant (assert), not an I/O failure
      throw this.appendFailed(segment, err);
    }
  }

  /**
   * Append batches fetched from the leader (follower-append.ts): they keep the leader's offsets,
   * commit timestamps and epochs (`epochs`: the leader's epoch entries for the fetched range); the
   * first must start at this log's end. No idempotence check (the leader made it), but writer state
   * is recorded, so this replica dedupes correctly once it leads. Resolves like `append` (durable
   * under the flush mode); a failure after some segment-sized groups were written leaves them in.
   */
  async appendAsFollower(batches: Uint8Array, epochs: readonly EpochEntry[]): Promise<AppendInfo> {
    this.assertWritable();
    // An epoch this replica claimed as leader but wrote nothing in (it starts at the log end) is
    // not the epoch of its data: drop it, so the leader's batches are judged against the data's epoch.
    this.epochs.truncateFromEnd(this.leo);
    const plan = planFollowerAppend(batches, epochs, {
      logEndOffset: this.leo,
      latestEpoch: this.epochs.latestEpoch,
      segmentBytesMax: this.config.segmentBytesMax,
    });
    for (const group of plan.groups) this.writeFollowerGroup(group);
    if (plan.maxCommitTimestamp > this.maxCommitTs) this.maxCommitTs = plan.maxCommitTimestamp;
    if (plan.groups.length > 0) {
      this.counters.appends++;
      this.emit(this.appendListeners);
    }
    await this.durable(plan.endOffset);
    return {
      firstOffset: plan.firstOffset,
      lastOffset: plan.endOffset - 1n,
      logEndOffset: this.leo,
      duplicate: false,
    };
  }

  private writeFollowerGroup(group: FollowerGroup): void {
    for (const b of group.batches) {
      if (b.epoch >= 0 && b.epoch !== this.epochs.latestEpoch) this.epochs.assign(b.epoch, b.baseOffset);
    }
    const last = group.batches[group.batches.length - 1];
    const segment = this.maybeRoll(group.bytes.byteLength, last.nextOffset - 1n);
    this.writeToSegment(segment, group.bytes, group.batches);
    this.leo = last.nextOffset;
    this.counters.bytesAppended += group.bytes.byteLength;
    for (const b of group.batches) {
      if (b.writerId === NO_WRITER_ID) continue;
      this.writers.record(b.writerId, {
        batchSequence: b.batchSequence,
        firstOffset: b.baseOffset,
        lastOffset: b.nextOffset - 1n,
        timestampMs: Number(b.commitTimestamp),
      });
    }
  }

  /**
   * Take leadership of `epoch` from the log end on (a replica becoming leader calls this first).
   * FENCED_LEADER_EPOCH_EXCEPTION when this replica already claimed this epoch or a newer one, or
   * holds a newer one: a stale notice, or a leader that restarted (it never resumes an epoch it led
   * before a crash, see leader-epoch-cache.ts). Durable before it returns.
   */
  claimLeaderEpoch(epoch: number): void {
    this.assertWritable();
    const held = Math.max(this.epochs.latestEpoch, this.epochs.claimedEpoch);
    if (epoch <= held) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${epoch} is not newer than epoch ${held} already claimed or held in ${this.dir}`,
      );
    }
    this.epochs.claim(epoch, this.leo);
  }

  /** A leader append in `epoch`: refused when a newer epoch is held or claimed; recorded when new. */
  private noteLeaderEpoch(epoch: number): void {
    const held = Math.max(this.epochs.latestEpoch, this.epochs.claimedEpoch);
    if (epoch < held) {
      throw new FlussError(
        Errors.FENCED_LEADER_EPOCH_EXCEPTION,
        `leader epoch ${epoch} is older than epoch ${held} already claimed or held in ${this.dir}`,
      );
    }
    if (epoch > this.epochs.latestEpoch) this.epochs.claim(epoch, this.leo);
  }

  /** The latest leader epoch this log holds (-1: none). */
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /** The highest epoch this replica took leadership of (-1: none); survives restarts. */
  get claimedEpoch(): number {
    return this.epochs.claimedEpoch;
  }

  /** OffsetForLeaderEpoch: the largest epoch <= `epoch` this log knows and where it ends (epoch-entries.ts). */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.leo);
  }

  /** The epoch entries a follower needs for batches in [fromOffset, toOffset) (sent with a fetch). */
  epochEntriesFor(fromOffset: bigint, toOffset: bigint): EpochEntry[] {
    return this.epochs.entriesFor(fromOffset, toOffset);
  }

  /** Every epoch entry (oldest first). */
  get epochEntries(): readonly EpochEntry[] {
    return this.epochs.all;
  }

  /**
   * Idempotence check for a batch this tablet is about to build from another write (a primary-key
   * table's changelog from its KV batch), before any work is done for it: the offsets of the
   * retained batch that (writerId, batchSequence) duplicates, or null when the sequence is the
   * next one. Throws OUT_OF_ORDER_SEQUENCE_EXCEPTION otherwise. Does not change the state.
   */
  checkWriterSequence(writerId: bigint, batchSequence: number): AppendInfo | null {
    this.assertWritable();
    if (writerId === NO_WRITER_ID) return null;
    const duplicate = this.writers.check([{ writerId, batchSequence }]);
    if (duplicate === null) return null;
    this.counters.duplicates++;
    return {
      firstOffset: duplicate.firstOffset,
      lastOffset: duplicate.lastOffset,
      logEndOffset: this.leo,
      duplicate: true,
    };
  }

  /** Resolves once every byte below `offset` is durable under the flush mode (as append does). */
  whenDurable(offset: bigint): Promise<void> {
    this.assertWritable();
    return this.durable(offset);
  }

  /** Commit timestamps never go backwards, even if the clock does. */
  private nextCommitTimestamp(): bigint {
    const now = BigInt(Math.trunc(this.clock.nowMs()));
    return now > this.maxCommitTs ? now : this.maxCommitTs;
  }

  /** With flush mode "always", wait until every byte below `offset` is durable. */
  private durable(offset: bigint): Promise<void> {
    if (this.config.flush.mode !== "always") return Promise.resolve();
    return this.commit.waitFor(offset);
  }

  /**
   * A segment append threw. When the segment is back where the append started (its write failed
   * and was cut back), only this append fails and the tablet stays writable; otherwise the file may
   * hold bytes the tablet does not account for, and writes are fenced.
   */
  private appendFailed(segment: LogSegment, err: unknown): FlussError {
    let restored = false;
    try {
      restored = segment.nextOffset === this.leo && pathSizeSync(segment.logPath) === segment.sizeBytes;
    } catch {
      restored = false;
    }
    if (!restored) return this.fenceWrites(err, "a failed append could not be undone");
    this.counters.appendsFailed++;
    return storageError("append to", this.dir, err);
  }

  /** Roll to a new segment when this append does not fit the active one. Changes nothing if it throws. */
  private maybeRoll(appendBytes: number, lastOffset: bigint): LogSegment {
    const active = this.active;
    if (!active.shouldRoll(appendBytes, lastOffset, this.config.segmentBytesMax)) return active;
    assert(this.segments.length < segmentsMax, "segments per tablet are bounded");
    // The final time index entry only spares a walk of the tail when the log is next opened.
    this.optionalWrite(() => active.onBecomeInactive());
    let segment: LogSegment;
    try {
      segment = LogSegment.create(this.dir, this.leo, this.segmentOptions());
    } catch (err) {
      this.removeSegmentFiles(this.leo); // a half-created segment would make every later roll fail
      throw storageError("roll", this.dir, err);
    }
    this.segments.push(segment);
    this.counters.rolls++;
    this.dirDirty = true;
    this.checkpointDue = true;
    this.optionalWrite(() =>
      writeWriterSnapshot(this.dir, this.leo, this.writers.encodeSnapshot(this.leo), false),
    );
    // Flush the rolled segment in the background so the recovery point can move past it.
    if (this.config.flush.mode !== "always") this.commit.waitFor(this.leo).catch(() => undefined);
    return segment;
  }

  private segmentOptions() {
    return {
      indexIntervalBytes: this.config.indexIntervalBytes,
      indexBytesMax: this.config.indexBytesMax,
      files: this.files,
    };
  }

  /** Delete whatever files of a segment at `baseOffset` exist (its creation failed). */
  private removeSegmentFiles(baseOffset: bigint): void {
    for (const suffix of [logFileSuffix, offsetIndexFileSuffix, timeIndexFileSuffix]) {
      try {
        unlinkIfExistsSync(join(this.dir, offsetFileName(baseOffset, suffix)));
      } catch {
        // left for the next roll to trip over: its error will name the file
      }
    }
  }

  /** Make every byte appended so far durable (whatever the flush mode). */
  flush(): Promise<void> {
    this.assertWritable();
    return this.commit.waitFor(this.leo);
  }

  /** fdatasync the segments holding [flushedOffset, target), their indexes once closed, the directory. */
  private async flushTo(target: bigint): Promise<void> {
    const from = this.commit.flushedOffset;
    const held: LogSegment[] = [];
    for (let i = Math.max(floorSegmentIndex(this.segments, from), 0); i < this.segments.length; i++) {
      const s = this.segments[i];
      if (s.baseOffset >= target) break;
      if (s.acquire()) held.push(s);
    }
    const active = this.active;
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    try {
      // fdatasyncs run concurrently on the thread pool; usually there is just the active segment.
      const syncs = held.map(async (s) => {
        if (s === active || s.indexesDurable) return s.flushLog();
        await Promise.all([s.flushLog(), s.flushIndexes()]);
        s.indexesDurable = true;
      });
      if (dirDirty) syncs.push(this.dirFile.fsync());
      await Promise.all(syncs);
    } catch (err) {
      this.dirDirty ||= dirDirty;
      throw err;
    } finally {
      for (const s of held) s.release();
    }
  }

  private onFlushed(flushedOffset: bigint): void {
    const now = this.clock.nowMs();
    if (!this.checkpointDue && now - this.lastCheckpointMs < this.config.recoveryCheckpointIntervalMs) return;
    if (this.state === "closed") return;
    // On a full disk the checkpoint stays due and is tried again after the next flush.
    const written = this.optionalWrite(() =>
      writeCheckpoint(this.dir, { recoveryPoint: flushedOffset, highWatermark: this.hw }, false),
    );
    if (!written) return;
    this.lastCheckpointMs = now;
    this.checkpointDue = false;
  }

  /**
   * Whole batches from the one holding `fetchOffset`, ending before `maxOffset` (exclusive, e.g.
   * the high watermark), within `maxBytes` — but at least one batch when one is available.
   * LOG_OFFSET_OUT_OF_RANGE_EXCEPTION when `fetchOffset` is outside [logStartOffset, LEO].
   */
  async read(
    fetchOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    allocate: ReadAllocator = (size) => Buffer.allocUnsafe(size),
  ): Promise<ReadResult> {
    this.assertOpen();
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
      throw invalidArgument(`maxBytes ${maxBytes} is not a size`);
    this.checkFetchOffset(fetchOffset);
    const end = this.readLimit(maxOffset);
    const records = await readWhole(this.readSource, fetchOffset, maxBytes, end, allocate);
    return { records, highWatermark: this.hw, logStartOffset: this.logStartOffset };
  }

  /**
   * A visited read: batches from `fetchOffset` are handed to `visit`, which returns their output
   * (only the byte ranges it reads, the whole batch, or nothing) — for projections and filters
   * that should not read what they drop. At most `examineBytesMax` bytes of batches are examined;
   * `examinedEnd` says where the walk stopped, so a reader can continue past skipped batches.
   */
  async readVisited(
    fetchOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    visit: BatchVisitor,
    limits: VisitLimits,
    allocate: ReadAllocator = (size) => Buffer.allocUnsafe(size),
  ): Promise<VisitedParts & { highWatermark: bigint }> {
    this.assertOpen();
    this.checkFetchOffset(fetchOffset);
    const end = this.readLimit(maxOffset);
    const r = await readVisited(this.readSource, fetchOffset, maxBytes, end, visit, limits, allocate);
    return { ...r, highWatermark: this.hw };
  }

  /** Batches `select` keeps (judged from header and statistics), others skipped unread. */
  async readSelected(
    fetchOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    select: BatchSelector,
    examineBytesMax: number,
    allocate: ReadAllocator = (size) => Buffer.allocUnsafe(size),
  ): Promise<ReadResult & { examinedEnd: bigint }> {
    const r = await this.readVisited(
      fetchOffset,
      maxBytes,
      maxOffset,
      (b) => (select(b.prefix, b.header) ? "whole" : "skip"),
      { examineBytesMax, prefixBytes: PREFIX_BYTES_SELECT },
      allocate,
    );
    return {
      records: joinChunks(r.parts, allocate),
      highWatermark: r.highWatermark,
      logStartOffset: this.logStartOffset,
      examinedEnd: r.examinedEnd,
    };
  }

  private checkFetchOffset(fetchOffset: bigint): void {
    if (fetchOffset < this.logStartOffset || fetchOffset > this.leo) {
      throw new FlussError(
        Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION,
        `fetch offset ${fetchOffset} is outside [${this.logStartOffset}, ${this.leo}] of ${this.dir}`,
      );
    }
  }

  /** Set the high watermark (clamped to [logStartOffset, LEO]); returns the value kept. */
  updateHighWatermark(offset: bigint): bigint {
    const hw = clampOffset(offset, this.logStartOffset, this.leo);
    const grew = hw > this.hw;
    this.hw = hw;
    if (grew) this.emit(this.hwListeners);
    return hw;
  }

  /** First offset whose batch commit timestamp is >= `timestampMs`; the LEO when there is none. */
  async offsetForTimestamp(timestampMs: number): Promise<bigint> {
    this.assertOpen();
    const ts = BigInt(Math.trunc(timestampMs));
    if (this.remoteReaches() && this.remote) {
      const remote = await this.remote.offsetForTimestamp(ts);
      if (remote !== null && remote < this.localLogStartOffset) return remote;
    }
    for (const segment of this.segments) {
      if (segment.maxTimestamp() < ts) continue;
      const offset = segment.findOffsetByTimestamp(ts);
      if (offset !== null) return offset;
    }
    return this.leo;
  }

  /** Called after every append, with the new LEO. Returns the unsubscribe function. */
  onAppend(listener: LogListener): () => void {
    return this.subscribe(this.appendListeners, listener);
  }

  /** Called whenever the high watermark grows. Returns the unsubscribe function. */
  onHighWatermark(listener: LogListener): () => void {
    return this.subscribe(this.hwListeners, listener);
  }

  private subscribe(set: Set<LogListener>, listener: LogListener): () => void {
    assert(set.size < listenersMax, "log listeners are bounded");
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  private emit(set: Set<LogListener>): void {
    const event: LogEvent = { logEndOffset: this.leo, highWatermark: this.hw };
    for (const listener of set) {
      try {
        listener(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // a listener bug must not undo an append that already happened
        });
      }
    }
  }

  /**
   * Retention: delete the oldest closed segments whose newest commit timestamp is more than
   * `ttlMs` before now, stopping at the first one that is not, at the active segment, and at
   * segments holding offsets at or above the high watermark (as Fluss does). Returns how many.
   */
  deleteExpiredSegments(ttlMs: number): number {
    this.assertOpen(); // deleting frees space: allowed while writes are fenced
    if (ttlMs <= 0) return 0;
    const now = BigInt(Math.trunc(this.clock.nowMs()));
    let deleted = 0;
    // Tiering on or off, an expired segment goes: remote segments are older still and expire in
    // the next tiering round (the remote log restarts after the gap; see remote-log.ts).
    for (let i = 0; i < segmentsMax && this.segments.length > 1; i++) {
      const oldest = this.segments[0];
      if (this.segments[1].baseOffset > this.hw) break;
      if (now - oldest.maxTimestamp() <= BigInt(ttlMs)) break;
      this.segments.shift();
      oldest.delete();
      deleted++;
    }
    if (deleted > 0) this.deleteWriterSnapshotsBelowStart();
    return deleted;
  }

  /** After segments were deleted from the front: snapshots and epochs below the start go too. */
  private deleteWriterSnapshotsBelowStart(): void {
    for (const o of listWriterSnapshots(this.dir))
      if (o < this.localLogStartOffset) deleteWriterSnapshot(this.dir, o);
    this.epochs.truncateFromStart(this.logStartOffset);
  }

  /**
   * One remote tiering round (remote-tiering.ts): copy closed segments below the high watermark,
   * expire remote segments past `ttlMs`, commit the manifest, then delete local segments already
   * remote beyond `localSegmentsRetained`. Rounds run one at a time; a failed round changes
   * nothing readers see and is retried by the next. Null when tiering is off for this tablet.
   */
  tierToRemote(options: TierOptions): Promise<TierResult | null> {
    const remote = this.remote;
    if (remote === null) return Promise.resolve(null);
    const round = this.remoteChain.then(() => {
      this.assertOpen();
      return tierOnce(() => this.tieringView(), remote, options);
    });
    this.remoteChain = round.catch(() => undefined);
    return round;
  }

  private tieringView() {
    return {
      segments: this.segments,
      highWatermark: this.hw,
      nowMs: BigInt(Math.trunc(this.clock.nowMs())),
      deleteOldestLocal: (count: number): number => {
        if (this.state !== "open") return 0;
        let deleted = 0;
        for (let i = 0; i < count && this.segments.length > 1; i++) {
          this.segments.shift()?.delete();
          deleted++;
        }
        if (deleted > 0) this.deleteWriterSnapshotsBelowStart();
        return deleted;
      },
    };
  }

  /** The remote log's state (null when tiering is off): offsets, segments, bytes. */
  remoteLogInfo(): {
    startOffset: bigint | null;
    endOffset: bigint | null;
    segments: number;
    sizeBytes: number;
    version: number;
  } | null {
    const r = this.remote;
    if (r === null) return null;
    return {
      startOffset: r.startOffset,
      endOffset: r.endOffset,
      segments: r.segments.length,
      sizeBytes: r.sizeBytes,
      version: r.version,
    };
  }

  /** Forget idempotent writers silent for longer than the writer expiration. Returns how many. */
  removeExpiredWriters(): number {
    return this.writers.removeExpired(this.clock.nowMs(), this.config.writerExpirationMs);
  }

  /**
   * Remove every batch at or above `offset` (a whole batch when `offset` falls inside it), with the
   * epochs starting there; the recovery point is lowered durably first. Returns what was cut, for the
   * caller to log (replication truncates divergent tails explicitly, never silently).
   */
  truncateTo(offset: bigint): TruncateInfo {
    this.assertWritable();
    const info = { previousEndOffset: this.leo, endOffset: this.leo, previousHighWatermark: this.hw };
    if (offset >= this.leo) {
      this.epochs.truncateFromEnd(this.leo); // an epoch claimed at the log end but never written
      return info;
    }
    if (offset < this.logStartOffset) {
      throw new FlussError(Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION, `truncate to ${offset} below log start`);
    }
    const index = floorSegmentIndex(this.segments, offset);
    const target = this.segments[index];
    const newEnd = target.translateOffset(offset)?.header.baseOffset ?? target.nextOffset;
    try {
      // First make sure the recovery point cannot cover offsets about to be rewritten.
      this.commit.truncate(newEnd);
      if (this.hw > newEnd) this.hw = newEnd;
      writeCheckpoint(this.dir, { recoveryPoint: this.commit.flushedOffset, highWatermark: this.hw }, true);
      for (const later of this.segments.splice(index + 1)) later.delete();
      target.truncateTo(newEnd);
      this.epochs.truncateFromEnd(newEnd);
    } catch (err) {
      throw this.fenceWrites(err, "a truncation failed");
    }
    assert(target.nextOffset === newEnd, "truncation ends where planned");
    this.leo = newEnd;
    this.rebuildWriterState(newEnd);
    return { ...info, endOffset: newEnd };
  }

  /**
   * Delete the whole log and restart it, empty, at `offset` (a follower whose log ends below the
   * leader's log start: everything it holds is older than what the leader keeps). Old segments go
   * first and the new one is created only after the directory no longer names them, so a crash in
   * between leaves an empty log, never a gap.
   */
  truncateFullyAndStartAt(offset: bigint): TruncateInfo {
    this.assertWritable();
    assert(offset >= 0n, "a log starts at a valid offset");
    const info = { previousEndOffset: this.leo, endOffset: offset, previousHighWatermark: this.hw };
    try {
      this.commit.restartAt(offset);
      writeCheckpoint(this.dir, { recoveryPoint: offset, highWatermark: offset }, true);
      for (const old of this.segments.splice(0)) old.delete();
      for (const o of listWriterSnapshots(this.dir)) deleteWriterSnapshot(this.dir, o);
      this.epochs.truncateFromEnd(0n);
      fsyncDirSync(this.dir);
      this.segments.push(LogSegment.create(this.dir, offset, this.segmentOptions()));
      fsyncDirSync(this.dir);
    } catch (err) {
      throw this.fenceWrites(err, "a full truncation failed");
    }
    this.leo = offset;
    this.hw = offset;
    this.writers.clear();
    return info;
  }

  /** Writer state as of `upTo` (see writer-recovery.ts). */
  private rebuildWriterState(upTo: bigint): void {
    rebuildWriterState({
      dir: this.dir,
      segments: this.segments,
      writers: this.writers,
      upTo,
      nowMs: this.clock.nowMs(),
      expirationMs: this.config.writerExpirationMs,
    });
  }

  stats(): LogTabletStats {
    return {
      ...this.counters,
      flushes: this.commit.flushCount,
      segments: this.segments.length,
      truncatedOnLoadBytes: this.loadInfo.truncatedBytes,
      tailCuts: this.loadInfo.tailCuts,
      cleanShutdown: this.loadInfo.cleanShutdown,
      writable: this.writeFence === null,
    };
  }

  /**
   * Flush everything, snapshot writer state, persist the recovery point and high watermark, mark
   * the shutdown clean, and close the files (after in-flight reads finish). A tablet whose writes
   * are fenced just closes (the next open recovers it); on a full disk the writes that only save
   * work are skipped. Throws only when appended bytes could not be made durable (after closing).
   */
  async close(): Promise<void> {
    if (this.state !== "open") return;
    await this.remoteChain; // a tiering round in flight finishes first (a drop deletes its files next)
    if (this.state !== "open") return;
    this.state = "closing";
    this.timer?.cancel();
    try {
      if (this.writeFence === null) await this.commit.waitFor(this.leo);
      if (this.writeFence === null) this.writeCleanShutdown();
    } finally {
      this.state = "closed";
      for (const s of this.segments) s.close();
      this.dirFile.close();
    }
  }

  private writeCleanShutdown(): void {
    this.optionalWrite(() =>
      writeWriterSnapshot(this.dir, this.leo, this.writers.encodeSnapshot(this.leo), true),
    );
    for (const s of this.segments) if (s === this.active || !s.indexesDurable) s.flushSync();
    // Everything is flushed now, so the marker holds even when the checkpoint could not be written
    // (open trusts a marked log to its end and the leader recomputes the high watermark).
    this.optionalWrite(() =>
      writeCheckpoint(this.dir, { recoveryPoint: this.leo, highWatermark: this.hw }, true),
    );
    this.optionalWrite(() => writeCleanShutdownMarker(this.dir));
  }
}
