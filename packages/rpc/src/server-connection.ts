// Server side of one accepted socket: cuts requests out of the byte stream, dispatches them to
// the handlers (concurrently; responses leave in completion order and the client matches ids)
// and writes responses. Invariants:
// - at most `requestsInFlightMax` requests are being handled; at the limit, or while the socket's
//   write buffer is over its high-water mark, no more frames are taken and reading pauses;
// - a frame that cannot be trusted (bad length, short header, undecodable body of a known API)
//   ends only this connection: a server-failure frame (CORRUPT_MESSAGE) is sent, then the socket
//   closes; the server and its other connections carry on;
// - a well-formed request for an unknown API key or an unsupported version gets an error
//   response (UNSUPPORTED_VERSION) and the connection stays open;
// - when the socket closes, `signal` aborts and responses still being computed are dropped;
// - FetchLog, Lookup, PrefixLookup, LimitScan and ScanKv responses are encoded by fast-encode.ts,
//   their large `bytes` values written from the handler's memory (no copy): a handler must return
//   bytes nobody writes into again (see `RequestHandler`). Each response frame is built, its header
//   filled and its parts written at once; no part is touched after the socket has it.

import type net from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import type { ApiDef } from "./api-keys.ts";
import { supportsVersion } from "./api-keys.ts";
import { errorMessageCharsMax, frameCopyBytesMax } from "./constants.ts";
import type { Logger } from "./env.ts";
import { encodeMessageParts } from "./fast-encode.ts";
import type { FrameParts, RequestFrame, WireError } from "./frame.ts";
import {
  encodeErrorFrame,
  encodeServerFailureFrame,
  FrameDecoder,
  fillResponseHeader,
  parseRequestFrame,
  responseFrameHeaderBytes,
} from "./frame.ts";

/** What a handler learns about the request beyond its message. */
export interface RequestContext {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly apiVersion: number;
  readonly requestId: number;
  /** Aborts when the connection closes: the response can no longer be delivered. */
  readonly signal: AbortSignal;
  /**
   * Run `fn` once the response's bytes are in the kernel (or will never be sent): the moment
   * buffers the response refers to may be reused.
   */
  onResponseSent(fn: () => void): void;
}

/** A registered handler with its message types erased (the registry keeps them paired). */
export interface ErasedRoute {
  readonly api: ApiDef;
  readonly handler: (request: never, ctx: RequestContext) => unknown;
}

export interface ConnectionHost {
  readonly logger: Logger;
  readonly requestsInFlightMax: number;
  readonly frameBytesMax: number;
  route(apiKey: number): ErasedRoute | undefined;
  onClosed(conn: ServerConnection): void;
}

export class ServerConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: net.Socket;
  readonly #host: ConnectionHost;
  readonly #decoder: FrameDecoder;
  readonly #abort = new AbortController();
  #inFlight = 0;
  #paused = false;
  #draining = false; // no new requests are taken (server closing or connection failed)
  #corked = false;
  #pumping = false; // inside #pump: a synchronous handler's #finish must not recurse into it
  #ended = false; // end() or a protocol failure: nothing more may be written
  #idleWaiters: Array<() => void> = [];

  constructor(id: number, socket: net.Socket, host: ConnectionHost) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.remotePort = socket.remotePort ?? 0;
    this.#decoder = new FrameDecoder({ frameBytesMax: host.frameBytesMax });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#pump());
    socket.on("error", (err) => host.logger.debug({ ...this.#who(), err }, "connection error"));
    socket.on("close", () => this.#onClose());
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Stop taking new requests (already running ones complete and are answered). */
  stopReading(): void {
    this.#draining = true;
    this.#socket.pause();
  }

  /** Resolves once no request is being handled. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Flush what was written, then close. */
  end(): void {
    if (this.closed || this.#ended) return;
    this.#ended = true;
    this.#socket.end(() => this.#socket.destroy());
  }

  /** Close now, dropping unsent bytes. */
  destroy(): void {
    this.#socket.destroy();
  }

  #who(): object {
    return { connectionId: this.id, remote: `${this.remoteAddress}:${this.remotePort}` };
  }

  // ---- reading ------------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    if (this.#draining) return;
    this.#decoder.push(chunk);
    this.#pump();
  }

  /** Take and dispatch frames while the limits allow; pause or resume reading accordingly. */
  #pump(): void {
    if (this.#draining || this.closed || this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#canTake()) {
        const frame = this.#decoder.next();
        if (frame === undefined) break;
        this.#dispatch(parseRequestFrame(frame));
        if (this.#draining) return;
      }
    } catch (err) {
      this.#fail(err);
      return;
    } finally {
      this.#pumping = false;
    }
    const blocked = !this.#canTake();
    if (blocked && !this.#paused) this.#socket.pause();
    if (!blocked && this.#paused) this.#socket.resume();
    this.#paused = blocked;
  }

  #canTake(): boolean {
    return this.#inFlight < this.#host.requestsInFlightMax && !this.#socket.writableNeedDrain;
  }

  /** The stream can no longer be trusted: tell the peer once, then close this connection only. */
  #fail(err: unknown): void {
    const reason = (err as Error).message;
    this.#host.logger.warn({ ...this.#who(), reason }, "malformed request, closing connection");
    this.#draining = true;
    this.#ended = true;
    const frame = encodeServerFailureFrame({ code: Errors.CORRUPT_MESSAGE.code, message: reason });
    this.#socket.end(frame, () => this.#socket.destroy());
  }

  // ---- dispatch ------------------------------------------------------------------------------

  #dispatch(req: RequestFrame): void {
    const route = this.#host.route(req.apiKey);
    if (route === undefined) {
      this.#host.logger.warn({ ...this.#who(), apiKey: req.apiKey }, "request for an unknown API key");
      const message = `API key ${req.apiKey} is not supported by this server`;
      this.#writeError(req.requestId, { code: Errors.UNSUPPORTED_VERSION.code, message });
      return;
    }
    const { api } = route;
    if (!supportsVersion(api, req.apiVersion)) {
      const message = `${api.name} version ${req.apiVersion} is not supported (supported: ${api.minVersion}-${api.maxVersion})`;
      this.#writeError(req.requestId, { code: Errors.UNSUPPORTED_VERSION.code, message });
      return;
    }
    let request: unknown;
    try {
      request = fromBinary(api.request, req.body);
    } catch (err) {
      throw new FlussError(
        Errors.CORRUPT_MESSAGE,
        `undecodable ${api.name} request: ${(err as Error).message}`,
      );
    }
    this.#run(route, request, req);
  }

  #run(route: ErasedRoute, request: unknown, req: RequestFrame): void {
    const sent: Array<() => void> = [];
    const ctx: RequestContext = {
      connectionId: this.id,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      apiVersion: req.apiVersion,
      requestId: req.requestId,
      signal: this.#abort.signal,
      onResponseSent: (fn) => {
        sent.push(fn);
      },
    };
    this.#inFlight++;
    let result: unknown;
    try {
      result = route.handler(request as never, ctx);
    } catch (err) {
      this.#finish(route.api, req.requestId, undefined, err, true, sent);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#finish(route.api, req.requestId, value, undefined, false, sent),
        (err: unknown) => this.#finish(route.api, req.requestId, undefined, err, true, sent),
      );
    } else {
      this.#finish(route.api, req.requestId, result, undefined, false, sent);
    }
  }

  #finish(
    api: ApiDef,
    requestId: number,
    value: unknown,
    err: unknown,
    failed: boolean,
    sent: Array<() => void>,
  ): void {
    this.#inFlight--;
    const done = sent.length === 0 ? undefined : () => runAll(sent);
    if (!this.closed && !this.#ended) {
      if (failed) this.#writeError(requestId, this.#wireErrorOf(api, requestId, err), done);
      else this.#writeSuccess(api, requestId, value, done);
    } else {
      done?.();
    }
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
    this.#pump();
  }

  #wireErrorOf(api: ApiDef, requestId: number, err: unknown): WireError {
    if (isFlussError(err) && err.code < 1000) {
      return { code: err.code, message: err.message === err.kind.message ? undefined : err.message };
    }
    const fields = { ...this.#who(), api: api.name, requestId, err };
    this.#host.logger.error(fields, "request handler failed unexpectedly");
    const text = isFlussError(err)
      ? `${err.kind.name}: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
    return { code: Errors.UNKNOWN_SERVER_ERROR.code, message: text.slice(0, errorMessageCharsMax) };
  }

  // ---- writing ------------------------------------------------------------------------------

  #writeSuccess(api: ApiDef, requestId: number, value: unknown, done?: () => void): void {
    let frame: FrameParts;
    try {
      const msg = create(api.response, value as never);
      frame = encodeMessageParts(api.response, msg, responseFrameHeaderBytes, frameCopyBytesMax);
    } catch (err) {
      const wrapped = new Error(`cannot encode ${api.name} response: ${(err as Error).message}`, {
        cause: err,
      });
      this.#writeError(requestId, this.#wireErrorOf(api, requestId, wrapped), done);
      return;
    }
    this.#cork();
    const parts = fillResponseHeader(frame, 0, requestId);
    for (let i = 0; i < parts.length; i++) {
      if (i === parts.length - 1 && done) this.#socket.write(parts[i]!, () => done());
      else this.#socket.write(parts[i]!);
    }
  }

  #writeError(requestId: number, error: WireError, done?: () => void): void {
    this.#cork();
    if (done) this.#socket.write(encodeErrorFrame(requestId, error), () => done());
    else this.#socket.write(encodeErrorFrame(requestId, error));
  }

  /** Batch every response written in this tick into one system call. */
  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#socket.uncork();
    });
  }

  #onClose(): void {
    this.#draining = true;
    this.#abort.abort(new FlussError(Errors.NETWORK_EXCEPTION, "connection closed"));
    this.#host.onClosed(this);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/** Run callbacks once each, isolating failures (a callback that throws is a bug, logged by Node). */
function runAll(fns: Array<() => void>): void {
  const list = fns.splice(0);
  for (const fn of list) {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
