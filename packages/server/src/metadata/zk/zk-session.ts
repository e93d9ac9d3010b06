// One ZooKeeper session per server process, on node-zookeeper-client (pure JS). Paths given to it
// are relative to `zookeeper.path.root` (Fluss's default "/fluss"), which it creates at connect.
// Session life, as a server must see it:
//  - "disconnected": the connection is lost; the session (its ephemeral nodes, watches) may still
//    live; requests queue until the connection comes back ("reconnected").
//  - "expired": the session is gone: its ephemeral nodes are deleted, its watches lost. Reported when
//    the server says so at a reconnect, or locally once the server has not answered for the whole
//    negotiated session timeout, counted from the send time of the last request it answered (so
//    never later than the server may expire it; this is how a process cut off from ZooKeeper, or
//    facing a frozen server, learns it, as Curator's LOST; a watchdog sends a request when idle).
//    Requests not yet sent on that session are dropped, never sent later. The client then opens a
//    new session on its own ("session") until closed; owners of ephemeral nodes and watches
//    re-create them on "session".
// Requests: at most `inFlightRequestsMax` at once (Fluss's zookeeper.client.max-inflight-requests);
// each waits at most `requestTimeoutMs` for its answer. A failure is a ZooKeeperError with the
// ZooKeeper code; `ambiguous` marks a write whose outcome is unknown (sent, then the connection was
// lost or the answer did not come in time): the caller learns the outcome by reading after it (reads
// on a session are ordered after its earlier writes) or from the next session.
// Invariants: events of an abandoned client never reach listeners (generation check); a request is
// answered exactly once; after close() nothing is sent and no timer stays armed.

import {
  assert,
  type Clock,
  type Scheduler,
  systemClock,
  systemScheduler,
  type TimerHandle,
} from "@fluss-ts/common";
import type { Client } from "node-zookeeper-client";
import zookeeper from "node-zookeeper-client";
import type { Logger } from "../../logging.ts";
import { silentLogger } from "../../logging.ts";
import { abandon, hex, toBigInt } from "./zk-library.ts";
import { ZkCode, type ZkSessionEvent, ZooKeeperError } from "./zk-types.ts";
import { WaitList } from "./zk-wait-list.ts";

export interface ZooKeeperClientOptions {
  /** `host:port[,host:port...]` (zookeeper.address). */
  readonly address: string;
  /** Root of every path (zookeeper.path.root, default "/fluss"). */
  readonly rootPath?: string;
  /** Requested session timeout (zookeeper.client.session-timeout, default 60 s); the server may clamp it. */
  readonly sessionTimeoutMs?: number;
  /** Time to establish a session (zookeeper.client.connection-timeout, default 15 s). */
  readonly connectionTimeoutMs?: number;
  /** Time one request waits for its answer (default: the connection timeout). */
  readonly requestTimeoutMs?: number;
  /** Requests outstanding at once (zookeeper.client.max-inflight-requests, default 100). */
  readonly inFlightRequestsMax?: number;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
}

export const ZK_ROOT_DEFAULT = "/fluss";
export const ZK_SESSION_TIMEOUT_MS_DEFAULT = 60_000;
export const ZK_CONNECTION_TIMEOUT_MS_DEFAULT = 15_000;
export const ZK_IN_FLIGHT_REQUESTS_MAX_DEFAULT = 100;
/** Pause before the next attempt at a new session (doubles up to the max). */
const RESESSION_BACKOFF_MS_MIN = 100;
const RESESSION_BACKOFF_MS_MAX = 5_000;
/** The library's pause between rounds over the servers of the ensemble. */
const SPIN_DELAY_MS = 200;

/** True when the server answered (a result or an error of its own, not a lost connection). */
function isServerAnswer(err: unknown): boolean {
  if (err === null || err === undefined) return true;
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === "number" &&
    code !== ZkCode.CONNECTION_LOSS &&
    code !== ZkCode.SESSION_EXPIRED &&
    code !== ZkCode.OPERATION_TIMEOUT
  );
}

/** The session machinery under ZooKeeperClient: sessions, their events, and the request engine. */
export abstract class ZooKeeperSession {
  readonly address: string;
  readonly rootPath: string;
  readonly sessionTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  private readonly inFlightMax: number;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private client: Client | null = null;
  private generation = 0;
  private connected = false;
  private closed = false;
  /** Checks that the server still answers (see `watchdog`). */
  private watchdogTimer: TimerHandle | undefined;
  /** Send time of the latest request the server answered: the server heard from us then. */
  private lastAnsweredSendMs = 0;
  private heartbeatInFlight = false;
  private resessionTimer: TimerHandle | undefined;
  private readonly listeners = new Set<(e: ZkSessionEvent) => void>();
  private inFlight = 0;
  private readonly slots: WaitList;
  private readonly sessionWaiters: WaitList;

  protected constructor(o: ZooKeeperClientOptions) {
    this.address = o.address;
    this.rootPath = o.rootPath ?? ZK_ROOT_DEFAULT;
    this.sessionTimeoutMs = o.sessionTimeoutMs ?? ZK_SESSION_TIMEOUT_MS_DEFAULT;
    this.connectionTimeoutMs = o.connectionTimeoutMs ?? ZK_CONNECTION_TIMEOUT_MS_DEFAULT;
    this.requestTimeoutMs = o.requestTimeoutMs ?? this.connectionTimeoutMs;
    this.inFlightMax = o.inFlightRequestsMax ?? ZK_IN_FLIGHT_REQUESTS_MAX_DEFAULT;
    this.clock = o.clock ?? systemClock;
    this.scheduler = o.scheduler ?? systemScheduler;
    this.logger = o.logger ?? silentLogger;
    assert(this.address.trim() !== "", "a ZooKeeper address is given");
    assert(/^(\/[^/]+)+$/.test(this.rootPath), "the ZooKeeper root is an absolute path without a trailing /");
    for (const ms of [this.sessionTimeoutMs, this.connectionTimeoutMs, this.requestTimeoutMs]) {
      assert(Number.isSafeInteger(ms) && ms > 0, "ZooKeeper timeouts are positive");
    }
    assert(Number.isSafeInteger(this.inFlightMax) && this.inFlightMax >= 1, "in-flight bound >= 1");
    const noSession = () =>
      new ZooKeeperError(ZkCode.CONNECTION_LOSS, `no ZooKeeper session at ${this.address}`, false);
    this.slots = new WaitList(this.clock, this.scheduler, noSession);
    this.sessionWaiters = new WaitList(this.clock, this.scheduler, noSession);
  }

  /** Listen to session events; returns the unsubscribe function. */
  onSessionEvent(listener: (e: ZkSessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The current session's id (hex), or null between sessions. */
  get sessionId(): string | null {
    return this.client === null ? null : hex(this.client.getSessionId());
  }

  /** The current session's id as ZooKeeper reports it in ephemeral owners. */
  get sessionIdBigInt(): bigint | null {
    return this.client === null ? null : toBigInt(this.client.getSessionId());
  }

  /** Id and password of the current session (tests expire it on the server with these). */
  sessionCredentials(): { id: Buffer; password: Buffer } | null {
    if (this.client === null) return null;
    return { id: this.client.getSessionId(), password: this.client.getSessionPassword() };
  }

  /** The session timeout the server granted (the requested one before the first connect). */
  get negotiatedSessionTimeoutMs(): number {
    return this.client?.getSessionTimeout() ?? this.sessionTimeoutMs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.clearInterval(this.watchdogTimer);
    this.scheduler.clearTimeout(this.resessionTimer);
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.generation++;
    this.sessionWaiters.wakeAll();
    if (client !== null) abandon(client);
  }

  // ---- sessions ------------------------------------------------------------------------------

  /** A connected client on a new session, or null when none came within the connection timeout. */
  protected openSession(): Promise<Client | null> {
    const client = zookeeper.createClient(this.address, {
      sessionTimeout: this.sessionTimeoutMs,
      spinDelay: SPIN_DELAY_MS,
      retries: 0,
    });
    return new Promise((resolve) => {
      const timer = this.scheduler.setTimeout(() => {
        abandon(client);
        resolve(null);
      }, this.connectionTimeoutMs);
      client.once("connected", () => {
        this.scheduler.clearTimeout(timer);
        resolve(client);
      });
      client.connect();
    });
  }

  protected adopt(client: Client): void {
    this.client = client;
    this.connected = true;
    const generation = ++this.generation;
    client.on("state", (state) => this.onState(generation, state.code));
    this.lastAnsweredSendMs = this.clock.nowMs();
    const timeoutMs = client.getSessionTimeout();
    this.scheduler.clearInterval(this.watchdogTimer);
    this.watchdogTimer = this.scheduler.setInterval(
      () => this.watchdog(generation),
      Math.max(1, Math.floor(timeoutMs / 6)),
    );
    this.sessionWaiters.wakeAll();
    this.logger.info(
      { zookeeper: this.address, session: this.sessionId, sessionTimeoutMs: client.getSessionTimeout() },
      "ZooKeeper session started",
    );
  }

  private emit(e: ZkSessionEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  private onState(generation: number, code: number): void {
    if (generation !== this.generation || this.closed) return;
    const sessionId = this.sessionId ?? "";
    if (code === zookeeper.State.SYNC_CONNECTED.code && !this.connected) {
      this.connected = true;
      this.logger.info({ session: sessionId }, "ZooKeeper connection back");
      this.sessionWaiters.wakeAll();
      this.emit({ kind: "reconnected", sessionId });
    } else if (code === zookeeper.State.DISCONNECTED.code && this.connected) {
      this.connected = false;
      this.logger.warn(
        { session: sessionId, timeoutMs: this.negotiatedSessionTimeoutMs },
        "ZooKeeper connection lost",
      );
      this.emit({ kind: "disconnected", sessionId });
    } else if (code === zookeeper.State.EXPIRED.code) {
      this.sessionLost(generation, "server");
    }
  }

  /**
   * The session is over for us once the server has not heard from us for a whole session timeout
   * (counted from the send time of the last request it answered, so never later than the server
   * may expire it): then it may have expired it and let another process take our place. The
   * library notices a dead connection only when the socket fails (not when the server freezes or
   * the network drops packets), so when idle for a third of the timeout we send a request of our
   * own to learn whether the server still answers.
   */
  private watchdog(generation: number): void {
    if (generation !== this.generation || this.closed) return;
    const timeoutMs = this.negotiatedSessionTimeoutMs;
    const silentMs = this.clock.nowMs() - this.lastAnsweredSendMs;
    if (silentMs >= timeoutMs) {
      this.sessionLost(generation, "timeout");
    } else if (silentMs >= timeoutMs / 3 && !this.heartbeatInFlight) {
      this.heartbeatInFlight = true;
      void this.request<void>("heartbeat", false, (c, done) => c.exists(this.rootPath, (err) => done(err)))
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.heartbeatInFlight = false;
        });
    }
  }

  /** The session is over: drop its client, tell listeners, and start opening a new one. */
  private sessionLost(generation: number, why: "server" | "timeout"): void {
    if (generation !== this.generation || this.closed) return;
    const sessionId = this.sessionId ?? "";
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.generation++;
    this.scheduler.clearInterval(this.watchdogTimer);
    if (client !== null) abandon(client);
    this.logger.warn({ session: sessionId, why }, "ZooKeeper session expired");
    this.emit({ kind: "expired", sessionId, why });
    this.resession(RESESSION_BACKOFF_MS_MIN);
  }

  private resession(backoffMs: number): void {
    if (this.closed) return;
    void this.openSession().then((client) => {
      if (this.closed) {
        if (client !== null) abandon(client);
        return;
      }
      if (client !== null) {
        this.adopt(client);
        this.emit({ kind: "session", sessionId: this.sessionId ?? "" });
        return;
      }
      const next = Math.min(backoffMs * 2, RESESSION_BACKOFF_MS_MAX);
      this.resessionTimer = this.scheduler.setTimeout(() => this.resession(next), backoffMs);
    });
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Absolute path of a root-relative path ("/" is the root itself). */
  full(path: string): string {
    assert(path.startsWith("/"), "ZooKeeper paths are absolute");
    return path === "/" ? this.rootPath : this.rootPath + path;
  }

  protected relative(abs: string): string {
    return abs === this.rootPath
      ? "/"
      : abs.startsWith(`${this.rootPath}/`)
        ? abs.slice(this.rootPath.length)
        : abs;
  }

  private async acquire(deadlineMs: number): Promise<void> {
    while (this.inFlight >= this.inFlightMax) await this.slots.wait(deadlineMs);
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.slots.wakeOne();
  }

  /**
   * Run one request on the current session. `write` marks requests whose outcome is unknown when
   * they fail after being handed to the client.
   */
  protected async request<T>(
    what: string,
    write: boolean,
    send: (client: Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const deadlineMs = this.clock.nowMs() + this.requestTimeoutMs;
    await this.acquire(deadlineMs);
    try {
      while (this.client === null) {
        if (this.closed) throw new ZooKeeperError(ZkCode.CONNECTION_LOSS, "ZooKeeper client closed", false);
        await this.sessionWaiters.wait(deadlineMs);
      }
      const client = this.client;
      const generation = this.generation;
      const sentMs = this.clock.nowMs();
      return await new Promise<T>((resolve, reject) => {
        let answered = false;
        const timer = this.scheduler.setTimeout(
          () => {
            if (answered) return;
            answered = true;
            reject(
              new ZooKeeperError(
                ZkCode.OPERATION_TIMEOUT,
                `${what}: no answer in ${this.requestTimeoutMs} ms`,
                write,
              ),
            );
          },
          Math.max(1, deadlineMs - this.clock.nowMs()),
        );
        send(client, (err, value) => {
          if (generation === this.generation && isServerAnswer(err)) {
            this.lastAnsweredSendMs = Math.max(this.lastAnsweredSendMs, sentMs);
          }
          if (answered) return;
          answered = true;
          this.scheduler.clearTimeout(timer);
          if (err === null || err === undefined) resolve(value as T);
          else reject(this.zkError(what, err, write));
        });
      });
    } finally {
      this.release();
    }
  }

  private zkError(what: string, err: unknown, write: boolean): ZooKeeperError {
    const code = typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1;
    const lost =
      code === ZkCode.CONNECTION_LOSS || code === ZkCode.SESSION_EXPIRED || code === ZkCode.OPERATION_TIMEOUT;
    return new ZooKeeperError(code, `${what}: ${String(err)}`, write && lost);
  }

  /** Time now on this client's clock (for deadlines of callers). */
  nowMs(): number {
    return this.clock.nowMs();
  }

  /**
   * Wait until the client has a connected session (the same or a new one), or the deadline passes.
   * Resolves true when connected.
   */
  async whenConnected(deadlineMs: number): Promise<boolean> {
    while (!this.connected || this.client === null) {
      if (this.closed || this.clock.nowMs() >= deadlineMs) return false;
      try {
        await this.sessionWaiters.wait(deadlineMs);
      } catch {
        return false;
      }
    }
    return true;
  }
}
