// Where `fluss local` (and the other server commands) send their log lines: stderr, or a file
// (appended, written synchronously so nothing logged before an exit is lost). Lines logged before
// `release()` — while the cluster starts — are held and written at release, so a command can print
// its banner first. Held lines are bounded: past HELD_BYTES_MAX they are counted, not kept, and the
// count is reported at release.

import { closeSync, openSync, writeSync } from "node:fs";
import { Writable } from "node:stream";

const HELD_BYTES_MAX = 1024 * 1024;

export interface LogDestination {
  /** The stream to give the logger. */
  readonly stream: Writable;
  /** Write what was held, then write through. Idempotent. */
  release(): void;
}

export function logDestination(file: string | undefined): LogDestination {
  const fd = file ? openSync(file, "a", 0o644) : 2;
  const write = (text: string): void => {
    let buf = Buffer.from(text);
    while (buf.length > 0) buf = buf.subarray(writeSync(fd, buf));
  };
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
