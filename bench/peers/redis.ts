// Redis Streams as a peer: start Debian's redis-server on a free loopback port in a temp dir (no
// persistence, as the dependency notes measure it), then the same workloads as Fluss from Node via
// ioredis: append (XADD in pipelines with a few pipelines outstanding), read back (XRANGE pages),
// and produce-to-consume latency (paced XADD, a second connection blocked in XREAD).

import { Redis } from "ioredis";
import { startFollower } from "../follower.ts";
import { findBinary, freePort, makeTempDir, startChild, WaitAborted, waitFor } from "../proc.ts";
import { eventRow, eventString, nowMicros } from "../rows.ts";
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
