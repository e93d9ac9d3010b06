// Replication and health metrics: ISR shrink/expand counters, under-replicated buckets among those
// a server leads, local log and KV bytes from a (cached, bounded) walk of its data directory, the
// active coordinator's cluster gauges (read at most once per cache interval), requests in flight
// and fetch time by source; /health answers 200 or 503 with a JSON body.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@fluss-ts/common";
import { ApiKeys, type RpcServer } from "@fluss-ts/rpc";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logging.ts";
import { MetricsHttpServer } from "../../src/metrics/metrics-http.ts";
import { CLUSTER_CACHE_MS, ReplicationMetrics } from "../../src/metrics/replication-metrics.ts";
import { type BucketOffsets, ServerMetrics } from "../../src/metrics/server-metrics.ts";
import { StorageSizeReader, walkStorage } from "../../src/metrics/storage-sizes.ts";

/** Samples of a Prometheus text exposition: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function bucket(b: number, leader: boolean, replicas?: number, isr?: number): BucketOffsets {
  return {
    tableId: 1n,
    partitionId: null,
    bucket: b,
    leader,
    logStartOffset: 0n,
    logEndOffset: 0n,
    highWatermark: 0n,
    ...(replicas === undefined ? {} : { replicas }),
    ...(isr === undefined ? {} : { inSyncReplicas: isr }),
  };
}

/** An RpcServer stand-in that keeps the handlers registered on it. */
function fakeRpc(): {
  rpc: RpcServer;
  handlers: Map<number, (req: unknown, ctx: unknown) => Promise<unknown>>;
} {
  const handlers = new Map<number, (req: unknown, ctx: unknown) => Promise<unknown>>();
  const rpc = {
    connectionCount: 0,
    handle(api: { key: number }, h: (req: unknown, ctx: unknown) => Promise<unknown>) {
      handlers.set(api.key, h);
      return rpc;
    },
  } as unknown as RpcServer;
  return { rpc, handlers };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tree(files: Record<string, number>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "fluss-sizes-"));
  dirs.push(root);
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), Buffer.alloc(bytes));
  }
  return root;
}

describe("replication metrics", () => {
  it("counts ISR shrinks and expands per server, from zero", async () => {
    const m = new ServerMetrics();
    m.instrument(fakeRpc().rpc, "tablet-0", () => []);
    m.instrument(fakeRpc().rpc, "tablet-1", () => []);
    const e = m.replication.events("tablet-1");
    e.isrShrunk();
    e.isrShrunk(2);
    e.isrExpanded();
    const s = samples(await m.registry.metrics());
    expect(s.get('fluss_isr_shrinks_total{server="tablet-0"}')).toBe(0);
    expect(s.get('fluss_isr_shrinks_total{server="tablet-1"}')).toBe(3);
    expect(s.get('fluss_isr_expands_total{server="tablet-1"}')).toBe(1);
  });

  it("counts led buckets with fewer in-sync replicas than replicas as under-replicated", async () => {
    const m = new ServerMetrics();
    const buckets = [
      bucket(0, true, 3, 3),
      bucket(1, true, 3, 2), // under-replicated
      bucket(2, false, 3, 1), // a follower: its leader counts it
      bucket(3, true), // replication unknown: not counted
      bucket(4, true, 3, 1), // under-replicated
    ];
    m.instrument(fakeRpc().rpc, "tablet-0", () => buckets);
    const s = samples(await m.registry.metrics());
    expect(s.get('fluss_under_replicated_buckets{server="tablet-0"}')).toBe(2);
  });

  it("reports local log and KV bytes from the server's data directory", async () => {
    const root = await tree({
      "db/t-1/log-0/00000000000000000000.log": 1000,
      "db/t-1/log-0/00000000000000000000.index": 24,
      "db/t-1/log-1/00000000000000000000.log": 500,
      "db/t-1/kv-1/db/data.mdb": 4096,
      "db/p-2/x-p3/log-0/00000000000000000000.log": 7,
      "db/stray.file": 99,
    });
    expect(await walkStorage(root)).toEqual({ logBytes: 1531, kvBytes: 4096, truncated: false });
    expect((await walkStorage(root, 3)).truncated).toBe(true);
    const m = new ServerMetrics();
    m.instrument(fakeRpc().rpc, "tablet-0", () => [], root);
    const s = samples(await m.registry.metrics());
    expect(s.get('fluss_local_storage_bytes{server="tablet-0",kind="log"}')).toBe(1531);
    expect(s.get('fluss_local_storage_bytes{server="tablet-0",kind="kv"}')).toBe(4096);
  });

  it("walks again only once the cached sizes are older than the cache interval", async () => {
    const root = await tree({ "d/t-1/log-0/a.log": 10 });
    const clock = new ManualClock(0);
    const reader = new StorageSizeReader(root, clock, 1000);
    expect((await reader.read()).logBytes).toBe(10);
    await writeFile(join(root, "d/t-1/log-0/b.log"), Buffer.alloc(5));
    clock.advance(999);
    expect((await reader.read()).logBytes).toBe(10);
    clock.advance(1);
    expect((await reader.read()).logBytes).toBe(15);
  });

  it("shows the active coordinator's cluster counts, read at most once per interval", async () => {
    const registry = new Registry();
    const clock = new ManualClock(0);
    const r = new ReplicationMetrics(registry, clock);
    let reads = 0;
    r.watchCluster(async () => {
      reads++;
      return { buckets: 10, underReplicated: 3, offline: 2, serversAlive: 2, serversDead: 1 };
    });
    const s = samples(await registry.metrics());
    expect(s.get('fluss_cluster_buckets{state="ok"}')).toBe(5);
    expect(s.get('fluss_cluster_buckets{state="under_replicated"}')).toBe(3);
    expect(s.get('fluss_cluster_buckets{state="offline"}')).toBe(2);
    expect(s.get('fluss_cluster_tablet_servers{state="dead"}')).toBe(1);
    await registry.metrics();
    expect(reads).toBe(1);
    clock.advance(CLUSTER_CACHE_MS);
    await registry.metrics();
    expect(reads).toBe(2);
  });

  it("a failing cluster read leaves its gauges empty, the scrape succeeds", async () => {
    const registry = new Registry();
    const r = new ReplicationMetrics(registry, new ManualClock(0));
    r.watchCluster(() => Promise.reject(new Error("store closed")));
    const text = await registry.metrics();
    expect(text).not.toContain("fluss_cluster_buckets{");
  });
});

describe("request metrics", () => {
  it("counts requests in flight while they wait and times fetches by source", async () => {
    const m = new ServerMetrics();
    const { rpc, handlers } = fakeRpc();
    m.instrument(rpc, "tablet-0", () => []);
    let release: () => void = () => undefined;
    rpc.handle(
      ApiKeys.FETCH_LOG,
      () => new Promise((resolve) => (release = () => resolve({ tablesResp: [] }))),
    );
    const fetch = handlers.get(ApiKeys.FETCH_LOG.key)!;
    const waiting = fetch({ followerServerId: 2, tablesReq: [] }, {});
    let s = samples(await m.registry.metrics());
    expect(s.get('fluss_requests_in_flight{server="tablet-0",api="FETCH_LOG"}')).toBe(1);
    release();
    await waiting;
    const client = fetch({ followerServerId: -1, tablesReq: [] }, {});
    release();
    await client;
    s = samples(await m.registry.metrics());
    expect(s.get('fluss_requests_in_flight{server="tablet-0",api="FETCH_LOG"}')).toBe(0);
    expect(s.get('fluss_fetch_wait_seconds_count{server="tablet-0",source="follower"}')).toBe(1);
    expect(s.get('fluss_fetch_wait_seconds_count{server="tablet-0",source="client"}')).toBe(1);
  });
});

describe("/health", () => {
  let http: MetricsHttpServer | undefined;
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it("answers 200 when serving and registered, 503 otherwise, with a JSON body", async () => {
    let state = { role: "tablet-server", serving: true, registered: true } as {
      role: string;
      serving: boolean;
      registered: boolean;
      detail?: string;
    };
    http = await MetricsHttpServer.start(new Registry(), "127.0.0.1", 0, silentLogger, () => state);
    const get = async () => {
      const res = await fetch(`http://${http!.address}/health`);
      return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
    };
    expect(await get()).toEqual({
      status: 200,
      type: "application/json",
      body: { status: "ok", role: "tablet-server", serving: true, registered: true },
    });
    state = { role: "tablet-server", serving: true, registered: false, detail: "session ended" };
    expect(await get()).toMatchObject({
      status: 503,
      body: { status: "unavailable", registered: false, detail: "session ended" },
    });
    state = { role: "coordinator", serving: false, registered: false };
    expect((await get()).status).toBe(503);
    expect((await fetch(`http://${http.address}/metrics`)).status).toBe(200);
    expect((await fetch(`http://${http.address}/nope`)).status).toBe(404);
  });

  it("a health check that throws answers 503 with its message", async () => {
    http = await MetricsHttpServer.start(new Registry(), "127.0.0.1", 0, silentLogger, () => {
      throw new Error("broken");
    });
    const res = await fetch(`http://${http.address}/health`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toBe("broken");
  });
});
