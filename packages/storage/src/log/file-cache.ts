// A bounded cache of open file descriptors (an LRU), shared by every log tablet of a server.
// Segment and index files — active or not — own no descriptor: each is a CachedFile that opens
// its file on first use and that the cache may close whenever nobody is using it, least recently
// used first. So a server hosts any number of log buckets and segments within `openFilesMax`
// descriptors, and hot files (active segments being appended to and read) stay open.
// Use: `use(fn)` runs a synchronous `fn(fd)` with the descriptor pinned (never closed during the
// call); `useAsync(fn)` pins it across an asynchronous operation (an fdatasync on the thread pool).
// Invariants:
//  - open descriptors <= openFilesMax at all times: an open first closes the least recently used
//    unpinned descriptor when the cache is full;
//  - a pinned descriptor is never closed; at most `asyncPinsMax` (half the bound) asynchronous
//    operations hold pins at once — later ones wait in FIFO order — and synchronous pins nest at
//    most `syncDepthMax` deep, so an open always finds a descriptor to close (asserted);
//  - a CachedFile reopens with `reopenFlags` (never creating or truncating again), and once
//    closed it is never reopened.
// Out of descriptors anyway (EMFILE/ENFILE at open: sockets, lmdb or other processes took them):
// the open closes least recently used descriptors and retries; with none left to close it fails
// with a retriable STORAGE_EXCEPTION naming the file, so one request fails instead of the server.
// Durability: closing a descriptor loses no data (dirty pages belong to the file, not to the
// descriptor), and an fdatasync through a reopened descriptor flushes what earlier ones wrote; on
// Linux >= 4.16 a writeback error nobody has seen yet is reported to a descriptor opened after it.
// (If the kernel evicts the inode of a file with no open descriptor after a failed writeback, the
// error is lost: with log.flush.mode=always an append is fdatasync'ed before it is acknowledged,
// and recently written files are the last to be closed.)

import fs from "node:fs";
import { assert, Errors, FlussError } from "@fluss-ts/common";
import { fileCacheOpenFilesDefault, fileCacheOpenFilesMin, fileCacheWaitersMax } from "./constants.ts";
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsync,
  readFully,
  readFullySync,
  storageError,
  truncateSync,
  writeFullySync,
} from "./file-io.ts";

export type OpenFlags = string | number;

/** Read-write, no create: how cached files reopen (a file deleted meanwhile is not recreated). */
export const openReadWrite = fs.constants.O_RDWR;

/** Size of the file at `file`; 0 when it does not exist. */
export function pathSizeOrZeroSync(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw storageError("stat", file, err);
  }
}

export interface FileCacheOptions {
  /** Descriptors the cache keeps open at most (>= fileCacheOpenFilesMin). */
  readonly openFilesMax: number;
  /** Opens a file; tests inject failures (default fs.openSync). */
  readonly open?: (path: string, flags: OpenFlags) => number;
}

export interface FileCacheStats {
  /** Descriptors open now. */
  readonly openFiles: number;
  readonly openFilesMax: number;
  /** The most descriptors ever open at once; never above openFilesMax. */
  readonly openFilesPeak: number;
  /** Opens so far (first opens and reopens after an eviction). */
  readonly opens: number;
  /** Descriptors closed to make room (the bound, or EMFILE/ENFILE at open). */
  readonly evictions: number;
  /** Opens that met EMFILE/ENFILE and were retried after closing a descriptor. */
  readonly outOfDescriptors: number;
  /** Asynchronous operations holding a pin now, and waiting for one. */
  readonly asyncPins: number;
  readonly asyncWaiting: number;
}

/** Synchronous pins in progress at once (uses are leaf calls; a little nesting is tolerated). */
const syncDepthMax = 2;
const outOfDescriptorCodes: ReadonlySet<string> = new Set(["EMFILE", "ENFILE"]);

/** How deep `isOutOfDescriptors` follows `cause` links. */
const causeDepthMax = 8;

/** True when `err` (or an error it wraps) says the process or system has no descriptor left. */
export function isOutOfDescriptors(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < causeDepthMax && e instanceof Error; depth++) {
    const code: unknown = (e as { code?: unknown }).code;
    if (typeof code === "string" && outOfDescriptorCodes.has(code)) return true;
    e = e.cause;
  }
  return false;
}

export class FileCache {
  readonly openFilesMax: number;
  /** Asynchronous operations that may hold pins at once. */
  readonly asyncPinsMax: number;
  private readonly openFile: (path: string, flags: OpenFlags) => number;
  /** Open, unpinned files: most recently used at the head, eviction from the tail. */
  private head: CachedFile | null = null;
  private tail: CachedFile | null = null;
  private openCount = 0;
  private peak = 0;
  private opensTotal = 0;
  private evictionsTotal = 0;
  private outOfDescriptorsTotal = 0;
  private syncDepth = 0;
  private asyncPins = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(options: FileCacheOptions) {
    const max = options.openFilesMax;
    assert(
      Number.isSafeInteger(max) && max >= fileCacheOpenFilesMin,
      `a file cache holds at least ${fileCacheOpenFilesMin} descriptors`,
    );
    this.openFilesMax = max;
    this.asyncPinsMax = Math.floor(max / 2);
    this.openFile = options.open ?? ((path, flags) => fs.openSync(path, flags));
  }

  /**
   * A file opened on first use with `flags`, and with `reopenFlags` after the cache closed it
   * (default: `flags`). Give creating flags (O_CREAT, O_EXCL, O_TRUNC) only as `flags`.
   */
  file(path: string, flags: OpenFlags, reopenFlags: OpenFlags = flags): CachedFile {
    return new CachedFile(this, path, flags, reopenFlags);
  }

  stats(): FileCacheStats {
    return {
      openFiles: this.openCount,
      openFilesMax: this.openFilesMax,
      openFilesPeak: this.peak,
      opens: this.opensTotal,
      evictions: this.evictionsTotal,
      outOfDescriptors: this.outOfDescriptorsTotal,
      asyncPins: this.asyncPins,
      asyncWaiting: this.waiters.length,
    };
  }

  /** Open `file`'s descriptor, closing least recently used ones to stay within the bound. */
  openFor(file: CachedFile, flags: OpenFlags): number {
    while (this.openCount >= this.openFilesMax) {
      assert(this.evictOne(), "a full file cache has an unpinned descriptor to close");
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = this.openFile(file.path, flags);
        this.openCount++;
        this.opensTotal++;
        if (this.openCount > this.peak) this.peak = this.openCount;
        return fd;
      } catch (err) {
        if (!isOutOfDescriptors(err)) throw storageError("open", file.path, err);
        this.outOfDescriptorsTotal++;
        if (attempt >= this.openFilesMax || !this.evictOne()) {
          throw new FlussError(
            Errors.STORAGE_EXCEPTION,
            `open ${file.path} failed: the process is out of file descriptors (${(err as Error).message}) with none of the log's ${this.openCount} to spare; raise the open files limit (ulimit -n) or lower log.open-files.max`,
            { cause: err },
          );
        }
      }
    }
  }

  /** Close the least recently used unpinned descriptor; false when every open one is pinned. */
  private evictOne(): boolean {
    const victim = this.tail;
    if (victim === null) return false;
    this.unlink(victim);
    this.evictionsTotal++;
    victim.dropDescriptor(false);
    return true;
  }

  /** `file`'s descriptor was closed (evicted, or the file closed). */
  descriptorClosed(): void {
    assert(this.openCount > 0, "a closed descriptor was counted open");
    this.openCount--;
  }

  pushFront(file: CachedFile): void {
    file.prev = null;
    file.next = this.head;
    if (this.head !== null) this.head.prev = file;
    this.head = file;
    if (this.tail === null) this.tail = file;
  }

  unlink(file: CachedFile): void {
    if (file.prev !== null) file.prev.next = file.next;
    else if (this.head === file) this.head = file.next;
    if (file.next !== null) file.next.prev = file.prev;
    else if (this.tail === file) this.tail = file.prev;
    file.prev = null;
    file.next = null;
  }

  enterSync(): void {
    assert(this.syncDepth < syncDepthMax, "synchronous file uses do not nest deeply");
    this.syncDepth++;
  }

  leaveSync(): void {
    this.syncDepth--;
  }

  /** Take an asynchronous pin slot now (true) or get in line for one (false: call `waitAsync`). */
  tryTakeAsync(): boolean {
    if (this.asyncPins >= this.asyncPinsMax || this.waiters.length > 0) return false;
    this.asyncPins++;
    return true;
  }

  /** Resolves once an asynchronous pin slot is this caller's (FIFO). */
  waitAsync(): Promise<void> {
    assert(this.waiters.length < fileCacheWaitersMax, "file cache waiters are bounded");
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  releaseAsync(): void {
    assert(this.asyncPins > 0, "an asynchronous pin is released once");
    const next = this.waiters.shift();
    if (next === undefined) this.asyncPins--;
    else next(); // the slot passes straight to the next waiter
  }
}

/** One file behind the cache: opened on demand, closable by the cache whenever it is not pinned. */
export class CachedFile {
  readonly path: string;
  private readonly cache: FileCache;
  private readonly firstFlags: OpenFlags;
  private readonly reopenFlags: OpenFlags;
  private fd = -1;
  private pins = 0;
  private opened = false;
  private closed = false;
  /** The file was deleted: an fdatasync with no descriptor open has nothing worth flushing. */
  private unlinked = false;
  /** LRU links (owned by the cache; non-null only while open and unpinned). */
  prev: CachedFile | null = null;
  next: CachedFile | null = null;

  constructor(cache: FileCache, path: string, flags: OpenFlags, reopenFlags: OpenFlags) {
    this.cache = cache;
    this.path = path;
    this.firstFlags = flags;
    this.reopenFlags = reopenFlags;
  }

  /** The descriptor is open now (for tests and stats). */
  get isOpen(): boolean {
    return this.fd >= 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private pin(): number {
    assert(!this.closed, "a closed file is not used");
    if (this.fd < 0) {
      this.fd = this.cache.openFor(this, this.opened ? this.reopenFlags : this.firstFlags);
      this.opened = true;
    } else if (this.pins === 0) {
      this.cache.unlink(this);
    }
    this.pins++;
    return this.fd;
  }

  private unpin(): void {
    assert(this.pins > 0, "unpin follows pin");
    this.pins--;
    if (this.pins > 0) return;
    if (this.closed) this.dropDescriptor(true);
    else this.cache.pushFront(this);
  }

  /** Open the file now (creating it when its first flags say so); it stays cached. */
  ensureOpen(): void {
    this.use(() => undefined);
  }

  /** Run `fn` with the open descriptor; it is not closed until `fn` returns. */
  use<T>(fn: (fd: number) => T): T {
    this.cache.enterSync();
    try {
      const fd = this.pin();
      try {
        return fn(fd);
      } finally {
        this.unpin();
      }
    } finally {
      this.cache.leaveSync();
    }
  }

  /** Run the asynchronous `fn` with the open descriptor, pinned until it settles. */
  useAsync<T>(fn: (fd: number) => Promise<T>): Promise<T> {
    if (this.cache.tryTakeAsync()) return this.runPinned(fn);
    return this.cache.waitAsync().then(() => this.runPinned(fn));
  }

  /** `skipped` is returned, without opening anything, when the file was deleted and is not open. */
  private async runPinned<T>(fn: (fd: number) => Promise<T>, skipped?: T): Promise<T> {
    let fd: number;
    try {
      if (skipped !== undefined && this.unlinked && this.fd < 0) {
        this.cache.releaseAsync();
        return skipped;
      }
      if (this.closed) throw storageError("use", this.path, new Error("the file was closed"));
      fd = this.pin();
    } catch (err) {
      this.cache.releaseAsync();
      throw err;
    }
    try {
      return await fn(fd);
    } finally {
      this.unpin();
      this.cache.releaseAsync();
    }
  }

  /** Fill `buf` from `position`; the bytes read (fewer only at the end of the file). */
  read(buf: Uint8Array, position: number): number {
    return this.use((fd) => readFullySync(fd, this.path, buf, position));
  }

  /** read() on the thread pool (the descriptor pinned until it settles). */
  readAsync(buf: Uint8Array, position: number): Promise<number> {
    return this.useAsync((fd) => readFully(fd, this.path, buf, position));
  }

  write(bytes: Uint8Array, position: number): void {
    this.use((fd) => writeFullySync(fd, this.path, bytes, position));
  }

  truncate(sizeBytes: number): void {
    this.use((fd) => truncateSync(fd, this.path, sizeBytes));
  }

  datasyncSync(): void {
    this.use((fd) => fdatasyncSync(fd, this.path));
  }

  /**
   * fdatasync on the thread pool. A file deleted (`markUnlinked`) while this waited for a pin and
   * whose descriptor was closed meanwhile is not reopened: there is nothing of it left to keep.
   */
  datasync(): Promise<void> {
    const sync = (fd: number): Promise<boolean> => fdatasync(fd, this.path).then(() => true);
    if (this.cache.tryTakeAsync()) return this.runPinned(sync, false).then(() => undefined);
    return this.cache
      .waitAsync()
      .then(() => this.runPinned(sync, false))
      .then(() => undefined);
  }

  /** fsync on the thread pool (for a directory: makes its entries durable). */
  fsync(): Promise<void> {
    return this.useAsync((fd) => fsync(fd, this.path));
  }

  /** The file was deleted (its descriptor, if open, stays valid until closed). */
  markUnlinked(): void {
    this.unlinked = true;
  }

  /** Close for good: now, or when the last pin is released. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd < 0 || this.pins > 0) return;
    this.cache.unlink(this);
    this.dropDescriptor(true);
  }

  /**
   * Close the descriptor (the cache evicts it, or the file is closed). An eviction ignores a failed
   * close (Linux releases the descriptor whatever close returns); closing the file reports it.
   */
  dropDescriptor(report: boolean): void {
    assert(this.fd >= 0 && this.pins === 0, "only an open, unpinned descriptor is closed");
    const fd = this.fd;
    this.fd = -1;
    this.cache.descriptorClosed();
    try {
      closeSync(fd, this.path);
    } catch (err) {
      if (report) throw err;
    }
  }
}

let shared: FileCache | null = null;

/** The cache of tablets opened without one of their own (tests, tools): fileCacheOpenFilesDefault. */
export function sharedFileCache(): FileCache {
  shared ??= new FileCache({ openFilesMax: fileCacheOpenFilesDefault });
  return shared;
}
