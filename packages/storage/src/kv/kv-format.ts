// The on-disk format of a KV store (kv-store.ts): the lmdb options every store is opened with, the
// meta state record and its store format version, the header check run before lmdb trusts a
// file, and how lmdb failures become FlussErrors (commitOutcome: what an asynchronous commit
// came to, its rejections always handled).
// Store format 2 (STORE_FORMAT): data values are value ‖ CRC-32C(key ‖ value) (kv-checksum.ts);
// the meta state under META_KEY is its JSON ({version, appliedLogOffset, rowCount}) sealed the
// same way. Format 1 kept both without checksums (kv-migrate.ts rewrites such stores).
// Invariant: decodeState accepts a state only when its checksum (format 2) or its version (1)
// says which format wrote it.

import fs from "node:fs";
import path from "node:path";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { seal, unseal } from "./kv-checksum.ts";

/** The store format this code writes (2: checksummed values and state). */
export const STORE_FORMAT = 2;
export const DATA_FILE = "data.mdb";
export const META_KEY = Buffer.from("state", "utf8");
// lmdb's first meta page: a 24-byte page header, then magic, version, ..., and the free-list
// database record whose first field holds the page size.
const META_HEADER_BYTES = 64;
const META_MAGIC_AT = 24;
const META_VERSION_AT = 28;
const META_PAGE_SIZE_AT = 48;
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_VERSION = 2;
/** errno values (and codes) of a full disk or failing device: the write may succeed later. */
const DISK_ERRNOS = new Set<unknown>([5, 28, 122, "EIO", "ENOSPC", "EDQUOT"]);

/**
 * lmdb environment options of every store. noSync: commits are not fsynced (see kv-store.ts).
 * No write map: lmdb then writes pages with pwrite, so a full disk fails a commit with an error
 * (ENOSPC, or EIO for a short write) and the environment stays usable; with a write map lmdb
 * grows the file with ftruncate and writes through the map, and a full disk kills the process
 * with SIGBUS on the first page the file system cannot back. No event-turn batching: asynchronous
 * commits are explicit lmdb blocks (one promise each, handled); with it, lmdb-js makes one more
 * promise per event turn of its own that nobody handles, and a failed commit (a full disk) would
 * end the process with an unhandled rejection. Three databases: data, meta and the commit chain. The directory is always the environment (lmdb-js
 * would take a path with an extension, like `db.migrating`, for a file).
 */
export const LMDB_OPTIONS = {
  noSync: true,
  useWritemap: false,
  eventTurnBatching: false,
  maxDbs: 3,
  noSubdir: false,
} as const;
/** Keys and values of both databases are bytes. */
export const BINARY = { keyEncoding: "binary", encoding: "binary" } as const;

export interface KvStoreState {
  /** Every changelog record below this log offset is applied. */
  readonly appliedLogOffset: bigint;
  /** Rows in the store, null when not tracked (WAL changelog image). */
  readonly rowCount: bigint | null;
}

/** A failure of lmdb as a FlussError: a full disk or I/O error is retriable STORAGE_EXCEPTION. */
export function kvError(action: string, dir: string, cause: unknown): FlussError {
  if (isFlussError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const disk = DISK_ERRNOS.has((cause as { code?: unknown } | null)?.code);
  return new FlussError(
    disk ? Errors.STORAGE_EXCEPTION : Errors.KV_STORAGE_EXCEPTION,
    `${action} of kv store ${dir} failed: ${reason}${disk ? " (disk full or failing)" : ""}`,
    { cause },
  );
}

export function encodeState(state: KvStoreState): Uint8Array {
  const doc = {
    version: STORE_FORMAT,
    appliedLogOffset: state.appliedLogOffset.toString(),
    rowCount: state.rowCount === null ? null : state.rowCount.toString(),
  };
  return seal(META_KEY, Buffer.from(JSON.stringify(doc), "utf8"));
}

/** The state and the format of a store's meta value (absent: an empty store of this format). */
export function decodeState(bytes: Uint8Array | undefined): { state: KvStoreState; format: number } {
  if (bytes === undefined) return { state: { appliedLogOffset: 0n, rowCount: 0n }, format: STORE_FORMAT };
  const sealed = unseal(META_KEY, bytes);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(sealed ?? bytes).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new Error("the kv store state fails its checksum");
  }
  // Format 1 stored the JSON alone; a format 2 state whose checksum fails is damaged.
  const format = sealed === null ? 1 : STORE_FORMAT;
  const offset = doc.appliedLogOffset;
  const rows = doc.rowCount;
  if (doc.version !== format || typeof offset !== "string" || !/^[0-9]{1,20}$/.test(offset)) {
    throw new Error(sealed === null ? "the kv store state fails its checksum" : "malformed kv store state");
  }
  if (rows !== null && (typeof rows !== "string" || !/^-?[0-9]{1,20}$/.test(rows))) {
    throw new Error("malformed kv store row count");
  }
  return {
    state: { appliedLogOffset: BigInt(offset), rowCount: rows === null ? null : BigInt(rows) },
    format,
  };
}

/**
 * Why the data file in `dir` is not an lmdb environment, or null when its header checks out.
 * lmdb trusts its file (a garbage file can crash the process), so this runs before open.
 */
export function checkHeader(dir: string): string | null {
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

/**
 * The outcome of an lmdb commit: null, or its cause (the detail of a commit error, waited for
 * briefly); a commit whose chain version did not match (an earlier one failed) was skipped.
 */
export async function commitOutcome(p: Promise<boolean>): Promise<unknown> {
  try {
    return (await p) ? null : new Error("skipped: an earlier commit failed");
  } catch (err) {
    // lmdb rejects with "Commit failed (see commitError)" and rejects `commitError` with the cause
    // in the same callback; left unhandled, that second rejection would end the process.
    const detail = (err as { commitError?: unknown } | null)?.commitError;
    if (!(detail instanceof Promise)) return err ?? new Error("commit failed");
    const cause = await Promise.race([
      detail.then(
        () => null,
        (c: unknown) => c,
      ),
      new Promise<null>((resolve) => setImmediate(resolve, null)),
    ]);
    return cause ?? err;
  }
}
