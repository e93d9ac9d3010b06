// Remote storage: objects by key, behind one interface with two implementations — a local
// directory (local-file-storage.ts, the default `remote.data.dir = <data dir>/remote`) and
// S3-compatible object storage (s3-storage.ts). KV snapshots and tiered log segments live here.
// Contract (tested by one suite against both, test/remote/remote-storage-contract.ts):
//  - keys are `/`-separated relative names of [A-Za-z0-9._%$=-] segments (no empty, `.` or `..`
//    segment, no leading or trailing `/`); `list` returns them sorted;
//  - `put` and `putFile` are atomic per object: a reader sees the previous object or the whole new
//    one, never a part (a temp file renamed into place; an S3 PUT or completed multipart upload);
//    an object is durable once the call resolves. Several objects are committed by writing the
//    object that names them last (a manifest);
//  - `putFile` and `getFile` stream: memory is bounded by a part/chunk size, not the file size;
//  - `get` with a range returns bytes [offset, offset + length) cut at the object's end; a missing
//    object is `null` (never an error), as is `stat` of one; `delete` of a missing key is no error;
//  - failures are FlussErrors: STORAGE_EXCEPTION (retriable: the caller tries again later) naming
//    the operation, the store and the key.

import { assert, Errors, FlussError, isFlussError } from "@fluss-ts/common";

export interface RemoteObject {
  readonly key: string;
  readonly sizeBytes: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface RemoteStorage {
  /** Where the objects live, for messages: a directory or `s3://bucket/prefix`. */
  readonly description: string;
  /** Store `bytes` as `key` (replacing any object there), atomically and durably. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Store the local file at `path` as `key` without holding it in memory; returns its size. */
  putFile(key: string, path: string): Promise<number>;
  /** The object's bytes (the range's, cut at the end), or null when there is no such object. */
  get(key: string, range?: ByteRange): Promise<Uint8Array | null>;
  /** Copy the object into the local file `path` (created or replaced); its size, or null when missing. */
  getFile(key: string, path: string): Promise<number | null>;
  /** The object's size, or null when there is no such object. */
  stat(key: string): Promise<RemoteObject | null>;
  /** Objects whose key starts with `prefix`, sorted by key; at most `limit`. */
  list(prefix: string, limit?: number): Promise<RemoteObject[]>;
  /** Remove these objects; missing ones are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Remove every object under `prefix` (which must end with `/`); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** Objects one `list` returns when the caller sets no limit (a bound on every listing). */
export const REMOTE_LIST_LIMIT_DEFAULT = 100_000;
/** Objects one `deletePrefix` removes at most (more is a bug upstream: keys per bucket are bounded). */
export const REMOTE_DELETE_PREFIX_MAX = 1_000_000;
/** Key length bound (S3's limit is 1024 bytes). */
export const REMOTE_KEY_LENGTH_MAX = 1024;

const keySegment = /^[A-Za-z0-9._%$=-]+$/;

/** True when `key` is a well-formed object key (see the file comment). */
export function isRemoteKey(key: string): boolean {
  if (key.length === 0 || key.length > REMOTE_KEY_LENGTH_MAX) return false;
  for (const s of key.split("/")) {
    if (s === "." || s === ".." || !keySegment.test(s)) return false;
  }
  return true;
}

/** Keys are built by our own code: a malformed one is a bug. */
export function assertKey(key: string): void {
  assert(isRemoteKey(key), `remote object key '${key}' is well formed`);
}

/** A prefix is empty, or a key followed by `/`. */
export function assertPrefix(prefix: string): void {
  assert(
    prefix === "" || (prefix.endsWith("/") && isRemoteKey(prefix.slice(0, -1))),
    "remote prefix is well formed",
  );
}

export function assertRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  assert(
    Number.isSafeInteger(range.offset) &&
      range.offset >= 0 &&
      Number.isSafeInteger(range.length) &&
      range.length >= 0,
    "a remote byte range is non-negative",
  );
}

/** One key segment for a name that may hold characters keys do not allow (partition names). */
export function keySegmentOf(name: string): string {
  return encodeURIComponent(name).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A failed remote operation: retriable STORAGE_EXCEPTION naming what, where and why. */
export function remoteError(action: string, where: string, cause: unknown): FlussError {
  if (isFlussError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FlussError(Errors.STORAGE_EXCEPTION, `remote storage: ${action} ${where} failed: ${reason}`, {
    cause,
  });
}
