// Server side of one accepted socket: cuts requests out of the byte stream, dispatches them to
// the handlers (concurrently; responses leave in completion order and the client matches ids)
// and writes responses. Invariants:
// - at most `requestsInFlightMax` requests are being handled; at the limit, or while the socket's
//   write buffer is over its high-water mark, no more frames are taken and reading pauses;
// - every frame whose length prefix has arrived holds a reservation of its whole size in the
//   server-wide `RequestBufferBudget` until it is answered (or the connection closes); when the
//   budget cannot take the next frame, reading pauses until bytes are released. So the bytes this
//   connection holds beyond its reservations are at most what one socket read delivered;
// - a frame that started arriving must be complete within `requestReadTimeoutMs` (counted from
//   its first byte, or from when the server resumed reading), else the connection is closed; a
//   connection with nothing in flight, no partial frame and no traffic for `connectionIdleMsMax`
//   is closed too;
// - a failed assertion while handling, answering or reading is never answered: the host's
//   `onFatal` gets it (by default the process crashes) and this connection is destroyed;
// - only Fluss wire codes are sent (wire-errors.ts); failures log at the level their kind deserves;
// - a frame that cannot be trusted (bad length, short header, undecodable body of a known API)
//   ends only this connection: a server-failure frame (CORRUPT_MESSAGE) is sent, then the socket
//   closes; the server and its other connections carry on;
// - a well-formed request for an unknown API key or an unsupported version gets an error
//   response (UNSUPPORTED_VERSION) and the connection stays open;
// - when the socket closes, `signal` aborts and responses still being computed are dropped;
// - FetchLog, Lookup, PrefixLookup, LimitScan and ScanKv responses are encoded by fast-encode.ts,
//   their large `bytes` values written from the handler's memory (no copy): a handler must return
//   bytes nobody writes into again (see `RequestHandler`). Each response frame is built, its header
//   filled and its parts queued at once in the ResponseWriter (server-writer.ts), which hands them
//   to the socket in order, at most `responseSliceBytesMax` per event-loop turn; no part is touched
//   after the socket has it, and `onResponseSent` runs only once the socket took the last byte;
// - reading pauses while unsent response bytes (queued or in the socket) reach its high-water mark.

import type net from "node:net";
import { create, fromBinary } from "@bufbuild/protobuf";
import { type Clock, Errors, FlussError, isAssertionError } from "@fluss-ts/common";
import type { ApiDef } from "./api-keys.ts";
import { supportsVersion } from "./api-keys.ts";
import { ConnectionDeadlines } from "./connection-deadlines.ts";
import { frameCopyBytesMax } from "./constants.ts";
import type { Logger, Timers } from "./env.ts";
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
import type { BudgetWaiter, RequestBufferBudget } from "./request-buffer.ts";
import { ResponseWriter } from "./server-writer.ts";
import { assertWireCodes, servedErrorOf } from "./wire-errors.ts";

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
  readonly requestBuffer: RequestBufferBudget;
  readonly requestReadTimeoutMs: number;
  readonly connectionIdleMsMax: number;
  /** Response bytes handed to the socket per event-loop turn (default 256 KiB). */
  readonly responseSliceBytesMax?: number;
  readonly clock: Clock;
  readonly timers: Timers;
  route(apiKey: number): ErasedRoute | undefined;
  onClosed(conn: ServerConnection): void;
  /** A broken invariant (a failed assertion) surfaced on this connection. */
  onFatal(err: unknown, conn: ServerConnection): void;
}

/** Bytes of one request reserved in the budget; released once, by its answer or by the close. */
interface Reservation {
  bytes: number;
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
  #pumping = false; // inside #pump: a synchronous handler's #finish must not recurse into it
  #ended = false; // end() or a protocol failure: nothing more may be written
  #idleWaiters: Array<() => void> = [];
  // ---- request buffer: the head frame's reservation, then one per request being handled
  #headReservedBytes = 0;
  readonly #reservations = new Set<Reservation>();
  #waitingForBuffer = false;
  readonly #budgetWaiter: BudgetWaiter = { retry: () => this.#retryBuffer() };
  readonly #deadlines: ConnectionDeadlines;
  readonly #writer: ResponseWriter;

  constructor(id: number, socket: net.Socket, host: ConnectionHost) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.remotePort = socket.remotePort ?? 0;
    this.#decoder = new FrameDecoder({ frameBytesMax: host.frameBytesMax });
    this.#deadlines = new ConnectionDeadlines({
      readTimeoutMs: host.requestReadTimeoutMs,
      idleMsMax: host.connectionIdleMsMax,
      clock: host.clock,
      timers: host.timers,
      isIdle: () => this.#isIdle(),
      onReadTimeout: () => this.#onReadTimeout(),
      onIdle: () => this.#onIdle(),
    });
    this.#writer = new ResponseWriter(socket, {
      sliceBytesMax: host.responseSliceBytesMax,
      onQueueEmpty: () => this.#pump(),
    });
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

  /** Bytes read from the socket and not yet taken as frames, plus those of requests being handled. */
  get heldBytes(): number {
    let bytes = this.#decoder.bufferedBytes;
    for (const r of this.#reservations) bytes += r.bytes;
    return bytes;
  }

  /** True while reading waits for the server-wide request buffer. */
  get waitingForBuffer(): boolean {
    return this.#waitingForBuffer;
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
    this.#writer.end(() => this.#socket.destroy());
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
    this.#deadlines.touch();
    this.#decoder.push(chunk);
    this.#pump();
  }

  /**
   * Take and dispatch frames while the limits allow, each once it holds a reservation of its
   * size; pause or resume reading accordingly and keep the read deadline of a partial frame.
   */
  #pump(): void {
    if (this.#draining || this.closed || this.#pumping) return;
    this.#pumping = true;
    let waitingForBuffer = false;
    try {
      while (this.#canTake()) {
        const frameBytes = this.#decoder.peekFrameBytes();
        if (frameBytes === undefined) break;
        if (this.#headReservedBytes === 0) {
          if (!this.#host.requestBuffer.tryReserve(frameBytes)) {
            waitingForBuffer = true;
            break;
          }
          this.#headReservedBytes = frameBytes;
        }
        const frame = this.#decoder.next();
        if (frame === undefined) break;
        const reservation = { bytes: this.#headReservedBytes };
        this.#headReservedBytes = 0;
        this.#reservations.add(reservation);
        this.#deadlines.frameDone();
        this.#dispatch(parseRequestFrame(frame), reservation);
        if (this.#draining) return;
      }
    } catch (err) {
      if (isAssertionError(err)) this.#fatal(err);
      else this.#fail(err);
      return;
    } finally {
      this.#pumping = false;
    }
    this.#setWaitingForBuffer(waitingForBuffer);
    const blocked = waitingForBuffer || !this.#canTake();
    if (blocked && !this.#paused) this.#socket.pause();
    if (!blocked && this.#paused) this.#socket.resume();
    this.#paused = blocked;
    // the read deadline runs while the head frame is partial and the server is reading it
    if (blocked || this.#decoder.bufferedBytes === 0) this.#deadlines.frameDone();
    else this.#deadlines.frameStarted();
  }

  #setWaitingForBuffer(waiting: boolean): void {
    if (waiting === this.#waitingForBuffer) return;
    this.#waitingForBuffer = waiting;
    if (waiting) this.#host.requestBuffer.wait(this.#budgetWaiter);
    else this.#host.requestBuffer.cancel(this.#budgetWaiter);
  }

  /** Called by the budget after a release: try again; true while still waiting. */
  #retryBuffer(): boolean {
    if (this.closed || this.#draining) {
      this.#waitingForBuffer = false;
      return false;
    }
    this.#pump();
    return this.#waitingForBuffer;
  }

  #canTake(): boolean {
    return this.#inFlight < this.#host.requestsInFlightMax && !this.#writer.backlogged;
  }

  // ---- deadlines ---------------------------------------------------------------------------

  /** True when nothing is going on: no request in flight, no partial frame, nothing unsent. */
  #isIdle(): boolean {
    return (
      this.#inFlight === 0 &&
      this.#decoder.bufferedBytes === 0 &&
      this.#writer.queuedBytes === 0 &&
      this.#socket.writableLength === 0
    );
  }

  #onReadTimeout(): void {
    if (this.closed || this.#ended) return;
    this.#host.logger.warn(
      {
        ...this.#who(),
        timeoutMs: this.#host.requestReadTimeoutMs,
        frameBytes: this.#decoder.peekFrameBytes(),
        receivedBytes: this.#decoder.bufferedBytes,
      },
      "request frame not received in time, closing connection",
    );
    this.destroy();
  }

  #onIdle(): void {
    if (this.closed || this.#ended) return;
    this.#host.logger.debug(
      { ...this.#who(), idleMsMax: this.#host.connectionIdleMsMax },
      "idle connection closed",
    );
    this.end();
  }

  /** The stream can no longer be trusted: tell the peer once, then close this connection only. */
  #fail(err: unknown): void {
    const reason = (err as Error).message;
    this.#host.logger.warn({ ...this.#who(), reason }, "malformed request, closing connection");
    this.#draining = true;
    this.#ended = true;
    const frame = encodeServerFailureFrame({ code: Errors.CORRUPT_MESSAGE.code, message: reason });
    this.#writer.end(() => this.#socket.destroy(), frame);
  }

  /** A broken invariant: never answered; the host decides (by default the process crashes). */
  #fatal(err: unknown): void {
    this.#draining = true;
    this.#ended = true;
    try {
      this.#host.onFatal(err, this);
    } finally {
      this.#socket.destroy();
    }
  }

  // ---- dispatch ------------------------------------------------------------------------------

  #dispatch(req: RequestFrame, reservation: Reservation): void {
    const route = this.#host.route(req.apiKey);
    if (route === undefined) {
      this.#release(reservation);
      this.#host.logger.warn({ ...this.#who(), apiKey: req.apiKey }, "request for an unknown API key");
      const message = `API key ${req.apiKey} is not supported by this server`;
      this.#writeError(req.requestId, { code: Errors.UNSUPPORTED_VERSION.code, message });
      return;
    }
    const { api } = route;
    if (!supportsVersion(api, req.apiVersion)) {
      this.#release(reservation);
      const message = `${api.name} version ${req.apiVersion} is not supported (supported: ${api.minVersion}-${api.maxVersion})`;
      this.#host.logger.warn({ ...this.#who(), api: api.name, apiVersion: req.apiVersion }, message);
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
    this.#run(route, request, req, reservation);
  }

  /** Give a request's bytes back to the budget (once). */
  #release(reservation: Reservation): void {
    if (!this.#reservations.delete(reservation)) return;
    this.#host.requestBuffer.release(reservation.bytes);
  }

  #run(route: ErasedRoute, request: unknown, req: RequestFrame, reservation: Reservation): void {
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
      this.#finish(route.api, req.requestId, undefined, err, true, sent, reservation);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#finish(route.api, req.requestId, value, undefined, false, sent, reservation),
        (err: unknown) => this.#finish(route.api, req.requestId, undefined, err, true, sent, reservation),
      );
    } else {
      this.#finish(route.api, req.requestId, result, undefined, false, sent, reservation);
    }
  }

  #finish(
    api: ApiDef,
    requestId: number,
    value: unknown,
    err: unknown,
    failed: boolean,
    sent: Array<() => void>,
    reservation: Reservation,
  ): void {
    this.#inFlight--;
    const done = sent.length === 0 ? undefined : () => runAll(sent);
    let broken = false; // a failed assertion: a handler's, or the encoder's guard
    let brokenBy: unknown;
    if (!this.closed && !this.#ended) {
      try {
        if (failed) this.#writeError(requestId, this.#wireErrorOf(api, requestId, err), done);
        else this.#writeSuccess(api, requestId, value, done);
      } catch (thrown) {
        // nothing was written: the answer is built before any write
        broken = true;
        brokenBy = thrown;
        done?.();
      }
    } else {
      broken = failed && isAssertionError(err);
      brokenBy = err;
      done?.();
    }
    this.#release(reservation);
    if (broken) this.#fatal(brokenBy);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
    this.#pump();
  }

  /** The answer to a failed request, logged at its level; throws back a failed assertion. */
  #wireErrorOf(api: ApiDef, requestId: number, err: unknown): WireError {
    const served = servedErrorOf(err, api);
    const fields = { ...this.#who(), api: api.name, requestId, code: served.kind.code, err };
    const what =
      served.level === "error"
        ? "request handler failed unexpectedly"
        : `request refused: ${served.kind.name}`;
    this.#host.logger[served.level](fields, what);
    return { code: served.kind.code, message: served.message };
  }

  // ---- writing ------------------------------------------------------------------------------

  #writeSuccess(api: ApiDef, requestId: number, value: unknown, done?: () => void): void {
    let frame: FrameParts;
    try {
      const msg = create(api.response, value as never);
      assertWireCodes(api.response, msg);
      frame = encodeMessageParts(api.response, msg, responseFrameHeaderBytes, frameCopyBytesMax);
    } catch (err) {
      if (isAssertionError(err)) throw err;
      const wrapped = new Error(`cannot encode ${api.name} response: ${(err as Error).message}`, {
        cause: err,
      });
      this.#writeError(requestId, this.#wireErrorOf(api, requestId, wrapped), done);
      return;
    }
    this.#deadlines.touch();
    this.#writer.write(fillResponseHeader(frame, 0, requestId), done);
  }

  #writeError(requestId: number, error: WireError, done?: () => void): void {
    const frame = encodeErrorFrame(requestId, error);
    this.#deadlines.touch();
    this.#writer.write([frame], done);
  }

  #onClose(): void {
    this.#draining = true;
    this.#deadlines.stop();
    this.#writer.close();
    this.#setWaitingForBuffer(false);
    if (this.#headReservedBytes > 0) this.#host.requestBuffer.release(this.#headReservedBytes);
    this.#headReservedBytes = 0;
    for (const r of [...this.#reservations]) this.#release(r);
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
