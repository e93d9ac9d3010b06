// The byte pipe under a client connection, behind a small interface so tests (and later TLS or an
// in-process pipe) can replace TCP. A Transport delivers chunks in order to `onData`, reports
// `write` backpressure by returning false and then calling `onDrain`, and calls `onClose` exactly
// once, with an error unless the close was clean. `tcpConnector` is the default: node:net with
// TCP_NODELAY, a connect timeout and abort support.

import net from "node:net";
import { Errors, FlussError } from "@fluss-ts/common";
import type { Timers } from "./env.ts";
import { realTimers } from "./env.ts";

export interface Transport {
  /** Queue bytes; false means the transport's buffer is full: wait for `onDrain`. */
  write(chunk: Uint8Array): boolean;
  /** Hold writes until `uncork`, so several frames leave in one system call. */
  cork(): void;
  uncork(): void;
  /** Stop delivering `onData` (backpressure on reading) / start again. */
  pause(): void;
  resume(): void;
  /** Flush and close gracefully. */
  end(): void;
  /** Close now, dropping unsent bytes. */
  destroy(): void;
  readonly remoteAddress: string | undefined;
}

export interface TransportHandlers {
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  onClose(error: Error | undefined): void;
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly timers?: Timers | undefined;
}

/** Opens a transport; rejects with a FlussError: NETWORK_EXCEPTION (refused, timed out) or ABORTED. */
export type TransportConnector = (target: ConnectTarget, handlers: TransportHandlers) => Promise<Transport>;

/** Wrap a connected socket as a Transport (also used by tests that build their own sockets). */
export function socketTransport(socket: net.Socket, handlers: TransportHandlers): Transport {
  let closed = false;
  let lastError: Error | undefined;
  socket.on("data", (chunk: Buffer) => handlers.onData(chunk));
  socket.on("drain", () => handlers.onDrain());
  socket.on("error", (err) => {
    lastError = err;
  });
  socket.on("close", (hadError) => {
    if (closed) return;
    closed = true;
    handlers.onClose(hadError ? (lastError ?? new Error("socket closed with an error")) : undefined);
  });
  return {
    write: (chunk) => socket.write(chunk),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    get remoteAddress() {
      return socket.remoteAddress;
    },
  };
}

/** The default connector: a TCP connection with Nagle off. */
export const tcpConnector: TransportConnector = (target, handlers) =>
  new Promise<Transport>((resolve, reject) => {
    const timers = target.timers ?? realTimers;
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const fail = (err: FlussError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void =>
      fail(
        new FlussError(
          Errors.NETWORK_EXCEPTION,
          `cannot connect to ${target.host}:${target.port}: ${err.message}`,
          { cause: err },
        ),
      );
    const onAbort = (): void => fail(new FlussError(Errors.ABORTED, "connect aborted"));
    const timer = timers.setTimeout(
      () =>
        fail(
          new FlussError(
            Errors.NETWORK_EXCEPTION,
            `connect to ${target.host}:${target.port} timed out after ${target.connectTimeoutMs} ms`,
          ),
        ),
      target.connectTimeoutMs,
    );
    const cleanup = (): void => {
      timers.clearTimeout(timer);
      socket.off("error", onError);
      target.signal?.removeEventListener("abort", onAbort);
    };
    if (target.signal?.aborted) return onAbort();
    target.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once("connect", () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socketTransport(socket, handlers));
    });
  });
