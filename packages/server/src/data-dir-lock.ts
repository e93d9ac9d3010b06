// The data-directory lock: one server process per data directory, enforced by the kernel. The
// process opens `<dataDir>/.lock` and holds an exclusive OS lock on it (an open-file-description
// lock, fcntl F_OFD_SETLK, on Linux; flock on macOS; through `fs-native-extensions`, prebuilt) for
// as long as it runs. The kernel grants it to one open file at a time and drops it when the
// holder closes it or dies in any way (kill -9 included), so there is no stale lock to take over
// and no takeover race: a second starter always fails, a starter after a crash always succeeds.
// Invariants: the lock file is never deleted (deleting a locked file lets a starter that opened
// the old inode and one that creates a new one both "win"); the pid written into it only serves
// the error message; the descriptor is a raw fd (never garbage-collected) until release().

import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";

/** The part of fs-native-extensions used here (a CommonJS native add-on without types). */
interface NativeLocks {
  /** An exclusive lock on the whole file: true when granted, false when another open file holds it. */
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

const native = createRequire(import.meta.url)("fs-native-extensions") as NativeLocks;

export const LOCK_FILE_NAME = ".lock";

export class DataDirLock {
  readonly path: string;
  private fd: number | null;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Lock `dataDir` (which must exist) for this process, or throw naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE_NAME);
    // Read-write: an exclusive lock needs a descriptor open for writing.
    const fd = openSync(path, "a+");
    let granted: boolean;
    try {
      granted = native.tryLock(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!granted) {
      closeSync(fd);
      const holder = readHolder(path);
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `data directory ${dataDir} is in use by ${holder === null ? "another process" : `process ${holder}`}; stop it or pass another --data-dir`,
      );
    }
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
    } catch (err) {
      native.unlock(fd);
      closeSync(fd);
      throw err;
    }
    return new DataDirLock(path, fd);
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Give the directory up (the file stays; the next starter locks it). Idempotent. */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      native.unlock(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** The pid the holder wrote, when readable (it may not have written it yet). */
function readHolder(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
