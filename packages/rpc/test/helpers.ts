// Test helpers: a recording logger, manual timers, a started server and raw sockets.

import net from "node:net";
import type { Logger, TimerHandle, Timers } from "../src/env.ts";
import { FrameDecoder } from "../src/frame.ts";
import type { RpcServerOptions } from "../src/server.ts";
import { RpcServer } from "../src/server.ts";

export interface LogEntry {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly obj: object;
  readonly msg: string;
}

export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry["level"]) =>
    (obj: object, msg: string): void => {
      entries.push({ level, obj, msg });
    };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Timers that fire only when the test says so. */
export class ManualTimers implements Timers {
  #next = 0;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }
  /** Fire every pending timer whose delay is at most `ms`. */
  fire(ms = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const [id, t] of [...this.pending]) {
      if (t.ms > ms) continue;
      this.pending.delete(id);
      t.fn();
      n++;
    }
    return n;
  }
}

export async function startServer(options: RpcServerOptions = {}): Promise<RpcServer> {
  const server = new RpcServer({ host: "127.0.0.1", port: 0, ...options });
  await server.listen();
  return server;
}

export function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Collect everything a socket sends until it closes. */
export function readUntilClose(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** Resolve with the first `bytes` bytes the socket sends. */
export function readBytes(socket: net.Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.byteLength;
      if (got >= bytes) {
        socket.off("data", onData);
        resolve(Buffer.concat(chunks).subarray(0, bytes));
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed after ${got} of ${bytes} bytes`)));
  });
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** A deterministic byte generator (xorshift32). */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolve with the next `count` frames the socket sends (bytes after each length prefix). */
export function readFrames(socket: net.Socket, count: number): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    const onData = (c: Buffer): void => {
      decoder.push(c);
      for (let f = decoder.next(); f !== undefined && frames.length < count; f = decoder.next())
        frames.push(f);
      if (frames.length === count) {
        socket.off("data", onData);
        resolve(frames);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed after ${frames.length} of ${count} frames`)));
  });
}
