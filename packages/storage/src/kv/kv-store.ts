// The KV store of one bucket: a thin wrapper over one lmdb environment holding two named
// databases, `data` (binary key → stored value) and `meta` (the state the data corresponds to:
// the applied log offset and the row count). Data and meta are always written in the same
// transaction, so the store is at every commit exactly "the changelog below appliedLogOffset,
// applied". Commits are not fsynced (noSync): they survive a process crash (the page cache has
// them); durability across an OS crash comes from the log and remote snapshots, and a store that
// is missing, unreadable, left open by an earlier boot or ahead of its log is rebuilt (kv-open.ts).
// Store format 2 (kv-format.ts): every stored value is the value (i16 schema id + row) followed
// by a CRC-32C over key ‖ value (kv-checksum.ts), and the meta state carries one too. Every read
// checks it; a mismatch is CORRUPT_RECORD_EXCEPTION naming the store, reported once through
// `onCorrupt` (the tablet rebuilds the store). Format 1 stores are migrated at open (kv-migrate.ts).
// lmdb runs without a write map (kv-format.ts LMDB_OPTIONS): a full disk fails a commit with an
// error instead of killing the process with SIGBUS.
// Writes come two ways: write() runs one synchronous transaction (recovery at open), and
// writeAsync() seals the writes and hands them to the commit queue (kv-commit-queue.ts): lmdb
// commits them on its write thread, pipelined and chained through a version in the `chain`
// database (a commit applies only on top of the one before it); a failed commit (disk full) is
// retried until it succeeds, its writes before any later ones, so the committed store never
// skips a write. `state` is what is committed, `queuedState` what will be once the queue drains.
// Invariants: keys are 1..KV_KEY_BYTES_MAX bytes; appliedLogOffset never decreases; values handed
// out by get/scan are copies (getFast's view is valid until the next get); write() never runs
// while asynchronous writes are queued.
// lmdb failures leave as FlussError(KV_STORAGE_EXCEPTION) naming the directory; a full disk or an
// I/O error as STORAGE_EXCEPTION (retriable).
// A writable store keeps Bloom filters of its keys (key-filter.ts KeyFilters): mayContain(hash)
// === false proves a key absent without an lmdb lookup.

import fs from "node:fs";
import path from "node:path";
import { assert, copyBytes, Errors, FlussError, isFlussError, type Scheduler } from "@fluss-ts/common";
import { type Database, open, type RootDatabase } from "lmdb";
import { KeyFilters } from "./key-filter.ts";
import { hashKey } from "./key-index.ts";
import { CHECKSUM_BYTES, entryChecksum } from "./kv-checksum.ts";
import { CommitQueue } from "./kv-commit-queue.ts";
import {
  BINARY,
  checkHeader,
  commitOutcome,
  DATA_FILE,
  decodeState,
  encodeState,
  type KvStoreState,
  kvError,
  LMDB_OPTIONS,
  META_KEY,
  STORE_FORMAT,
} from "./kv-format.ts";
import { putBatch, type SealedBatch, sealBatch } from "./kv-sealed-batch.ts";

/** lmdb's largest key (bytes). */
export const KV_KEY_BYTES_MAX = 1978;
const CHAIN_KEY = Buffer.from("commit", "utf8");
const EMPTY = new Uint8Array(0);
/** Key bytes shown in a corruption message. */
const KEY_SHOWN_BYTES = 32;

export type { KvStoreState } from "./kv-format.ts";

export interface KvWrite {
  readonly key: Uint8Array;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
  /** hashKey(key), when the caller has it already. */
  readonly hash?: number;
  /**
   * True only when mayContain(hash) was false for this key and no write of it was queued since
   * (a new key): its filter entry skips the test of the older filters.
   */
  readonly absent?: boolean;
}

export interface KvEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface KvStoreOptions {
  readonly readOnly?: boolean;
  /** Told (once) when a read finds an entry whose checksum does not match. */
  readonly onCorrupt?: (err: FlussError) => void;
  /** First wait before a failed commit is retried (doubles up to COMMIT_RETRY_MS_MAX). */
  readonly commitRetryMs?: number;
  /** Timers of commit retries (default: the process's). */
  readonly scheduler?: Scheduler;
}

function copy(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

/** The smallest key greater than every key starting with `prefix`, or null when there is none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! !== 0xff) {
      const end = copyBytes(prefix, 0, i + 1);
      end[i]!++;
      return end;
    }
  }
  return null;
}

export class KvStore {
  readonly dir: string;
  /** The store format found at open (a format 1 store must be migrated before it is written). */
  readonly format: number;
  private readonly env: RootDatabase<Uint8Array, Uint8Array>;
  private readonly data: Database<Uint8Array, Uint8Array>;
  private readonly meta: Database<Uint8Array, Uint8Array>;
  /** The commit chain's version (null for a read-only store). */
  private readonly chain: Database<Uint8Array, Uint8Array> | null;
  private readonly onCorrupt: ((err: FlussError) => void) | null;
  private readonly commits: CommitQueue<KvStoreState, SealedBatch>;
  private current: KvStoreState;
  /** The state once every queued write has committed. */
  private queued: KvStoreState;
  /** The last commit's failure as a FlussError (made once per cause). */
  private failure: { cause: unknown; error: FlussError } | null = null;
  private corruption: FlussError | null = null;
  private closed = false;
  /** Filters of the stored keys; null for a read-only store. */
  private filters: KeyFilters | null = null;

  private constructor(dir: string, options: KvStoreOptions) {
    this.dir = dir;
    const readOnly = options.readOnly === true;
    this.onCorrupt = options.onCorrupt ?? null;
    this.env = open<Uint8Array, Uint8Array>({ path: dir, ...LMDB_OPTIONS, readOnly, ...BINARY });
    try {
      this.data = this.env.openDB<Uint8Array, Uint8Array>({ name: "data", ...BINARY });
      this.meta = this.env.openDB<Uint8Array, Uint8Array>({ name: "meta", ...BINARY });
      const { state, format } = decodeState(this.meta.getBinary(META_KEY));
      this.format = format;
      this.current = state;
      this.queued = state;
      if (!readOnly && format !== STORE_FORMAT) {
        throw new Error(
          `it has store format ${format} (this version writes ${STORE_FORMAT}): migrate it first`,
        );
      }
      // The commit chain (kv-commit-queue.ts): its version lives in a database of its own.
      this.chain = readOnly ? null : this.env.openDB({ name: "chain", useVersions: true, ...BINARY });
      let version = this.chain?.getEntry(CHAIN_KEY)?.version;
      if (this.chain !== null && version === undefined) {
        version = 0;
        this.chain.putSync(CHAIN_KEY, EMPTY, version);
      }
      this.commits = new CommitQueue<KvStoreState, SealedBatch>({
        commit: (writes, state, expect, next) => this.commit(writes, state, expect, next),
        committed: (state) => {
          if (state.appliedLogOffset >= this.current.appliedLogOffset) this.current = state;
        },
        version: version ?? 0,
        ...(options.commitRetryMs === undefined ? {} : { retryMs: options.commitRetryMs }),
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      });
      if (!readOnly) {
        const data = this.data;
        this.filters = new KeyFilters(this.entryCount(), (start, limit) =>
          data.getKeys(start === undefined ? { limit } : { start, exclusiveStart: true, limit }),
        );
      }
    } catch (err) {
      void this.env.close();
      throw err;
    }
  }

  private entryCount(): number {
    const stats = this.data.getStats() as { entryCount?: unknown };
    return typeof stats.entryCount === "number" ? stats.entryCount : 0;
  }

  /** False only when `key` (whose hashKey is `hash`) is certainly not in the store. */
  mayContain(hash: number): boolean {
    return this.filters === null || this.filters.mayContain(hash);
  }

  /** Open (or, unless `readOnly`, create) the store in `dir`. */
  static open(dir: string, options: KvStoreOptions = {}): KvStore {
    try {
      if (!options.readOnly) fs.mkdirSync(dir, { recursive: true });
      return new KvStore(dir, options);
    } catch (err) {
      throw kvError("open", dir, err);
    }
  }

  /** True when `dir` holds a store's data file. */
  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, DATA_FILE));
  }

  /** Why the data file in `dir` is not an lmdb environment, or null (kv-format.ts checkHeader). */
  static checkHeader(dir: string): string | null {
    return checkHeader(dir);
  }

  /** The committed state. */
  get state(): KvStoreState {
    return this.current;
  }

  /** The state once every queued write has committed (the committed state when none is queued). */
  get queuedState(): KvStoreState {
    return this.queued;
  }

  /**
   * Why the last commit failed (STORAGE_EXCEPTION for a full disk), or null once a commit has
   * succeeded since. The failed writes are queued and retried; reads keep working.
   */
  get commitFailure(): FlussError | null {
    const cause = this.commits.failure;
    if (cause === null) return null;
    if (this.failure === null || this.failure.cause !== cause) {
      this.failure = { cause, error: kvError("commit", this.dir, cause) };
    }
    return this.failure.error;
  }

  /** True while asynchronous writes are queued or committing. */
  get pending(): boolean {
    return this.commits.pending;
  }

  private assertOpen(): void {
    if (this.closed) throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `kv store ${this.dir} is closed`);
  }

  /** The damage found under `key`, reported once to onCorrupt. */
  private corrupt(key: Uint8Array): FlussError {
    const shown = Buffer.from(key.subarray(0, KEY_SHOWN_BYTES)).toString("hex");
    const err = new FlussError(
      Errors.CORRUPT_RECORD_EXCEPTION,
      `kv store ${this.dir} is damaged: the entry of key 0x${shown}${key.length > KEY_SHOWN_BYTES ? "..." : ""} fails its checksum`,
    );
    if (this.corruption === null) {
      this.corruption = err;
      this.onCorrupt?.(err);
    }
    return err;
  }

  /** The first damage found by a read, or null. */
  get corrupted(): FlussError | null {
    return this.corruption;
  }

  /** The value inside a stored value of `key` (a view into `stored`), or throws the damage. */
  private checked(key: Uint8Array, stored: Uint8Array, length: number): Uint8Array {
    const n = length - CHECKSUM_BYTES;
    if (n >= 0) {
      const value = stored.subarray(0, n);
      const sum =
        (stored[n]! | (stored[n + 1]! << 8) | (stored[n + 2]! << 16) | (stored[n + 3]! << 24)) >>> 0;
      if (entryChecksum(key, value) === sum) return value;
    }
    throw this.corrupt(key);
  }

  /** The stored value of `key` (a copy), or null. */
  get(key: Uint8Array): Uint8Array | null {
    const view = this.getFast(key);
    return view === null ? null : copy(view);
  }

  /** Like get, but the result is only valid until the next read of this store. */
  getFast(key: Uint8Array): Uint8Array | null {
    this.assertOpen();
    let fast: Buffer | undefined;
    try {
      fast = this.data.getBinaryFast(key);
    } catch (err) {
      throw kvError("get", this.dir, err);
    }
    // lmdb reuses one large buffer and overrides its `length`: the value is its first `length` bytes.
    return fast === undefined ? null : this.checked(key, fast, fast.length);
  }

  /** Apply `writes` in order and set the state, in one transaction (all or nothing). */
  write(writes: Iterable<KvWrite>, state: KvStoreState): void {
    this.assertOpen();
    assert(!this.pending, "no synchronous write while asynchronous writes are queued");
    assert(state.appliedLogOffset >= this.current.appliedLogOffset, "the applied log offset never decreases");
    const batch = sealBatch([...writes]);
    const { data, filters } = this;
    try {
      this.env.transactionSync(() => {
        putBatch(
          batch,
          (key, value) => {
            filters?.add(hashKey(key)); // before the put: a superset even if it fails
            data.putSync(key, value);
          },
          (key) => data.removeSync(key),
        );
        this.meta.putSync(META_KEY, encodeState(state));
      });
    } catch (err) {
      throw kvError("write", this.dir, err);
    }
    this.current = state;
    this.queued = state;
  }

  /**
   * Queue `writes` in order and then `state`; they commit on lmdb's write thread (with the writes
   * queued before them, and after them while a commit runs). Resolves true once they have
   * committed (after retries, when a commit fails), false when the store closes first. The
   * values are copied (sealed) here.
   */
  writeAsync(writes: readonly KvWrite[], state: KvStoreState): Promise<boolean> {
    this.assertOpen();
    assert(state.appliedLogOffset >= this.queued.appliedLogOffset, "the applied log offset never decreases");
    // lmdb refuses a bad key only once earlier writes are queued: check them all before any. The
    // filters learn each key in the same pass (a refused batch leaves them a superset).
    const filters = this.filters;
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const n = w.key.byteLength;
      if (n === 0 || n > KV_KEY_BYTES_MAX) {
        throw new FlussError(
          Errors.KV_STORAGE_EXCEPTION,
          `write to kv store ${this.dir} refused: a key of ${n} bytes (1..${KV_KEY_BYTES_MAX} allowed)`,
        );
      }
      if (filters === null || w.value === null) continue;
      const hash = w.hash ?? hashKey(w.key);
      if (w.absent === true) filters.addAbsent(hash);
      else filters.add(hash); // a superset
    }
    const batch = sealBatch(writes);
    this.queued = state;
    return this.commits.enqueue(batch, state);
  }

  /**
   * The commit queue's seam to lmdb: `writes` and `state` as one lmdb batch (one transaction,
   * committed on lmdb's write thread); resolves null once committed, else the cause.
   */
  private commit(
    batches: readonly SealedBatch[],
    state: KvStoreState,
    expect: number,
    next: number,
  ): Promise<unknown> {
    const { data, meta } = this;
    const chain = this.chain;
    assert(chain !== null, "a read-only store commits nothing");
    return commitOutcome(
      chain.ifVersion(CHAIN_KEY, expect, () => {
        const put = (key: Uint8Array, value: Uint8Array): void => void data.put(key, value);
        const remove = (key: Uint8Array): void => void data.remove(key);
        for (const batch of batches) putBatch(batch, put, remove);
        void meta.put(META_KEY, encodeState(state));
        void chain.put(CHAIN_KEY, EMPTY, next);
      }),
    );
  }

  /** Retry a failed commit now instead of at its timer. */
  retryCommit(): void {
    this.commits.retryNow();
  }

  /**
   * Resolves true once every write queued so far has committed, false as soon as a commit fails
   * first (the store is then behind: see commitFailure; the writes are retried).
   */
  whenCommitted(): Promise<boolean> {
    return this.commits.whenCommitted();
  }

  /** Entries whose key starts with `prefix`, in key order (copies). */
  *prefixScan(prefix: Uint8Array, limit = Number.MAX_SAFE_INTEGER): Generator<KvEntry> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    const range = end === null ? { start: prefix, limit } : { start: prefix, end, limit };
    yield* this.range(range);
  }

  /** All entries in key order, at most `limit` (copies). */
  *scan(limit = Number.MAX_SAFE_INTEGER): Generator<KvEntry> {
    this.assertOpen();
    yield* this.range({ limit });
  }

  private *range(options: { start?: Uint8Array; end?: Uint8Array; limit: number }): Generator<KvEntry> {
    let entries: Iterable<{ key: Uint8Array; value: Uint8Array }>;
    try {
      entries = this.data.getRange({ ...options, snapshot: true });
    } catch (err) {
      throw kvError("scan", this.dir, err);
    }
    yield* this.checkedEntries(entries);
  }

  /** Copies of `entries` whose checksums hold (throws at the first that fails). */
  private *checkedEntries(entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): Generator<KvEntry> {
    const it = entries[Symbol.iterator]();
    for (;;) {
      let next: IteratorResult<{ key: Uint8Array; value: Uint8Array }>;
      try {
        this.assertOpen();
        next = it.next();
      } catch (err) {
        throw kvError("scan", this.dir, err);
      }
      if (next.done === true) return;
      const { key, value } = next.value;
      yield { key: copy(key), value: copy(this.checked(key, value, value.length)) };
    }
  }

  /**
   * A consistent view for a long scan: the state and every entry as of one read transaction.
   * The transaction is released when the iteration ends (completes, breaks or throws); an
   * iterator abandoned half-way keeps it (and old pages) until the store closes.
   */
  snapshotScan(): { state: KvStoreState; entries: Generator<KvEntry> } {
    this.assertOpen();
    const txn = this.env.useReadTransaction();
    let state: KvStoreState;
    let range: Iterable<{ key: Uint8Array; value: Uint8Array }>;
    try {
      state = decodeState(this.meta.get(META_KEY, { transaction: txn })).state;
      range = this.data.getRange({ transaction: txn });
    } catch (err) {
      txn.done();
      throw kvError("scan", this.dir, err);
    }
    const store = this;
    function* entries(): Generator<KvEntry> {
      try {
        yield* store.checkedEntries(range);
      } finally {
        txn.done();
      }
    }
    return { state, entries: entries() };
  }

  /** Every entry's checksum checked; the first damage found, or null. */
  verify(): FlussError | null {
    try {
      for (const _ of this.scan()) {
        // checked by the scan
      }
      return null;
    } catch (err) {
      if (isFlussError(err) && err.is(Errors.CORRUPT_RECORD_EXCEPTION)) return err;
      throw err;
    }
  }

  /** Number of keys (an lmdb count; walks the tree). */
  count(): number {
    this.assertOpen();
    return this.data.getKeysCount();
  }

  /** A consistent hot copy of the whole environment into `targetDir` (created, must be empty). */
  async backup(targetDir: string): Promise<void> {
    this.assertOpen();
    try {
      fs.mkdirSync(targetDir, { recursive: true });
      await this.env.backup(targetDir, false);
    } catch (err) {
      throw kvError("backup", this.dir, err);
    }
  }

  /**
   * Close the store after the running commit settles. Writes still queued (a failed commit's) are
   * dropped: the store stays at its committed state and the changelog replay restores them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.filters?.stop();
    await this.commits.close();
    try {
      await this.env.close();
    } catch (err) {
      throw kvError("close", this.dir, err);
    }
  }
}
