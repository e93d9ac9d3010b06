// Prometheus metrics of the servers of one process (prom-client, one Registry per process, so two
// clusters in one test process never share counters). Servers are told apart by a `server` label
// ("coordinator", "tablet-0", ...). Names follow Prometheus conventions (snake case, `_total`
// counters, seconds) with Fluss's nouns: requests and errors per API, request time, bytes in/out
// (record bytes of produce/put-kv and fetch, Fluss's bytesIn/bytesOut), KV puts and lookups, open
// connections, replicas, per-bucket log start/end offset and high watermark, requests in flight
// (a long-poll fetch counts while it waits), fetch time by source (client or follower),
// replication (replication-metrics.ts: ISR shrinks/expands, under-replicated buckets, local log
// and KV bytes, the cluster's bucket states on the active coordinator), and prom-client's process
// and Node.js metrics.
// Invariants: label values come from closed sets (API names, error names, server names, and at
// most BUCKET_SERIES_MAX buckets per gauge), so the number of series is bounded whatever the
// traffic; instrumenting a server only wraps its handlers, it never changes what they answer.

import { errorKindOf, isFlussError } from "@fluss-ts/common";
import {
  type ApiDef,
  ApiKeys,
  type ReqOf,
  type RequestHandler,
  type RespInitOf,
  type RpcServer,
} from "@fluss-ts/rpc";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { ReplicationMetrics } from "./replication-metrics.ts";

/** Series per per-bucket gauge; buckets past this are counted in fluss_table_bucket_series_omitted. */
export const BUCKET_SERIES_MAX = 1000;

/** Request time buckets, seconds: 0.1 ms to 30 s (a long-poll fetch waits up to its max wait). */
const DURATION_BUCKETS_S = [
  0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** One bucket replica as the metrics see it. */
export interface BucketOffsets {
  readonly tableId: bigint;
  readonly partitionId: bigint | null;
  readonly bucket: number;
  readonly leader: boolean;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  readonly highWatermark: bigint;
  /** A led bucket's replicas and in-sync replicas, when the server knows them (under-replicated gauge). */
  readonly replicas?: number;
  readonly inSyncReplicas?: number;
}

/** A server whose state is read at scrape time. */
interface Watched {
  readonly server: string;
  readonly rpc: RpcServer;
  readonly buckets: (() => Iterable<BucketOffsets>) | null;
}

type ServerLabel = "server";
type Counters = {
  readonly errors: Counter<"server" | "api" | "error">;
  readonly bytesIn: Counter<ServerLabel>;
  readonly bytesOut: Counter<ServerLabel>;
  readonly kvPuts: Counter<ServerLabel>;
  readonly lookupKeys: Counter<"server" | "kind">;
};

/** Reads what a request and its answer say beyond "one request of this API". */
type Inspector<A extends ApiDef> = (req: ReqOf<A>, resp: RespInitOf<A>, c: Counters, server: string) => void;

function countBucketErrors(
  c: Counters,
  server: string,
  api: ApiDef,
  buckets: readonly { errorCode?: number }[] | undefined,
): void {
  for (const b of buckets ?? []) {
    if (b.errorCode !== undefined && b.errorCode !== 0) {
      c.errors.inc({ server, api: api.name, error: errorKindOf(b.errorCode).name });
    }
  }
}

const inspectors = new Map<number, Inspector<ApiDef>>();
function inspect<A extends ApiDef>(api: A, f: Inspector<A>): void {
  inspectors.set(api.key, f as unknown as Inspector<ApiDef>);
}

inspect(ApiKeys.PRODUCE_LOG, (req, resp, c, server) => {
  let bytes = 0;
  for (const b of req.bucketsReq) bytes += b.records.byteLength;
  c.bytesIn.inc({ server }, bytes);
  countBucketErrors(c, server, ApiKeys.PRODUCE_LOG, resp.bucketsResp);
});
inspect(ApiKeys.PUT_KV, (req, resp, c, server) => {
  let bytes = 0;
  for (const b of req.bucketsReq) bytes += b.records.byteLength;
  c.bytesIn.inc({ server }, bytes);
  c.kvPuts.inc({ server }, req.bucketsReq.length);
  countBucketErrors(c, server, ApiKeys.PUT_KV, resp.bucketsResp);
});
inspect(ApiKeys.FETCH_LOG, (_req, resp, c, server) => {
  let bytes = 0;
  for (const t of resp.tablesResp ?? []) {
    for (const b of t.bucketsResp ?? []) bytes += b.records?.byteLength ?? 0;
    countBucketErrors(c, server, ApiKeys.FETCH_LOG, t.bucketsResp);
  }
  c.bytesOut.inc({ server }, bytes);
});
inspect(ApiKeys.LOOKUP, (req, resp, c, server) => {
  let keys = 0;
  for (const b of req.bucketsReq) keys += b.keys.length;
  c.lookupKeys.inc({ server, kind: "point" }, keys);
  countBucketErrors(c, server, ApiKeys.LOOKUP, resp.bucketsResp);
});
inspect(ApiKeys.PREFIX_LOOKUP, (req, resp, c, server) => {
  let keys = 0;
  for (const b of req.bucketsReq) keys += b.keys.length;
  c.lookupKeys.inc({ server, kind: "prefix" }, keys);
  countBucketErrors(c, server, ApiKeys.PREFIX_LOOKUP, resp.bucketsResp);
});
inspect(ApiKeys.LIST_OFFSETS, (_req, resp, c, server) => {
  countBucketErrors(c, server, ApiKeys.LIST_OFFSETS, resp.bucketsResp);
});

export class ServerMetrics {
  readonly registry = new Registry();
  /** ISR events, under-replicated buckets, local storage bytes, cluster bucket states. */
  readonly replication: ReplicationMetrics;
  private readonly watched: Watched[] = [];
  private readonly requests: Counter<"server" | "api">;
  private readonly inFlight: Gauge<"server" | "api">;
  private readonly duration: Histogram<"server" | "api">;
  private readonly fetchWait: Histogram<"server" | "source">;
  private readonly counters: Counters;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.replication = new ReplicationMetrics(this.registry);
    this.requests = new Counter({
      name: "fluss_requests_total",
      help: "Requests answered, per server and API",
      labelNames: ["server", "api"],
      registers,
    });
    this.inFlight = new Gauge({
      name: "fluss_requests_in_flight",
      help: "Requests being handled now, per server and API (FETCH_LOG: fetches waiting for data)",
      labelNames: ["server", "api"],
      registers,
    });
    this.duration = new Histogram({
      name: "fluss_request_duration_seconds",
      help: "Time from a decoded request to its answer (a fetch includes its long-poll wait)",
      labelNames: ["server", "api"],
      buckets: DURATION_BUCKETS_S,
      registers,
    });
    this.fetchWait = new Histogram({
      name: "fluss_fetch_wait_seconds",
      help: "Time a FetchLog took, long-poll wait included, by source: client or follower (replication)",
      labelNames: ["server", "source"],
      buckets: DURATION_BUCKETS_S,
      registers,
    });
    this.counters = {
      errors: new Counter({
        name: "fluss_request_errors_total",
        help: "Errors answered, per server, API and Fluss error (a whole request or one bucket of it)",
        labelNames: ["server", "api", "error"],
        registers,
      }),
      bytesIn: new Counter({
        name: "fluss_bytes_in_total",
        help: "Record bytes received by ProduceLog and PutKv",
        labelNames: ["server"],
        registers,
      }),
      bytesOut: new Counter({
        name: "fluss_bytes_out_total",
        help: "Record bytes sent by FetchLog",
        labelNames: ["server"],
        registers,
      }),
      kvPuts: new Counter({
        name: "fluss_kv_put_batches_total",
        help: "KV batches (one per bucket of a PutKv request) received",
        labelNames: ["server"],
        registers,
      }),
      lookupKeys: new Counter({
        name: "fluss_kv_lookup_keys_total",
        help: "Keys looked up, point or prefix",
        labelNames: ["server", "kind"],
        registers,
      }),
    };
    this.registerGauges();
  }

  /**
   * Count, time and inspect every request `rpc` answers; read its connections (and, for a tablet
   * server, its buckets, and the sizes under `storageDir`) at scrape time. Call before registering
   * the server's handlers.
   */
  instrument(
    rpc: RpcServer,
    server: string,
    buckets?: () => Iterable<BucketOffsets>,
    storageDir?: string,
  ): void {
    this.watched.push({ server, rpc, buckets: buckets ?? null });
    if (buckets) this.replication.watchTablet(server, buckets, storageDir);
    const register = rpc.handle.bind(rpc);
    const wrapped = <A extends ApiDef>(api: A, handler: RequestHandler<A>): RpcServer =>
      register(api, this.wrap(server, api, handler));
    rpc.handle = wrapped;
  }

  private wrap<A extends ApiDef>(server: string, api: A, handler: RequestHandler<A>): RequestHandler<A> {
    const labels = { server, api: api.name };
    const inspector = inspectors.get(api.key) as Inspector<A> | undefined;
    const fetchSource = (req: ReqOf<A>): string | null =>
      api.key !== ApiKeys.FETCH_LOG.key
        ? null
        : (req as ReqOf<typeof ApiKeys.FETCH_LOG>).followerServerId >= 0
          ? "follower"
          : "client";
    return async (req, ctx) => {
      const stop = this.duration.startTimer(labels);
      const source = fetchSource(req);
      const stopFetch = source === null ? null : this.fetchWait.startTimer({ server, source });
      this.requests.inc(labels);
      this.inFlight.inc(labels);
      try {
        const resp = await handler(req, ctx);
        inspector?.(req, resp, this.counters, server);
        return resp;
      } catch (err) {
        const error = isFlussError(err) ? err.kind.name : "UNKNOWN_SERVER_ERROR";
        this.counters.errors.inc({ ...labels, error });
        throw err;
      } finally {
        this.inFlight.dec(labels);
        stopFetch?.();
        stop();
      }
    };
  }

  private registerGauges(): void {
    const registers = [this.registry];
    const watched = this.watched;
    new Gauge({
      name: "fluss_connections",
      help: "Open client connections, per server",
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const w of watched) this.set({ server: w.server }, w.rpc.connectionCount);
      },
    });
    new Gauge({
      name: "fluss_replicas",
      help: "Bucket replicas hosted, per server and role",
      labelNames: ["server", "role"],
      registers,
      collect() {
        this.reset();
        for (const w of watched) {
          if (!w.buckets) continue;
          let leaders = 0;
          let followers = 0;
          for (const b of w.buckets()) {
            if (b.leader) leaders++;
            else followers++;
          }
          this.set({ server: w.server, role: "leader" }, leaders);
          this.set({ server: w.server, role: "follower" }, followers);
        }
      },
    });
    const bucketLabels = ["server", "table_id", "partition_id", "bucket"] as const;
    const omitted = new Map<string, number>();
    const end = new Gauge({
      name: "fluss_table_bucket_log_end_offset",
      help: "Offset the next record of a bucket's log gets (LEO)",
      labelNames: bucketLabels,
      registers: [],
    });
    const hw = new Gauge({
      name: "fluss_table_bucket_high_watermark",
      help: "Offset below which a bucket's records are committed and visible to readers",
      labelNames: bucketLabels,
      registers: [],
    });
    // The first per-bucket gauge reads the buckets once for all three (and for the omitted count);
    // the registry collects metrics in registration order, so it is registered first.
    new Gauge({
      name: "fluss_table_bucket_log_start_offset",
      help: "First offset of a bucket's log",
      labelNames: bucketLabels,
      registers,
      collect() {
        this.reset();
        end.reset();
        hw.reset();
        omitted.clear();
        let series = 0;
        for (const w of watched) {
          if (!w.buckets) continue;
          let left = 0;
          for (const b of w.buckets()) {
            if (series >= BUCKET_SERIES_MAX) {
              left++;
              continue;
            }
            series++;
            const labels = {
              server: w.server,
              table_id: String(b.tableId),
              partition_id: b.partitionId === null ? "" : String(b.partitionId),
              bucket: String(b.bucket),
            };
            this.set(labels, Number(b.logStartOffset));
            end.set(labels, Number(b.logEndOffset));
            hw.set(labels, Number(b.highWatermark));
          }
          omitted.set(w.server, left);
        }
      },
    });
    this.registry.registerMetric(end);
    this.registry.registerMetric(hw);
    new Gauge({
      name: "fluss_table_bucket_series_omitted",
      help: `Buckets left out of the per-bucket gauges (at most ${BUCKET_SERIES_MAX} series each), per server`,
      labelNames: ["server"],
      registers,
      collect() {
        this.reset();
        for (const [server, n] of omitted) this.set({ server }, n);
      },
    });
  }
}
