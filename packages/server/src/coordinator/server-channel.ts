// An ordered, retrying channel of control requests from the coordinator to one tablet server
// (Fluss's CoordinatorChannelManager, one sender per server): requests go one at a time, in the
// order they were queued, so a server never acts on a later change before an earlier one. A
// retriable failure (connection lost, timeout) reconnects and resends the same request after a
// backoff on the injected Scheduler (control requests are idempotent: the server fences by epoch);
// a non-retriable answer fails that request alone and the next goes on.
// Invariants: every queued request settles exactly once (answer, refusal, or `close`); at most
// `requestsMax` requests wait (past that a new one is refused with STORAGE_BACKPRESSURE, retriable);
// after `close` nothing is sent and everything pending fails.

import {
  Errors,
  FlussError,
  isFlussError,
  type Scheduler,
  type TimerHandle,
  toFlussError,
} from "@fluss-ts/common";
import type { ApiDef, ReqInitOf, RespOf } from "@fluss-ts/rpc";
import type { Logger } from "../logging.ts";

/** What the channel sends requests through (an RpcConnection; fakes in tests). */
export interface ControlConnection {
  readonly isOpen: boolean;
  request<A extends ApiDef>(api: A, message: ReqInitOf<A>): Promise<RespOf<A>>;
  close(): Promise<void>;
}

export interface ServerChannelOptions {
  /** `tablet server 3 at host:port`, for logs and errors. */
  readonly name: string;
  readonly connect: () => Promise<ControlConnection>;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  readonly requestsMax?: number;
}

interface Pending {
  readonly api: ApiDef;
  readonly message: unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: FlussError) => void;
}

export const CONTROL_BACKOFF_MS_MIN = 100;
export const CONTROL_BACKOFF_MS_MAX = 5_000;
export const CONTROL_REQUESTS_MAX = 100_000;

export class ServerChannel {
  private readonly o: ServerChannelOptions;
  private readonly queue: Pending[] = [];
  private conn: ControlConnection | undefined;
  private running = false;
  private closed = false;
  private backoffMs: number;
  private retryTimer: TimerHandle | undefined;
  private wake: (() => void) | undefined;

  constructor(o: ServerChannelOptions) {
    this.o = o;
    this.backoffMs = o.backoffMsMin ?? CONTROL_BACKOFF_MS_MIN;
  }

  /** Requests queued or in flight. */
  get pendingCount(): number {
    return this.queue.length;
  }

  /** Queue a request (now, in order); resolves with the server's answer. */
  send<A extends ApiDef>(api: A, message: ReqInitOf<A>): Promise<RespOf<A>> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.queue.length >= (this.o.requestsMax ?? CONTROL_REQUESTS_MAX)) {
      return Promise.reject(
        new FlussError(Errors.STORAGE_BACKPRESSURE_EXCEPTION, `too many requests queued for ${this.o.name}`),
      );
    }
    const p = new Promise<RespOf<A>>((resolve, reject) => {
      this.queue.push({ api, message, resolve: resolve as (v: unknown) => void, reject });
    });
    if (!this.running) void this.run();
    return p;
  }

  /** Fail everything pending and stop sending (the server left). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.scheduler.clearTimeout(this.retryTimer);
    this.wake?.();
    const err = this.closedError();
    for (const p of this.queue.splice(0)) p.reject(err);
    const conn = this.conn;
    this.conn = undefined;
    void conn?.close().catch(() => undefined);
  }

  private closedError(): FlussError {
    return new FlussError(Errors.NETWORK_EXCEPTION, `${this.o.name} left the cluster`);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const head = this.queue[0]!;
        const outcome = await this.attempt(head);
        if (this.closed) return;
        if (outcome === "retry") {
          await this.sleep();
          continue;
        }
        this.queue.shift();
        this.backoffMs = this.o.backoffMsMin ?? CONTROL_BACKOFF_MS_MIN;
        if (outcome.ok) head.resolve(outcome.value);
        else head.reject(outcome.error);
      }
    } finally {
      this.running = false;
    }
  }

  private async attempt(
    p: Pending,
  ): Promise<"retry" | { ok: true; value: unknown } | { ok: false; error: FlussError }> {
    try {
      if (!this.conn?.isOpen) this.conn = await this.o.connect();
      const value = await this.conn.request(p.api, p.message as ReqInitOf<ApiDef>);
      return { ok: true, value };
    } catch (err) {
      const e = toFlussError(err);
      if (!e.retriable) return { ok: false, error: e };
      this.o.logger.debug({ err: e, api: p.api.name }, `${this.o.name} unreachable; retrying`);
      if (isFlussError(err) && (err.is(Errors.NETWORK_EXCEPTION) || err.is(Errors.REQUEST_TIME_OUT))) {
        const conn = this.conn;
        this.conn = undefined;
        void conn?.close().catch(() => undefined);
      }
      return "retry";
    }
  }

  private sleep(): Promise<void> {
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.o.backoffMsMax ?? CONTROL_BACKOFF_MS_MAX, this.backoffMs * 2);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.retryTimer = this.o.scheduler.setTimeout(resolve, ms);
      this.retryTimer.unref();
    });
  }
}
