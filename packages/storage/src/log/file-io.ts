// Thin, bounded wrappers over node:fs for the log: positional whole writes and reads, fdatasync on
// the thread pool, atomic small-file replacement, and file naming by 20-digit offsets.
// Every OS error that leaves this module is a FlussError naming the file: STORAGE_EXCEPTION
// (retriable) when the device is full (ENOSPC, EDQUOT: the same write may succeed once space is
// freed), LOG_STORAGE_EXCEPTION otherwise; the errno error stays reachable as its `cause`.
// Writes are synchronous on purpose (see log-tablet.ts): an append never awaits between assigning
// offsets and writing, and sync writes measured faster than FileHandle for 64 KiB-1 MiB batches.
// Fault injection: tests install an IoFaultInjector (setIoFaultInjector) that is consulted before
// each write, fdatasync/fsync, truncate and rename, and may fail it with an errno error or shorten
// a write; production never installs one.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { assert, Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { ioAttemptsMax, tempFileSuffix } from "./constants.ts";

const offsetDigits = 20;
/** errno codes meaning "the device (or the user's quota) has no room for this write". */
const diskFullCodes: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT"]);
/** The same as numbers (native libraries such as lmdb report the errno value itself). */
const diskFullErrnos: ReadonlySet<number> = new Set(
  [os.constants.errno.ENOSPC, os.constants.errno.EDQUOT].filter((n) => n !== undefined),
);
/** How deep `isDiskFull` follows `cause` links (errors wrap errors a few times at most). */
const causeDepthMax = 8;

/** The I/O operations a fault injector is consulted on. */
export type IoOp = "write" | "fdatasync" | "fsync" | "truncate" | "rename";

/**
 * Consulted before an operation on `file`; throws (an errno-shaped error, e.g. with code ENOSPC) to
 * fail it. For "write", returning a number lets only that many bytes of this call through (a short
 * write); the next call is consulted again.
 */
export type IoFaultInjector = (op: IoOp, file: string, bytes: number) => number | undefined;

let faults: IoFaultInjector | null = null;

/** Tests only: install (or with null remove) the fault injector. */
export function setIoFaultInjector(injector: IoFaultInjector | null): void {
  faults = injector;
}

/** An errno-shaped error as node:fs raises it (for fault injectors). */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** True when `err` (or an error it wraps) says the device or quota is full. */
export function isDiskFull(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < causeDepthMax && e instanceof Error; depth++) {
    const code: unknown = (e as { code?: unknown }).code;
    if (typeof code === "string" && diskFullCodes.has(code)) return true;
    if (typeof code === "number" && diskFullErrnos.has(code)) return true;
    e = e.cause;
  }
  return false;
}

export function storageError(action: string, file: string, cause: unknown): FlussError {
  if (isFlussError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const kind = isDiskFull(cause) ? Errors.STORAGE_EXCEPTION : Errors.LOG_STORAGE_EXCEPTION;
  return new FlussError(kind, `${action} ${file} failed: ${reason}`, { cause });
}

/** `00000000000000000042.log` for base offset 42. */
export function offsetFileName(offset: bigint, suffix: string): string {
  assert(offset >= 0n, "file offsets are never negative");
  return offset.toString().padStart(offsetDigits, "0") + suffix;
}

/** The offset a file is named by, or null when the name is not `<20 digits><suffix>`. */
export function parseOffsetFileName(name: string, suffix: string): bigint | null {
  if (name.length !== offsetDigits + suffix.length || !name.endsWith(suffix)) return null;
  const digits = name.slice(0, offsetDigits);
  if (!/^[0-9]+$/.test(digits)) return null;
  return BigInt(digits);
}

/** Write all of `bytes` at `position`. */
export function writeFullySync(fd: number, file: string, bytes: Uint8Array, position: number): void {
  let done = 0;
  for (let attempt = 0; done < bytes.byteLength; attempt++) {
    if (attempt >= ioAttemptsMax) throw storageError("write", file, new Error("no progress"));
    try {
      const allowed = faults?.("write", file, bytes.byteLength - done);
      const length = Math.min(allowed ?? Number.POSITIVE_INFINITY, bytes.byteLength - done);
      done += fs.writeSync(fd, bytes, done, length, position + done);
    } catch (err) {
      throw storageError("write", file, err);
    }
  }
}

/** Fill `buf` from `position`; returns the bytes read (fewer only at end of file). */
export function readFullySync(fd: number, file: string, buf: Uint8Array, position: number): number {
  let done = 0;
  for (let attempt = 0; done < buf.byteLength; attempt++) {
    if (attempt >= ioAttemptsMax) throw storageError("read", file, new Error("no progress"));
    let n: number;
    try {
      n = fs.readSync(fd, buf, done, buf.byteLength - done, position + done);
    } catch (err) {
      throw storageError("read", file, err);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

function readOnce(
  fd: number,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** Fill `buf` from `position` on the thread pool; returns the bytes read (fewer only at EOF). */
export async function readFully(
  fd: number,
  file: string,
  buf: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  for (let attempt = 0; done < buf.byteLength; attempt++) {
    if (attempt >= ioAttemptsMax) throw storageError("read", file, new Error("no progress"));
    let n: number;
    try {
      n = await readOnce(fd, buf, done, buf.byteLength - done, position + done);
    } catch (err) {
      throw storageError("read", file, err);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function fdatasync(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      faults?.("fdatasync", file, 0);
    } catch (err) {
      reject(storageError("fdatasync", file, err));
      return;
    }
    fs.fdatasync(fd, (err) => (err ? reject(storageError("fdatasync", file, err)) : resolve()));
  });
}

/** fsync `fd` on the thread pool (a directory's: its entries). */
export function fsync(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      faults?.("fsync", file, 0);
    } catch (err) {
      reject(storageError("fsync", file, err));
      return;
    }
    fs.fsync(fd, (err) => (err ? reject(storageError("fsync", file, err)) : resolve()));
  });
}

export function fdatasyncSync(fd: number, file: string): void {
  try {
    faults?.("fdatasync", file, 0);
    fs.fdatasyncSync(fd);
  } catch (err) {
    throw storageError("fdatasync", file, err);
  }
}

export function truncateSync(fd: number, file: string, sizeBytes: number): void {
  try {
    faults?.("truncate", file, sizeBytes);
    fs.ftruncateSync(fd, sizeBytes);
  } catch (err) {
    throw storageError("truncate", file, err);
  }
}

export function fileSizeSync(fd: number, file: string): number {
  try {
    return fs.fstatSync(fd).size;
  } catch (err) {
    throw storageError("stat", file, err);
  }
}

/** Size of the file at `file`. */
export function pathSizeSync(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    throw storageError("stat", file, err);
  }
}

/** Read-write without O_APPEND (positional writes must land where asked), created when missing. */
export const openReadWriteCreate = fs.constants.O_RDWR | fs.constants.O_CREAT;
/** Read-write, created, emptied. */
export const openReadWriteFresh = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC;
/** Read-write, must not exist yet. */
export const openReadWriteNew = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL;

export function openSync(file: string, flags: string | number): number {
  try {
    return fs.openSync(file, flags);
  } catch (err) {
    throw storageError("open", file, err);
  }
}

export function closeSync(fd: number, file: string): void {
  try {
    fs.closeSync(fd);
  } catch (err) {
    throw storageError("close", file, err);
  }
}

export function unlinkIfExistsSync(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw storageError("delete", file, err);
  }
}

/** fsync a directory so that file creations, renames and deletions in it are durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    faults?.("fsync", dir, 0);
    fs.fsyncSync(fd);
  } catch (err) {
    throw storageError("fsync", dir, err);
  } finally {
    closeSync(fd, dir);
  }
}

export function fsyncDir(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(dir, "r", (openErr, fd) => {
      if (openErr) return reject(storageError("open", dir, openErr));
      let injected: unknown = null;
      try {
        faults?.("fsync", dir, 0);
      } catch (err) {
        injected = err;
      }
      if (injected !== null) {
        fs.close(fd, () => reject(storageError("fsync", dir, injected)));
        return;
      }
      fs.fsync(fd, (syncErr) => {
        fs.close(fd, (closeErr) => {
          const err = syncErr ?? closeErr;
          if (err) reject(storageError("fsync", dir, err));
          else resolve();
        });
      });
    });
  });
}

/**
 * Replace `file` with `bytes` atomically (temp file + rename): readers see the old or the new
 * content, never a mix. `durable` also fdatasyncs the content before the rename and fsyncs the
 * directory after it; without it a power loss may leave the old file, or an empty/garbled new one
 * (callers must parse strictly and treat that as "no file").
 */
export function writeFileAtomicSync(file: string, bytes: Uint8Array, durable: boolean): void {
  const temp = file + tempFileSuffix;
  try {
    const fd = openSync(temp, "w");
    try {
      writeFullySync(fd, temp, bytes, 0);
      if (durable) fdatasyncSync(fd, temp);
    } finally {
      closeSync(fd, temp);
    }
    try {
      faults?.("rename", temp, 0);
      fs.renameSync(temp, file);
    } catch (err) {
      throw storageError("rename", temp, err);
    }
  } catch (err) {
    // A half-written temp file would hold space a full disk needs back (and is deleted at load).
    removeQuietly(temp);
    throw err;
  }
  if (durable) fsyncDirSync(path.dirname(file));
}

/** Delete `file` if it exists, ignoring failures (cleanup on a path that already failed). */
function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // nothing more to do: the loader deletes leftover temp files at the next open
  }
}

/** Whole small file, or null when it does not exist; refuses files above `bytesMax`. */
export function readSmallFileSync(file: string, bytesMax: number): Uint8Array | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw storageError("open", file, err);
  }
  try {
    const size = fileSizeSync(fd, file);
    if (size > bytesMax) throw storageError("read", file, new Error(`${size} bytes exceeds ${bytesMax}`));
    const buf = new Uint8Array(size);
    const n = readFullySync(fd, file, buf, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd, file);
  }
}

export function listDirSync(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    throw storageError("list", dir, err);
  }
}

export function join(dir: string, name: string): string {
  return path.join(dir, name);
}
