// The RPC server: a TCP listener, a registry of one handler per API key, and the accepted
// connections (each a ServerConnection). ApiVersions (1000) is answered here from the registered
// handlers, as Fluss servers do. Invariants: at most `connectionsMax` connections are open (more
// are closed at once, logged); one handler per API key, registered before or after `listen`;
// `close()` stops accepting, lets running handlers finish for at most `closeTimeoutMs`, then
// closes every connection (destroying those that do not flush in another `closeTimeoutMs`).
// Incoming requests share one byte budget (`requestBufferBytesMax`, at least `frameBytesMax` so
// any legal frame fits); started frames must arrive within `requestReadTimeoutMs`; idle
// connections close after `connectionIdleMsMax`. A failed assertion on any connection goes to
// `onFatal` (default: log at fatal, exit the process with code 70), never to the client.

import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { type Clock, Errors, FlussError, systemClock } from "@fluss-ts/common";
import type { ApiDef, ReqOf, RespInitOf } from "./api-keys.ts";
import { ApiKeys } from "./api-keys.ts";
import {
  frameBytesMaxDefault,
  serverCloseTimeoutMsDefault,
  serverConnectionIdleMsMaxDefault,
  serverConnectionsMaxDefault,
  serverRequestBufferBytesMaxDefault,
  serverRequestReadTimeoutMsDefault,
  serverRequestsInFlightMaxDefault,
} from "./constants.ts";
import type { Logger, Timers } from "./env.ts";
import { noopLogger, realTimers } from "./env.ts";
import type { ApiVersionsResponse } from "./gen/fluss/api_pb.ts";
import { ApiVersionsResponseSchema } from "./gen/fluss/api_pb.ts";
import { RequestBufferBudget } from "./request-buffer.ts";
import type { ConnectionHost, ErasedRoute, RequestContext } from "./server-connection.ts";
import { ServerConnection } from "./server-connection.ts";
import { responseSliceBytesMaxDefault } from "./server-writer.ts";

export type { RequestContext } from "./server-connection.ts";

/**
 * Handles one API: returns (or resolves to) the response; throws a FlussError to answer with its code.
 * Ownership: large `bytes` values of FetchLog, Lookup, PrefixLookup, LimitScan and ScanKv
 * responses are written to the socket from the handler's memory, not copied, possibly well after
 * the handler returned; so return only bytes nobody writes into again (a fresh read buffer, not
 * a reused scratch buffer or an lmdb `getBinaryFast` view). Views of the request's bytes are fine.
 */
export type RequestHandler<A extends ApiDef> = (
  request: ReqOf<A>,
  ctx: RequestContext,
) => RespInitOf<A> | Promise<RespInitOf<A>>;

export interface RpcServerOptions {
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  readonly port?: number;
  /** Fluss server type reported by ApiVersions: 1 coordinator, 2 tablet server. */
  readonly serverType?: number;
  readonly connectionsMax?: number;
  readonly requestsInFlightMax?: number;
  /** Largest request frame, counting the length prefix (Fluss netty.server.max-request-size, 100 MiB). */
  readonly frameBytesMax?: number;
  readonly closeTimeoutMs?: number;
  /**
   * Bytes of incoming requests held at once over all connections (each started frame reserves
   * its whole size until answered); must be at least `frameBytesMax` (default 256 MiB).
   */
  readonly requestBufferBytesMax?: number;
  /** Time a started frame may take to arrive in full before its connection closes (default 30 s). */
  readonly requestReadTimeoutMs?: number;
  /** A connection idle this long is closed (Kafka connections.max.idle.ms; default 10 min). */
  readonly connectionIdleMsMax?: number;
  /**
   * Response bytes handed to a socket per event-loop turn (default 256 KiB): a multi-MiB
   * response leaves in slices so it never holds the loop for long.
   */
  readonly responseSliceBytesMax?: number;
  /**
   * Called with a failed assertion raised while serving (a bug): the error is never answered.
   * Default: log at fatal and exit the process with code 70 (EX_SOFTWARE). Tests inject one.
   */
  readonly onFatal?: (err: unknown) => void;
  readonly logger?: Logger;
  readonly timers?: Timers;
  readonly clock?: Clock;
}

/** What the server holds for incoming requests (for tests and metrics). */
export interface RequestBufferStats {
  /** Bytes reserved now by frames being received or handled. */
  readonly reservedBytes: number;
  /** The most bytes ever reserved at once; never over `bytesMax`. */
  readonly reservedBytesPeak: number;
  readonly bytesMax: number;
  /** Bytes read and not yet answered, over all connections (reserved or not). */
  readonly heldBytes: number;
  /** Connections whose reading waits for the budget. */
  readonly waitingConnections: number;
}

/** Exit code of a process stopped by a broken invariant (sysexits EX_SOFTWARE). */
export const fatalExitCode = 70;

/** The default `onFatal`: the stack on stderr (even with logging off), then exit. */
function crashProcess(err: unknown): never {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`fluss-ts: invariant broken, exiting: ${text}\n`);
  process.exit(fatalExitCode);
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

function limit(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0)
    throw new FlussError(Errors.INVALID_ARGUMENT, `${name} must be a positive integer`);
  return v;
}

export class RpcServer {
  readonly #host: ConnectionHost;
  readonly #logger: Logger;
  readonly #options: RpcServerOptions;
  readonly #connectionsMax: number;
  readonly #closeTimeoutMs: number;
  readonly #timers: Timers;
  readonly #requestBuffer: RequestBufferBudget;
  readonly #routes = new Map<number, ErasedRoute>();
  readonly #connections = new Set<ServerConnection>();
  readonly #apiVersionsRoute: ErasedRoute;
  #server: net.Server | undefined;
  #address: BoundAddress | undefined;
  #nextConnectionId = 0;
  #closing: Promise<void> | undefined;

  constructor(options: RpcServerOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#timers = options.timers ?? realTimers;
    const frameBytesMax = limit("frameBytesMax", options.frameBytesMax, frameBytesMaxDefault);
    const bufferBytesMax = limit(
      "requestBufferBytesMax",
      options.requestBufferBytesMax,
      serverRequestBufferBytesMaxDefault,
    );
    if (bufferBytesMax < frameBytesMax) {
      throw new FlussError(
        Errors.INVALID_ARGUMENT,
        `requestBufferBytesMax (${bufferBytesMax}) must be at least frameBytesMax (${frameBytesMax}), or a largest frame could never be read`,
      );
    }
    this.#requestBuffer = new RequestBufferBudget(bufferBytesMax);
    const onFatal = options.onFatal ?? crashProcess;
    this.#host = {
      logger: this.#logger,
      requestsInFlightMax: limit(
        "requestsInFlightMax",
        options.requestsInFlightMax,
        serverRequestsInFlightMaxDefault,
      ),
      frameBytesMax,
      requestBuffer: this.#requestBuffer,
      requestReadTimeoutMs: limit(
        "requestReadTimeoutMs",
        options.requestReadTimeoutMs,
        serverRequestReadTimeoutMsDefault,
      ),
      connectionIdleMsMax: limit(
        "connectionIdleMsMax",
        options.connectionIdleMsMax,
        serverConnectionIdleMsMaxDefault,
      ),
      responseSliceBytesMax: limit(
        "responseSliceBytesMax",
        options.responseSliceBytesMax,
        responseSliceBytesMaxDefault,
      ),
      clock: options.clock ?? systemClock,
      timers: this.#timers,
      route: (apiKey) => this.#route(apiKey),
      onClosed: (conn) => this.#onClosed(conn),
      onFatal: (err, conn) => {
        const fields = { connectionId: conn.id, remote: `${conn.remoteAddress}:${conn.remotePort}`, err };
        const log = this.#logger.fatal ?? this.#logger.error;
        log.call(this.#logger, fields, "invariant broken while serving a request");
        onFatal(err);
      },
    };
    this.#connectionsMax = limit("connectionsMax", options.connectionsMax, serverConnectionsMaxDefault);
    this.#closeTimeoutMs = limit("closeTimeoutMs", options.closeTimeoutMs, serverCloseTimeoutMsDefault);
    this.#apiVersionsRoute = { api: ApiKeys.API_VERSIONS, handler: () => this.apiVersions() };
  }

  /** Register the handler of one API. Throws if the API already has one, or is ApiVersions. */
  handle<A extends ApiDef>(api: A, handler: RequestHandler<A>): this {
    if (api.key === ApiKeys.API_VERSIONS.key) {
      throw new FlussError(Errors.INVALID_ARGUMENT, "ApiVersions is answered by the server itself");
    }
    if (this.#routes.has(api.key))
      throw new FlussError(Errors.INVALID_ARGUMENT, `${api.name} already has a handler`);
    this.#routes.set(api.key, { api, handler: handler as ErasedRoute["handler"] });
    return this;
  }

  #route(apiKey: number): ErasedRoute | undefined {
    if (apiKey === ApiKeys.API_VERSIONS.key) return this.#apiVersionsRoute;
    return this.#routes.get(apiKey);
  }

  /** What ApiVersions answers: ApiVersions itself plus every API with a handler, in key order. */
  apiVersions(): ApiVersionsResponse {
    const apis = [ApiKeys.API_VERSIONS, ...[...this.#routes.values()].map((r) => r.api)].sort(
      (a, b) => a.key - b.key,
    );
    const response = create(ApiVersionsResponseSchema, {
      apiVersions: apis.map((a) => ({ apiKey: a.key, minVersion: a.minVersion, maxVersion: a.maxVersion })),
    });
    if (this.#options.serverType !== undefined) response.serverType = this.#options.serverType;
    return response;
  }

  /** The bound address, once listening. */
  get address(): BoundAddress {
    if (!this.#address) throw new FlussError(Errors.INVALID_ARGUMENT, "the server is not listening");
    return this.#address;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Bytes held for incoming requests now, and the bound. */
  requestBufferStats(): RequestBufferStats {
    let heldBytes = 0;
    let waitingConnections = 0;
    for (const c of this.#connections) {
      heldBytes += c.heldBytes;
      if (c.waitingForBuffer) waitingConnections++;
    }
    return {
      reservedBytes: this.#requestBuffer.usedBytes,
      reservedBytesPeak: this.#requestBuffer.peakBytes,
      bytesMax: this.#requestBuffer.bytesMax,
      heldBytes,
      waitingConnections,
    };
  }

  /** Bind and start accepting. Resolves with the bound address (the real port when port was 0). */
  listen(): Promise<BoundAddress> {
    if (this.#server) {
      return Promise.reject(new FlussError(Errors.INVALID_ARGUMENT, "the server is already listening"));
    }
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.#options.host ?? "127.0.0.1", port: this.#options.port ?? 0 }, () => {
        server.off("error", reject);
        server.on("error", (err) => this.#logger.error({ err }, "listener error"));
        const bound = server.address() as net.AddressInfo;
        this.#address = { host: bound.address, port: bound.port };
        this.#logger.info({ ...this.#address }, "rpc server listening");
        resolve(this.#address);
      });
    });
  }

  #accept(socket: net.Socket): void {
    if (this.#closing || this.#connections.size >= this.#connectionsMax) {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      this.#logger.warn(
        { remote, connectionsMax: this.#connectionsMax },
        "connection refused: server full or closing",
      );
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(this.#nextConnectionId++, socket, this.#host);
    this.#connections.add(conn);
    this.#logger.debug(
      { connectionId: conn.id, remote: `${conn.remoteAddress}:${conn.remotePort}` },
      "connection opened",
    );
  }

  #onClosed(conn: ServerConnection): void {
    this.#connections.delete(conn);
    this.#logger.debug({ connectionId: conn.id }, "connection closed");
  }

  /** Stop accepting, let running handlers finish (bounded), close all connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    const listenerClosed = new Promise<void>((resolve) =>
      server ? server.close(() => resolve()) : resolve(),
    );
    const conns = [...this.#connections];
    for (const c of conns) c.stopReading();
    const idle = await this.#within(Promise.all(conns.map((c) => c.idle())));
    if (!idle)
      this.#logger.warn(
        { timeoutMs: this.#closeTimeoutMs },
        "handlers still running at close; dropping them",
      );
    for (const c of conns) c.end();
    const flushed = await this.#within(listenerClosed);
    if (!flushed) {
      for (const c of this.#connections) c.destroy();
      await listenerClosed;
    }
    this.#logger.info({}, "rpc server closed");
  }

  /** True if `p` settles within closeTimeoutMs. */
  #within(p: Promise<unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(() => resolve(false), this.#closeTimeoutMs);
      p.then(() => {
        this.#timers.clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
