// The KV store of one bucket: a thin wrapper over one lmdb environment holding two named
// databases, `data` (binary key → stored value: i16 schema id + row) and `meta` (the state the
// data corresponds to: the applied log offset and the row count). Data and meta are always
// written in the same transaction, so the store is at every commit exactly "the changelog below
// appliedLogOffset, applied". Commits are not fsynced (noSync, written through the memory map):
// they survive a process crash (the page cache has them), durability across an OS crash comes
// from the log and remote snapshots, and a store that is missing, unreadable, left open by an
// earlier boot or ahead of its log is rebuilt (see kv-open.ts). Reads are synchronous.
// Writes come two ways: write() runs one synchronous transaction (recovery at open), and
// writeAsync() queues the puts on lmdb's write thread, which commits everything queued in one
// turn of the event loop as one transaction (the state last, so an lmdb-split batch leaves data
// at most ahead of its state, which the changelog replay from that state repairs). The B-tree
// work then runs beside the event loop; `state` is what is committed, `queuedState` what will
// be once the queue drains, and whenCommitted() waits for that. A failed commit fails the
// store: every later call throws that failure.
// Invariants: keys are 1..KV_KEY_BYTES_MAX bytes; appliedLogOffset never decreases through
// write(); values handed out by get/scan are copies (getFast's view is valid until the next get);
// value bytes given to writeAsync() stay unchanged until their commit; write() never runs while
// an asynchronous write is pending (lmdb would split that batch).
// Every lmdb failure leaves as FlussError(KV_STORAGE_EXCEPTION) naming the directory.
// A writable store keeps Bloom filters of its keys (key-filter.ts), filled by write() and, for
// the keys already there at open, by a scan in chunks (the first at open, the rest on later
// turns of the event loop); once the scan is done, mayContain(hash) === false proves a key
// absent without an lmdb lookup. When the newest filter reaches its capacity a filter four times
// as big is added for the keys that follow (a scalable Bloom filter: no rescans).

import fs from "node:fs";
import path from "node:path";
import { assert, copyBytes, Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { type Database, open, type RootDatabase } from "lmdb";
import { KeyFilter } from "./key-filter.ts";
import { hashKey } from "./key-index.ts";

/** lmdb's largest key (bytes). */
export const KV_KEY_BYTES_MAX = 1978;
const DATA_FILE = "data.mdb";
const META_KEY = Buffer.from("state", "utf8");
const META_VERSION = 1;
// lmdb's first meta page: a 24-byte page header, then magic, version, ..., and the free-list
// database record whose first field holds the page size.
const META_HEADER_BYTES = 64;
const META_MAGIC_AT = 24;
const META_VERSION_AT = 28;
const META_PAGE_SIZE_AT = 48;
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_VERSION = 2;
/** Smallest key filter (keys: 16 KiB); the first is sized for twice the keys found at open. */
const FILTER_CAPACITY_MIN = 1 << 13;
/** Capacity of each added filter relative to the newest one. */
const FILTER_GROWTH = 4;
/** Keys the filter scan reads per turn of the event loop. */
const FILTER_SCAN_KEYS = 50_000;

export interface KvStoreState {
  /** Every changelog record below this log offset is applied. */
  readonly appliedLogOffset: bigint;
  /** Rows in the store, null when not tracked (WAL changelog image). */
  readonly rowCount: bigint | null;
}

export interface KvWrite {
  readonly key: Uint8Array;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
  /** hashKey(key), when the caller has it already. */
  readonly hash?: number;
}

export interface KvEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

function kvError(action: string, dir: string, cause: unknown): FlussError {
  if (isFlussError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FlussError(Errors.KV_STORAGE_EXCEPTION, `${action} of kv store ${dir} failed: ${reason}`, {
    cause,
  });
}

function encodeState(state: KvStoreState): Buffer {
  const doc = {
    version: META_VERSION,
    appliedLogOffset: state.appliedLogOffset.toString(),
    rowCount: state.rowCount === null ? null : state.rowCount.toString(),
  };
  return Buffer.from(JSON.stringify(doc), "utf8");
}

function decodeState(bytes: Uint8Array | undefined): KvStoreState {
  if (bytes === undefined) return { appliedLogOffset: 0n, rowCount: 0n };
  const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  const offset = doc.appliedLogOffset;
  const rows = doc.rowCount;
  if (doc.version !== META_VERSION || typeof offset !== "string" || !/^[0-9]{1,20}$/.test(offset)) {
    throw new Error("malformed kv store state");
  }
  if (rows !== null && (typeof rows !== "string" || !/^-?[0-9]{1,20}$/.test(rows))) {
    throw new Error("malformed kv store row count");
  }
  return { appliedLogOffset: BigInt(offset), rowCount: rows === null ? null : BigInt(rows) };
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
  private readonly env: RootDatabase<Uint8Array, Uint8Array>;
  private readonly data: Database<Uint8Array, Uint8Array>;
  private readonly meta: Database<Uint8Array, Uint8Array>;
  private current: KvStoreState;
  /** The state once every queued asynchronous write has committed. */
  private queued: KvStoreState;
  /** Asynchronous writes queued and not settled. */
  private pendingWrites = 0;
  /** Settles when the newest queued asynchronous write has (never rejects; see failure). */
  private lastCommit: Promise<void> = Promise.resolve();
  private failure: FlussError | null = null;
  private closed = false;
  /** Key filters, oldest first (new keys go to the last); empty for a read-only store. */
  private filters: KeyFilter[] = [];
  /** True once the open-time scan put every stored key in the filters. */
  private filtersReady = false;

  private constructor(dir: string, readOnly: boolean) {
    this.dir = dir;
    const options = { keyEncoding: "binary", encoding: "binary" } as const;
    this.env = open<Uint8Array, Uint8Array>({
      path: dir,
      noSync: true,
      useWritemap: !readOnly,
      maxDbs: 2,
      readOnly,
      ...options,
    });
    try {
      this.data = this.env.openDB<Uint8Array, Uint8Array>({ name: "data", ...options });
      this.meta = this.env.openDB<Uint8Array, Uint8Array>({ name: "meta", ...options });
      this.current = decodeState(this.meta.getBinary(META_KEY));
      this.queued = this.current;
      if (!readOnly) this.startFilters(this.entryCount());
    } catch (err) {
      void this.env.close();
      throw err;
    }
  }

  private entryCount(): number {
    const stats = this.data.getStats() as { entryCount?: unknown };
    return typeof stats.entryCount === "number" ? stats.entryCount : 0;
  }

  /** Start the filters: the stored keys go in chunk by chunk (see the file comment). */
  private startFilters(keys: number): void {
    this.filters = [new KeyFilter(Math.max(FILTER_CAPACITY_MIN, 2 * keys))];
    let start: Uint8Array | undefined;
    const step = (): void => {
      if (this.closed || this.filters.length === 0) return;
      let n = 0;
      try {
        const range = start === undefined ? {} : { start, exclusiveStart: true };
        for (const key of this.data.getKeys({ ...range, limit: FILTER_SCAN_KEYS })) {
          this.addKey(hashKey(key));
          start = key;
          n++;
        }
      } catch {
        this.filters = []; // no filters: lookups simply go to the store
        return;
      }
      if (n < FILTER_SCAN_KEYS) this.filtersReady = true;
      else setImmediate(step).unref();
    };
    step();
  }

  private filtersContain(hash: number): boolean {
    const filters = this.filters;
    for (let i = filters.length - 1; i >= 0; i--) if (filters[i]!.mayContain(hash)) return true;
    return false;
  }

  /** Record a stored key in the filters (a key they may hold already is left alone). */
  private addKey(hash: number): void {
    const filters = this.filters;
    if (filters.length === 0 || (this.filtersReady && this.filtersContain(hash))) return;
    let newest = filters[filters.length - 1]!;
    if (newest.added >= newest.capacity) {
      newest = new KeyFilter(FILTER_GROWTH * newest.capacity);
      filters.push(newest);
    }
    newest.add(hash);
  }

  /** False only when `key` (whose hashKey is `hash`) is certainly not in the store. */
  mayContain(hash: number): boolean {
    return !this.filtersReady || this.filtersContain(hash);
  }

  /** Open (or, unless `readOnly`, create) the store in `dir`. */
  static open(dir: string, options: { readOnly?: boolean } = {}): KvStore {
    try {
      if (!options.readOnly) fs.mkdirSync(dir, { recursive: true });
      return new KvStore(dir, options.readOnly === true);
    } catch (err) {
      throw kvError("open", dir, err);
    }
  }

  /** True when `dir` holds a store's data file. */
  static exists(dir: string): boolean {
    return fs.existsSync(path.join(dir, DATA_FILE));
  }

  /**
   * Why the data file in `dir` is not an lmdb environment, or null when its header checks out.
   * lmdb trusts its file (a garbage file can crash the process), so this runs before open.
   */
  static checkHeader(dir: string): string | null {
    const file = path.join(dir, DATA_FILE);
    const head = Buffer.alloc(META_HEADER_BYTES);
    const fd = fs.openSync(file, "r");
    try {
      const n = fs.readSync(fd, head, 0, head.length, 0);
      if (n < META_HEADER_BYTES) return `${DATA_FILE} is too short (${n} bytes)`;
      const pageBytes = head.readUInt32LE(META_PAGE_SIZE_AT);
      const valid = (at: number): boolean =>
        head.readUInt32LE(at + META_MAGIC_AT) === LMDB_MAGIC &&
        head.readUInt32LE(at + META_VERSION_AT) === LMDB_VERSION;
      if (!valid(0)) return `${DATA_FILE} does not start with an lmdb meta page`;
      if (pageBytes < 512 || pageBytes > 65536 || (pageBytes & (pageBytes - 1)) !== 0) {
        return `${DATA_FILE} has an impossible page size ${pageBytes}`;
      }
      if (fs.fstatSync(fd).size < 2 * pageBytes) return `${DATA_FILE} is shorter than its two meta pages`;
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The committed state. */
  get state(): KvStoreState {
    return this.current;
  }

  /** The state once every queued write has committed (the committed state when none is pending). */
  get queuedState(): KvStoreState {
    return this.queued;
  }

  /** The failure of an asynchronous commit, or null. */
  get failed(): FlussError | null {
    return this.failure;
  }

  private assertOpen(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `kv store ${this.dir} is closed`);
  }

  /** The stored value of `key` (a copy), or null. */
  get(key: Uint8Array): Uint8Array | null {
    this.assertOpen();
    try {
      const fast = this.data.getBinaryFast(key);
      return fast === undefined ? null : Uint8Array.prototype.slice.call(fast, 0, fast.length);
    } catch (err) {
      throw kvError("get", this.dir, err);
    }
  }

  /** Like get, but the result is only valid until the next read of this store. */
  getFast(key: Uint8Array): Uint8Array | null {
    this.assertOpen();
    try {
      const fast = this.data.getBinaryFast(key);
      // lmdb reuses one large buffer and overrides its `length`; cut the view to the value.
      return fast === undefined ? null : fast.subarray(0, fast.length);
    } catch (err) {
      throw kvError("get", this.dir, err);
    }
  }

  /** Apply `writes` in order and set the state, in one transaction (all or nothing). */
  write(writes: Iterable<KvWrite>, state: KvStoreState): void {
    this.assertOpen();
    assert(this.pendingWrites === 0, "no synchronous write while asynchronous writes are pending");
    assert(state.appliedLogOffset >= this.current.appliedLogOffset, "the applied log offset never decreases");
    const filtered = this.filters.length > 0;
    try {
      this.env.transactionSync(() => {
        for (const w of writes) {
          if (w.value === null) this.data.removeSync(w.key);
          else {
            if (filtered) this.addKey(w.hash ?? hashKey(w.key)); // before the put: a superset even if it fails
            this.data.putSync(w.key, w.value);
          }
        }
        this.meta.putSync(META_KEY, encodeState(state));
      });
    } catch (err) {
      throw kvError("write", this.dir, err);
    }
    this.current = state;
    this.queued = state;
  }

  /**
   * Queue `writes` in order and then `state` on lmdb's write thread; they commit together after
   * this turn of the event loop. The returned promise settles on that commit and never rejects:
   * a failed commit fails the store (see `failed`). Value bytes must not change until then.
   */
  writeAsync(writes: readonly KvWrite[], state: KvStoreState): Promise<void> {
    this.assertOpen();
    assert(state.appliedLogOffset >= this.queued.appliedLogOffset, "the applied log offset never decreases");
    // lmdb refuses a bad key only once earlier writes are queued: check them all before any.
    for (const w of writes) {
      const n = w.key.byteLength;
      if (n === 0 || n > KV_KEY_BYTES_MAX) {
        throw new FlussError(
          Errors.KV_STORAGE_EXCEPTION,
          `write to kv store ${this.dir} refused: a key of ${n} bytes (1..${KV_KEY_BYTES_MAX} allowed)`,
        );
      }
    }
    const filtered = this.filters.length > 0;
    // lmdb hands every unconditional write of one transaction the same promise: one handler each.
    let seen: Promise<boolean> | null = null;
    const fail = (err: unknown): void => {
      this.failure ??= kvError("write", this.dir, err);
    };
    let last: Promise<boolean>;
    try {
      for (const w of writes) {
        let p: Promise<boolean>;
        if (w.value === null) p = this.data.remove(w.key);
        else {
          if (filtered) this.addKey(w.hash ?? hashKey(w.key)); // before the put: a superset even if it fails
          p = this.data.put(w.key, w.value);
        }
        if (p !== seen) {
          seen = p;
          p.catch(fail);
        }
      }
      last = this.meta.put(META_KEY, encodeState(state));
    } catch (err) {
      // What was queued may still commit, ahead of the state (repaired by replay at open); close()
      // waits for it.
      if (seen !== null) void this.track(seen, fail);
      fail(err);
      throw this.failure;
    }
    this.queued = state;
    return this.track(last, fail, () => {
      if (state.appliedLogOffset > this.current.appliedLogOffset) this.current = state;
    });
  }

  /** Count `commit` as pending until it settles; it becomes the one whenCommitted() waits for. */
  private track(commit: Promise<boolean>, fail: (err: unknown) => void, ok?: () => void): Promise<void> {
    this.pendingWrites++;
    const done = commit.then(ok, fail).finally(() => {
      this.pendingWrites--;
    });
    this.lastCommit = done;
    return done;
  }

  /** Resolves once every write queued so far has committed; rejects with the store's failure. */
  async whenCommitted(): Promise<void> {
    if (this.pendingWrites > 0) await this.lastCommit;
    if (this.failure !== null) throw this.failure;
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
    try {
      for (const { key, value } of this.data.getRange({ ...options, snapshot: true })) {
        yield { key: copy(key), value: copy(value) };
      }
    } catch (err) {
      throw kvError("scan", this.dir, err);
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
    try {
      state = decodeState(this.meta.get(META_KEY, { transaction: txn }));
    } catch (err) {
      txn.done();
      throw kvError("scan", this.dir, err);
    }
    const data = this.data;
    const dir = this.dir;
    function* entries(): Generator<KvEntry> {
      try {
        for (const { key, value } of data.getRange({ transaction: txn })) {
          yield { key: copy(key), value: copy(value) };
        }
      } catch (err) {
        throw kvError("scan", dir, err);
      } finally {
        txn.done();
      }
    }
    return { state, entries: entries() };
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lastCommit;
    try {
      await this.env.close();
    } catch (err) {
      throw kvError("close", this.dir, err);
    }
  }
}
