// Where `fluss local` (and the other server commands) send their log lines: stderr, or a file
// (appended, written synchronously so nothing logged before an exit is lost). Lines logged before
// `release()` — while the cluster starts — are held and written at release, so a command can print
// its banner first. Held lines are bounded: past HELD_BYTES_MAX they are counted, not kept, and the
// count is reported at release.
// Invariant: a full stderr pipe or socket never fails a write; only a failing descriptor does. Once anything touches `process.stderr`, Node puts fd 2 in non-blocking mode (libuv), and a
// reader slower than the logger (a parent reading the pipe on its own event loop) makes writeSync
// fail with EAGAIN; the write then waits for room (short sleeps, backing off to WAIT_MS_MAX) — the
// logger blocks as it would on a blocking descriptor, and no line is lost or turned into a crash.

import { closeSync, openSync, writeSync } from "node:fs";
import { Writable } from "node:stream";

const HELD_BYTES_MAX = 1024 * 1024;
/** Longest sleep between two tries of a write that found the descriptor full (EAGAIN). */
const WAIT_MS_MAX = 50;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `buf` to `fd`, waiting while a non-blocking descriptor is full. */
export function writeAllSync(fd: number, buf: Buffer): void {
  let waitMs = 1;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
      waitMs = 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Atomics.wait(sleeper, 0, 0, waitMs);
      waitMs = Math.min(2 * waitMs, WAIT_MS_MAX);
    }
  }
}

export interface LogDestination {
  /** The stream to give the logger. */
  readonly stream: Writable;
  /** Write what was held, then write through. Idempotent. */
  release(): void;
}

export function logDestination(file: string | undefined): LogDestination {
  const fd = file ? openSync(file, "a", 0o644) : 2;
  const write = (text: string): void => writeAllSync(fd, Buffer.from(text));
  let held: string[] | null = [];
  let heldBytes = 0;
  let dropped = 0;
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
      try {
        if (held === null) write(text);
        else if (heldBytes + text.length <= HELD_BYTES_MAX) {
          held.push(text);
          heldBytes += text.length;
        } else dropped++;
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      if (fd !== 2) closeSync(fd);
      callback();
    },
  });
  return {
    stream,
    release() {
      if (held === null) return;
      const lines = held;
      held = null;
      for (const text of lines) write(text);
      if (dropped > 0)
        write(`(${dropped} log lines written while starting were dropped: over ${HELD_BYTES_MAX} bytes)\n`);
    },
  };
}
