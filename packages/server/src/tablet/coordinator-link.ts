// A tablet server's RPC client to the active coordinator: registration and heartbeats when the
// cluster runs without ZooKeeper (RegisterTabletServer; with ZooKeeper the registry does this),
// auto-increment id ranges (AllocateIdRange), controlled shutdown, ISR changes, and the read-only
// admin requests a tablet server forwards (Fluss's servers read those from ZooKeeper).
// Invariants: one connection at a time, reopened on the next call after it broke; heartbeats never
// overlap (a tick while one is in flight is skipped); after `stop()` no heartbeat is sent. The
// coordinator's address comes from `coordinator()` on every connect, and a connection open to
// another address than it names now is left, so a new active coordinator (ZooKeeper election) is
// followed even while the old one's address still answers (restarted as a standby).

import { Errors, FlussError, isFlussError, type Scheduler, type TimerHandle } from "@fluss-ts/common";
import {
  type ApiDef,
  ApiKeys,
  isFieldSet,
  PbTableBucketSchema,
  type ReqInitOf,
  type RespOf,
  RpcConnection,
} from "@fluss-ts/rpc";
import type { ReplicaRef, ServerNode } from "../coordinator/types.ts";
import type { Logger } from "../logging.ts";
import type { IdRangeSource } from "./id-allocator.ts";

export interface CoordinatorAddress {
  readonly host: string;
  readonly port: number;
}

export interface CoordinatorLinkOptions {
  /** This tablet server as the cluster reaches it. */
  readonly node: ServerNode;
  /** Where the active coordinator is now (null: none known yet). */
  readonly coordinator: () => CoordinatorAddress | null;
  /** Register and heartbeat over RPC (no ZooKeeper registry). */
  readonly heartbeats: boolean;
  /** Differs between runs of this server id (a restart is a new incarnation). */
  readonly incarnation: bigint;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Time a request to the coordinator may take (registration waits for replicas to open). */
  readonly requestTimeoutMs: number;
}

/** Heartbeat interval until the coordinator says otherwise. */
const HEARTBEAT_MS_DEFAULT = 3_000;
/** Wait between registration attempts while the coordinator cannot be reached. */
const REGISTER_RETRY_MS = 1_000;
/** Id ranges: how long a coordinator out of reach is retried, and how often. */
const ID_RANGE_WAIT_MS = 10_000;
const ID_RANGE_RETRY_MS = 200;

export class CoordinatorLink implements IdRangeSource {
  private readonly o: CoordinatorLinkOptions;
  private conn: Promise<RpcConnection> | undefined;
  /** Where `conn` goes. */
  private connAddress: CoordinatorAddress | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private heartbeatInFlight = false;
  private stopping = false;
  private heartbeatMs = HEARTBEAT_MS_DEFAULT;
  /** The coordinator epoch the last registration answered with. */
  coordinatorEpoch = -1;
  /** Heartbeats only: the last registration or heartbeat was answered (for /health). */
  registered = false;

  constructor(o: CoordinatorLinkOptions) {
    this.o = o;
  }

  /** True once `stop()` was called: requests fail at once. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Send a request to the active coordinator. NETWORK_EXCEPTION (retriable) when none answers. */
  async request<A extends ApiDef>(api: A, message: ReqInitOf<A>): Promise<RespOf<A>> {
    if (this.stopping) throw new FlussError(Errors.NETWORK_EXCEPTION, "the tablet server is stopping");
    const conn = await this.connection();
    try {
      return await conn.request(api, message);
    } catch (err) {
      if (!conn.isOpen && this.conn) {
        this.conn = undefined;
        void conn.close().catch(() => undefined);
      }
      throw err;
    }
  }

  private connection(): Promise<RpcConnection> {
    const current = this.conn;
    const now = this.o.coordinator();
    const was = this.connAddress;
    if (current && now !== null && (now.host !== was?.host || now.port !== was?.port)) {
      // The active coordinator moved (its open connection may reach the old one restarted as a
      // standby, which answers nothing): leave it for the new one.
      this.conn = undefined;
      void current.then((c) => c.close()).catch(() => undefined);
      return this.reconnect(undefined);
    }
    if (current) {
      return current.then(
        (c) => (c.isOpen ? c : this.reconnect(current)),
        () => this.reconnect(current),
      );
    }
    return this.reconnect(undefined);
  }

  private reconnect(stale: Promise<RpcConnection> | undefined): Promise<RpcConnection> {
    if (this.conn !== stale && this.conn) return this.conn;
    const addr = this.o.coordinator();
    if (!addr)
      return Promise.reject(new FlussError(Errors.NETWORK_EXCEPTION, "no active coordinator is known"));
    const p = RpcConnection.connect({
      host: addr.host,
      port: addr.port,
      timers: this.o.scheduler,
      requestTimeoutMs: this.o.requestTimeoutMs,
    });
    this.conn = p;
    this.connAddress = addr;
    p.catch(() => {
      if (this.conn === p) this.conn = undefined;
    });
    return p;
  }

  /**
   * Register with the coordinator (once it answered, this server's replicas are open) and keep
   * heartbeating. A coordinator that cannot be reached yet (started later, restarting) is retried
   * every REGISTER_RETRY_MS until it answers or `stop()`; a refusal is final.
   */
  async start(): Promise<void> {
    if (!this.o.heartbeats) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.register();
        break;
      } catch (err) {
        if (this.stopping || !isFlussError(err) || !err.retriable) throw err;
        if (attempt % 10 === 1)
          this.o.logger.warn({ err, attempt }, "the coordinator cannot be reached yet; retrying");
        await new Promise<void>((resolve) => this.o.scheduler.setTimeout(resolve, REGISTER_RETRY_MS).unref());
      }
    }
    this.scheduleHeartbeat();
  }

  private async register(): Promise<void> {
    const n = this.o.node;
    const resp = await this.request(ApiKeys.REGISTER_TABLET_SERVER, {
      tabletServer: { nodeId: n.id, host: n.host, port: n.port, listeners: `FLUSS://${n.host}:${n.port}` },
      incarnation: this.o.incarnation,
    });
    this.coordinatorEpoch = resp.coordinatorEpoch;
    this.registered = true;
    if (resp.heartbeatIntervalMs > 0) this.heartbeatMs = resp.heartbeatIntervalMs;
  }

  private scheduleHeartbeat(): void {
    if (this.stopping) return;
    this.heartbeatTimer = this.o.scheduler.setTimeout(() => {
      if (this.heartbeatInFlight) return this.scheduleHeartbeat();
      this.heartbeatInFlight = true;
      this.register()
        .catch((err: unknown) => {
          this.registered = false;
          this.o.logger.warn({ err }, "heartbeat to the coordinator failed; retrying");
        })
        .finally(() => {
          this.heartbeatInFlight = false;
          this.scheduleHeartbeat();
        });
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /**
   * Reserve auto-increment ids; a coordinator briefly out of reach (restarting, a new one being
   * elected) is retried for up to ID_RANGE_WAIT_MS before the failure is returned.
   */
  async allocateIdRange(tableId: bigint, column: string, count: number): Promise<bigint> {
    for (let waitedMs = 0; ; waitedMs += ID_RANGE_RETRY_MS) {
      try {
        const r = await this.request(ApiKeys.ALLOCATE_ID_RANGE, { tableId, columnName: column, count });
        return r.firstId;
      } catch (err) {
        if (this.stopping || !isFlussError(err) || !err.retriable || waitedMs >= ID_RANGE_WAIT_MS) throw err;
        await new Promise<void>((resolve) => this.o.scheduler.setTimeout(resolve, ID_RANGE_RETRY_MS).unref());
      }
    }
  }

  /** Ask to move leadership away before stopping; returns the buckets this server still leads. */
  async controlledShutdown(): Promise<ReplicaRef[]> {
    const resp = await this.request(ApiKeys.CONTROLLED_SHUTDOWN, {
      tabletServerId: this.o.node.id,
      tabletServerEpoch: -1,
    });
    return resp.remainingLeaderBuckets.map((b) => ({
      tableId: b.tableId,
      partitionId: isFieldSet(b, PbTableBucketSchema.field.partitionId) ? b.partitionId : null,
      bucket: b.bucketId,
    }));
  }

  /** Stop heartbeating and close the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.o.scheduler.clearTimeout(this.heartbeatTimer);
    const conn = this.conn;
    this.conn = undefined;
    await (await conn?.catch(() => undefined))?.close();
  }
}
