// Redis Streams as a peer: start Debian's redis-server on a free loopback port in a temp dir (no
// persistence, as the dependency notes measure it), then the same workloads as Fluss from Node via
// ioredis: append (XADD in pipelines with a few pipelines outstanding), read back (XRANGE pages),
// and produce-to-consume latency (paced XADD, a second connection blocked in XREAD). For the
// upsert and lookup workloads: SET of the same ~100-byte row string per key (pipelined) and GET
// from 64 concurrent callers (auto-pipelining, or explicit pipelines of 100 GETs).

import { Redis } from "ioredis";
import { startFollower } from "../follower.ts";
import { findBinary, freePort, makeTempDir, startChild, WaitAborted, waitFor } from "../proc.ts";
import { type EventRow, eventRow, eventString, nowMicros } from "../rows.ts";
import {
  type LatencyResult,
  latencyResult,
  paced,
  type Skipped,
  type ThroughputResult,
} from "../workload.ts";

export const REDIS_INSTALL_HINT =
  "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server nats-server";

/** Rows per pipeline and pipelines outstanding for the append workload. */
const PIPELINE_ROWS = 500;
const PIPELINES_IN_FLIGHT = 2;
const READ_PAGE_ROWS = 10_000;

export interface RedisPeer {
  port: number;
  /** The redis-server process (for its CPU time). */
  pid: number;
  client: Redis;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisPeer | Skipped> {
  const bin = findBinary("redis-server");
  if (!bin) return { skipped: `redis-server not installed (${REDIS_INSTALL_HINT})` };
  const dir = makeTempDir("redis");
  const port = await freePort();
  const child = startChild(bin, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--protected-mode",
    "no",
  ]);
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: null });
  // Refused connects while the server starts are expected; later errors surface on commands.
  client.on("error", () => undefined);
  await waitFor("redis-server", async () => {
    if (child.proc.exitCode !== null) throw new WaitAborted(`redis-server exited: ${child.output()}`);
    await client.connect().catch(() => undefined);
    return (await client.ping()) === "PONG";
  });
  return {
    port,
    pid: child.pid,
    client,
    async stop() {
      client.disconnect();
      await child.stop();
    },
  };
}

/** Append `rows` event rows to stream `key` with pipelined XADD. */
export async function redisAppend(peer: RedisPeer, key: string, rows: number): Promise<ThroughputResult> {
  await peer.client.del(key);
  let bytes = 0;
  const inFlight: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let start = 0; start < rows; start += PIPELINE_ROWS) {
    const p = peer.client.pipeline();
    const end = Math.min(rows, start + PIPELINE_ROWS);
    for (let i = start; i < end; i++) {
      const s = eventString(eventRow(i));
      bytes += s.length;
      p.xadd(key, "*", "d", s);
    }
    inFlight.push(p.exec());
    if (inFlight.length >= PIPELINES_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - t0) / 1000;
  const len = await peer.client.xlen(key);
  if (len !== rows) throw new Error(`redis stream ${key} has ${len} entries, expected ${rows}`);
  return { rows, bytes, seconds };
}

/** Read the whole stream back with XRANGE pages. */
export async function redisReadBack(peer: RedisPeer, key: string): Promise<ThroughputResult> {
  let rows = 0;
  let bytes = 0;
  let from = "-";
  const t0 = performance.now();
  for (;;) {
    const page = await peer.client.xrangeBuffer(key, from, "+", "COUNT", READ_PAGE_ROWS);
    if (page.length === 0) break;
    for (const [, fields] of page) bytes += fields[1]!.length;
    rows += page.length;
    from = `(${page[page.length - 1]![0].toString()}`;
    if (page.length < READ_PAGE_ROWS) break;
  }
  return { rows, bytes, seconds: (performance.now() - t0) / 1000 };
}

/** Paced XADD at `rate` rows/s for `seconds`; a follower thread blocked in XREAD measures latency. */
export async function redisLatency(
  peer: RedisPeer,
  key: string,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<LatencyResult> {
  await peer.client.del(key);
  // A seed entry: the follower reads from just after it, so it cannot miss the first rows.
  const afterId = (await peer.client.xadd(key, "*", "d", eventString(eventRow(0, nowMicros())))) ?? "0";
  const follower = await startFollower({ system: "redis", port: peer.port, key, afterId });
  follower.begin(nowMicros() + BigInt(Math.round(warmupSeconds * 1e6)));
  const outstanding: Promise<unknown>[] = [];
  const run = await paced(rate, seconds, async (count, first) => {
    const p = peer.client.pipeline();
    const ts = nowMicros();
    for (let i = first; i < first + count; i++) p.xadd(key, "*", "d", eventString(eventRow(i, ts)));
    outstanding.push(p.exec());
    while (outstanding.length > 8) await outstanding.shift();
  });
  await Promise.all(outstanding);
  const r = await follower.finish(run.produced);
  return latencyResult(rate, run.produced / run.seconds, run.produced, r.seen, r.sorted);
}

/** The Redis key of a row of the key-value workloads. */
export function redisKey(id: number | bigint): string {
  return `k${id}`;
}

/**
 * SET `rowAt(i)` (as its compact string) under its id for i in [0, rowsMax), pipelined like XADD;
 * stops early (at a pipeline boundary) after `secondsMax`.
 */
export async function redisSetRows(
  peer: RedisPeer,
  rowsMax: number,
  rowAt: (i: number) => EventRow,
  rowBytes: number,
  secondsMax = Number.POSITIVE_INFINITY,
): Promise<ThroughputResult> {
  const inFlight: Promise<unknown>[] = [];
  const t0 = performance.now();
  const deadline = t0 + secondsMax * 1000;
  let rows = 0;
  for (let start = 0; start < rowsMax && performance.now() < deadline; start += PIPELINE_ROWS) {
    const p = peer.client.pipeline();
    const end = Math.min(rowsMax, start + PIPELINE_ROWS);
    rows = end;
    for (let i = start; i < end; i++) {
      const r = rowAt(i);
      p.set(redisKey(r.id), eventString(r));
    }
    inFlight.push(p.exec());
    if (inFlight.length >= PIPELINES_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return { rows, bytes: rows * rowBytes, seconds: (performance.now() - t0) / 1000 };
}

export type RedisGetMode = "auto-pipelining" | "pipelines of 100";

/** GETs per explicit pipeline in the "pipelines of 100" mode. */
export const GET_PIPELINE = 100;

/**
 * A closed-loop operation for `closedLoop`: GET random keys of [0, keys) and check each value is
 * that key's row. "auto-pipelining": one GET per call on an ioredis client with
 * enableAutoPipelining (concurrent calls share a write); "pipelines of 100": 100 GETs per call in
 * one explicit pipeline (each GET is recorded with the pipeline's latency).
 */
export async function redisGetter(
  peer: RedisPeer,
  keys: number,
  mode: RedisGetMode,
): Promise<{ op: () => Promise<number>; bad: () => number; close(): void }> {
  const client =
    mode === "auto-pipelining"
      ? new Redis({ host: "127.0.0.1", port: peer.port, enableAutoPipelining: true, lazyConnect: true })
      : peer.client;
  if (client !== peer.client) await client.connect();
  let bad = 0;
  const check = (id: number, v: string | null | undefined): void => {
    if (typeof v !== "string" || !v.startsWith(`${id}|`)) bad++;
  };
  const op =
    mode === "auto-pipelining"
      ? async (): Promise<number> => {
          const id = Math.floor(Math.random() * keys);
          check(id, await client.get(redisKey(id)));
          return 1;
        }
      : async (): Promise<number> => {
          const p = client.pipeline();
          const ids: number[] = [];
          for (let i = 0; i < GET_PIPELINE; i++) {
            const id = Math.floor(Math.random() * keys);
            ids.push(id);
            p.get(redisKey(id));
          }
          const res = (await p.exec()) ?? [];
          for (let i = 0; i < GET_PIPELINE; i++) {
            const [err, v] = res[i] ?? [new Error("missing reply"), null];
            check(ids[i]!, err ? null : (v as string | null));
          }
          return GET_PIPELINE;
        };
  return {
    op,
    bad: () => bad,
    close() {
      if (client !== peer.client) client.disconnect();
    },
  };
}
