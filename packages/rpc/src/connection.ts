// Client side of one RPC connection: many requests in flight over one transport, answered in any
// order and matched by request id. Invariants:
// - at most `requestsInFlightMax` calls hold an id; more callers wait (FIFO, at most
//   `requestsWaitingMax`) for a slot; the outbound queue only holds calls that hold a slot;
// - every call settles exactly once: response, error response, timeout, abort or connection end;
// - a timed-out or aborted call frees its slot at once; a late response for it is dropped;
// - writes stop when the transport reports a full buffer and resume on drain;
// - a server failure, a broken frame or a lost transport fails every pending call with
//   NETWORK_EXCEPTION (retriable) and ends the connection; `close()` fails them with CLIENT_CLOSED;
// - with no call pending and no traffic for `idleMsMax` (shorter than the server's
//   connections.max.idle.ms, as in Kafka) the connection closes itself, so the server's idle close
//   never races a request in transit; a pool sees `isOpen` false and reconnects;
// - a request is encoded once, when `request()` is called; ProduceLog and PutKv records travel to
//   the socket by reference (fast-encode.ts), so bytes handed to `request()` belong to the
//   connection from then on: they must never be written again (see `request`). Each frame is
//   written once, its header filled just before; no part is touched after the socket has it.

import { create, fromBinary } from "@bufbuild/protobuf";
import { type Clock, Errors, errorFromCode, FlussError, isFlussError, systemClock } from "@fluss-ts/common";
import type { ApiDef, ReqInitOf, RespOf } from "./api-keys.ts";
import { supportsVersion } from "./api-keys.ts";
import {
  clientConnectionIdleMsMaxDefault,
  clientRequestsInFlightMaxDefault,
  clientRequestsWaitingMaxDefault,
  connectTimeoutMsDefault,
  frameBytesMaxDefault,
  frameCopyBytesMax,
  requestTimeoutMsDefault,
} from "./constants.ts";
import type { Logger, TimerHandle, Timers } from "./env.ts";
import { noopLogger, realTimers } from "./env.ts";
import { encodeMessageParts } from "./fast-encode.ts";
import type { FrameParts, ResponseFrame } from "./frame.ts";
import {
  decodeWireError,
  FrameDecoder,
  fillRequestHeader,
  parseResponseFrame,
  requestFrameHeaderBytes,
} from "./frame.ts";
import type { Transport, TransportConnector } from "./transport.ts";
import { tcpConnector } from "./transport.ts";

export interface RpcConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs?: number;
  /** Default time from `request()` to its response, waiting for a slot included. */
  readonly requestTimeoutMs?: number;
  readonly requestsInFlightMax?: number;
  readonly requestsWaitingMax?: number;
  /** Largest frame sent or received, counting the length prefix (default 100 MiB). */
  readonly frameBytesMax?: number;
  /** Close the connection after this long with no call pending and no traffic (default 9 min). */
  readonly idleMsMax?: number;
  /** Aborts the connect attempt only. */
  readonly signal?: AbortSignal;
  readonly connector?: TransportConnector;
  readonly timers?: Timers;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface RequestOptions {
  /** Overrides the connection's request timeout for this call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** API version to send (default: the highest fluss-ts supports for the API). */
  readonly apiVersion?: number;
}

interface Call {
  readonly api: ApiDef;
  readonly version: number;
  /** The encoded frame; its header is filled when the call gets its id and is written. */
  readonly frame: FrameParts;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: FlussError) => void;
  readonly signal: AbortSignal | undefined;
  id: number;
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
}

interface Limits {
  readonly requestTimeoutMs: number;
  readonly requestsInFlightMax: number;
  readonly requestsWaitingMax: number;
  readonly frameBytesMax: number;
  readonly idleMsMax: number;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0)
    throw new FlussError(Errors.INVALID_ARGUMENT, `${name} must be a positive integer`);
  return v;
}

const requestIdMax = 0x7fffffff;

export class RpcConnection {
  readonly host: string;
  readonly port: number;
  readonly #limits: Limits;
  readonly #timers: Timers;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #decoder: FrameDecoder;
  readonly #inFlight = new Map<number, Call>();
  readonly #waiting = new Set<Call>(); // no slot yet, FIFO
  readonly #outbound = new Set<Call>(); // holds a slot, not yet written (transport was full)
  #transport: Transport | undefined;
  #nextId = 0;
  #writable = true;
  #corked = false;
  #lastActivityMs: number;
  #idleTimer: TimerHandle | undefined;
  #closedError: FlussError | undefined;
  #resolveClosed!: (cause: FlussError) => void;
  /** Settles once the connection has ended, with the error pending calls were failed with. */
  readonly closed: Promise<FlussError>;

  private constructor(options: RpcConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.#limits = {
      requestTimeoutMs: positiveInt("requestTimeoutMs", options.requestTimeoutMs, requestTimeoutMsDefault),
      requestsInFlightMax: positiveInt(
        "requestsInFlightMax",
        options.requestsInFlightMax,
        clientRequestsInFlightMaxDefault,
      ),
      requestsWaitingMax: positiveInt(
        "requestsWaitingMax",
        options.requestsWaitingMax,
        clientRequestsWaitingMaxDefault,
      ),
      frameBytesMax: positiveInt("frameBytesMax", options.frameBytesMax, frameBytesMaxDefault),
      idleMsMax: positiveInt("idleMsMax", options.idleMsMax, clientConnectionIdleMsMaxDefault),
    };
    this.#timers = options.timers ?? realTimers;
    this.#clock = options.clock ?? systemClock;
    this.#lastActivityMs = this.#clock.nowMs();
    this.#logger = options.logger ?? noopLogger;
    this.#decoder = new FrameDecoder({ frameBytesMax: this.#limits.frameBytesMax });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Open a connection. Rejects with NETWORK_EXCEPTION when the server cannot be reached in time. */
  static async connect(options: RpcConnectionOptions): Promise<RpcConnection> {
    const conn = new RpcConnection(options);
    const connector = options.connector ?? tcpConnector;
    const transport = await connector(
      {
        host: options.host,
        port: options.port,
        connectTimeoutMs: positiveInt("connectTimeoutMs", options.connectTimeoutMs, connectTimeoutMsDefault),
        signal: options.signal,
        timers: conn.#timers,
      },
      {
        onData: (chunk) => conn.#onData(chunk),
        onDrain: () => conn.#onDrain(),
        onClose: (err) => conn.#onTransportClose(err),
      },
    );
    conn.#transport = transport;
    conn.#armIdle(conn.#limits.idleMsMax);
    return conn;
  }

  /** True until the connection fails or is closed. */
  get isOpen(): boolean {
    return this.#closedError === undefined;
  }

  /** Calls holding a request id (sent or about to be). */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Calls waiting for an in-flight slot. */
  get waitingCount(): number {
    return this.#waiting.size;
  }

  /**
   * Send one request and resolve with its decoded response. Rejects with the server's error
   * (`errorFromCode`), REQUEST_TIME_OUT, ABORTED, NETWORK_EXCEPTION (connection lost),
   * CLIENT_CLOSED, or INVALID_ARGUMENT (the message cannot be encoded).
   *
   * Ownership: large `bytes` fields (ProduceLog and PutKv records) are not copied but written to
   * the socket from the caller's memory, possibly after this returns and even after the call has
   * settled (they may still be queued). Never write into a byte array once it was passed here;
   * resending the same, unchanged bytes (a retry) is fine.
   */
  request<A extends ApiDef>(api: A, message: ReqInitOf<A>, options: RequestOptions = {}): Promise<RespOf<A>> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    let call: Call | undefined;
    const promise = new Promise<RespOf<A>>((resolve, reject) => {
      call = this.#newCall(api, message, options, resolve as (v: unknown) => void, reject);
    });
    if (call) this.#admit(call, options.timeoutMs ?? this.#limits.requestTimeoutMs);
    return promise;
  }

  /** Fail every pending call with CLIENT_CLOSED and close the transport. Idempotent. */
  async close(): Promise<void> {
    this.#end(
      new FlussError(Errors.CLIENT_CLOSED, `connection to ${this.host}:${this.port} closed by the client`),
    );
    await this.closed;
  }

  // ---- admission ------------------------------------------------------------------------------

  #newCall<A extends ApiDef>(
    api: A,
    message: ReqInitOf<A>,
    options: RequestOptions,
    resolve: (value: unknown) => void,
    reject: (error: FlussError) => void,
  ): Call | undefined {
    const version = options.apiVersion ?? api.maxVersion;
    if (!supportsVersion(api, version)) {
      reject(new FlussError(Errors.UNSUPPORTED_VERSION, `${api.name} has no version ${version}`));
      return undefined;
    }
    let frame: FrameParts;
    try {
      const msg = create(api.request, message);
      frame = encodeMessageParts(api.request, msg, requestFrameHeaderBytes, frameCopyBytesMax);
    } catch (err) {
      reject(new FlussError(Errors.INVALID_ARGUMENT, `cannot encode ${api.name}: ${(err as Error).message}`));
      return undefined;
    }
    if (requestFrameHeaderBytes + frame.bodyBytes > this.#limits.frameBytesMax) {
      reject(
        new FlussError(
          Errors.INVALID_ARGUMENT,
          `${api.name} request of ${frame.bodyBytes} bytes exceeds frameBytesMax`,
        ),
      );
      return undefined;
    }
    if (options.signal?.aborted) {
      reject(new FlussError(Errors.ABORTED, `${api.name} aborted`));
      return undefined;
    }
    return {
      api,
      version,
      frame,
      resolve,
      reject,
      signal: options.signal,
      id: -1,
      timer: undefined,
      onAbort: undefined,
    };
  }

  #admit(call: Call, timeoutMs: number): void {
    if (this.#inFlight.size < this.#limits.requestsInFlightMax) {
      this.#armCall(call, timeoutMs);
      this.#send(call);
      return;
    }
    if (this.#waiting.size >= this.#limits.requestsWaitingMax) {
      const msg = `${this.#waiting.size} requests already wait for a slot on ${this.host}:${this.port}`;
      call.reject(new FlussError(Errors.REQUEST_TIME_OUT, msg));
      return;
    }
    this.#armCall(call, timeoutMs);
    this.#waiting.add(call);
  }

  #armCall(call: Call, timeoutMs: number): void {
    call.timer = this.#timers.setTimeout(() => {
      const msg = `${call.api.name} to ${this.host}:${this.port} timed out after ${timeoutMs} ms`;
      this.#cancel(call, new FlussError(Errors.REQUEST_TIME_OUT, msg));
    }, timeoutMs);
    if (call.signal) {
      call.onAbort = () => this.#cancel(call, new FlussError(Errors.ABORTED, `${call.api.name} aborted`));
      call.signal.addEventListener("abort", call.onAbort, { once: true });
    }
  }

  /** Timeout or abort: forget the call wherever it is and free its slot. */
  #cancel(call: Call, error: FlussError): void {
    if (this.#waiting.delete(call)) {
      this.#settle(call);
      call.reject(error);
      return;
    }
    if (call.id >= 0 && this.#inFlight.get(call.id) === call) {
      this.#inFlight.delete(call.id);
      this.#outbound.delete(call);
      this.#settle(call);
      call.reject(error);
      this.#promoteWaiting();
    }
  }

  #settle(call: Call): void {
    if (call.timer !== undefined) this.#timers.clearTimeout(call.timer);
    if (call.onAbort) call.signal?.removeEventListener("abort", call.onAbort);
  }

  #promoteWaiting(): void {
    while (this.#inFlight.size < this.#limits.requestsInFlightMax && this.#waiting.size > 0) {
      const call = this.#waiting.values().next().value!;
      this.#waiting.delete(call);
      this.#send(call);
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  #send(call: Call): void {
    this.#lastActivityMs = this.#clock.nowMs();
    call.id = this.#allocateId();
    this.#inFlight.set(call.id, call);
    if (this.#writable && this.#outbound.size === 0) this.#write(call);
    else this.#outbound.add(call);
  }

  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id === requestIdMax ? 0 : id + 1;
      if (!this.#inFlight.has(id)) return id;
    }
  }

  #write(call: Call): void {
    const transport = this.#transport!;
    if (!this.#corked) {
      // Batch every frame written in this tick into one system call.
      this.#corked = true;
      transport.cork();
      process.nextTick(() => {
        this.#corked = false;
        transport.uncork();
      });
    }
    const parts = fillRequestHeader(call.frame, call.api.key, call.version, call.id);
    let ok = true;
    for (const part of parts) ok = transport.write(part);
    if (!ok) this.#writable = false;
  }

  #onDrain(): void {
    this.#writable = true;
    for (const call of this.#outbound) {
      if (!this.#writable) return;
      this.#outbound.delete(call);
      this.#write(call);
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    if (this.#closedError) return;
    this.#lastActivityMs = this.#clock.nowMs();
    this.#decoder.push(chunk);
    try {
      for (let frame = this.#decoder.next(); frame !== undefined; frame = this.#decoder.next()) {
        this.#onFrame(parseResponseFrame(frame));
        if (this.#closedError) return;
      }
    } catch (err) {
      const cause = isFlussError(err) ? err : undefined;
      this.#logger.warn(
        { host: this.host, port: this.port, err },
        "broken response stream, closing connection",
      );
      this.#end(
        new FlussError(
          Errors.NETWORK_EXCEPTION,
          `bad response from ${this.host}:${this.port}: ${(err as Error).message}`,
          { cause },
        ),
      );
    }
  }

  #onFrame(frame: ResponseFrame): void {
    if (frame.type === 2) {
      const wire = decodeWireError(frame.body);
      const cause = errorFromCode(wire.code, wire.message);
      const msg = `server ${this.host}:${this.port} failed the connection: ${cause.kind.name}: ${cause.message}`;
      this.#end(new FlussError(Errors.NETWORK_EXCEPTION, msg, { cause }));
      return;
    }
    const call = this.#inFlight.get(frame.requestId);
    if (call === undefined) {
      this.#logger.debug(
        { requestId: frame.requestId },
        "response for an unknown request (timed out or aborted)",
      );
      return;
    }
    this.#inFlight.delete(frame.requestId);
    this.#settle(call);
    this.#deliver(call, frame.type, frame.body);
    this.#promoteWaiting();
  }

  #deliver(call: Call, type: 0 | 1, body: Uint8Array): void {
    if (type === 1) {
      let wire: ReturnType<typeof decodeWireError>;
      try {
        wire = decodeWireError(body);
      } catch (err) {
        call.reject(err as FlussError);
        return;
      }
      call.reject(errorFromCode(wire.code, wire.message));
      return;
    }
    let response: unknown;
    try {
      response = fromBinary(call.api.response, body);
    } catch (err) {
      call.reject(
        new FlussError(
          Errors.CORRUPT_MESSAGE,
          `undecodable ${call.api.name} response: ${(err as Error).message}`,
        ),
      );
      return;
    }
    call.resolve(response);
  }

  // ---- ending ------------------------------------------------------------------------------

  #armIdle(delayMs: number): void {
    this.#idleTimer = this.#timers.setTimeout(() => this.#onIdleTimer(), delayMs);
  }

  /** Close when idle long enough; else look again when the idle period could next be over. */
  #onIdleTimer(): void {
    this.#idleTimer = undefined;
    if (this.#closedError) return;
    const idleMs = this.#clock.nowMs() - this.#lastActivityMs;
    const busy = this.#inFlight.size > 0 || this.#waiting.size > 0;
    if (!busy && idleMs >= this.#limits.idleMsMax) {
      this.#logger.debug({ host: this.host, port: this.port, idleMs }, "closing idle connection");
      const msg = `connection to ${this.host}:${this.port} closed after ${idleMs} ms idle`;
      this.#end(new FlussError(Errors.NETWORK_EXCEPTION, msg));
      return;
    }
    this.#armIdle(busy ? this.#limits.idleMsMax : this.#limits.idleMsMax - idleMs);
  }

  #onTransportClose(err: Error | undefined): void {
    const detail = err ? `: ${err.message}` : "";
    this.#end(
      new FlussError(Errors.NETWORK_EXCEPTION, `connection to ${this.host}:${this.port} closed${detail}`, {
        cause: err,
      }),
    );
  }

  /** Fail all pending calls with `error` and release the transport; the first cause wins. */
  #end(error: FlussError): void {
    if (this.#closedError) return;
    this.#closedError = error;
    if (this.#idleTimer !== undefined) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const pending = [...this.#inFlight.values(), ...this.#waiting];
    this.#inFlight.clear();
    this.#waiting.clear();
    this.#outbound.clear();
    for (const call of pending) {
      this.#settle(call);
      call.reject(error);
    }
    this.#transport?.destroy();
    this.#resolveClosed(error);
  }
}
