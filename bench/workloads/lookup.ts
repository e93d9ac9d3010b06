// The lookup workload: point lookups by primary key on the N keys the upsert workload loaded (or
// that this workload loads itself when run alone), from 64 concurrent callers in the benchmark
// process, each looping `await lookuper.lookup({ id })` over uniformly random existing keys.
// Lookups/s and p50/p99 latency per lookup. The peer is Redis GET from Node (ioredis) on the same
// keys and ~100-byte values, 64 callers, in two modes: auto-pipelining (one GET per call) and
// explicit pipelines of 100 GETs per call; the faster mode is the peer. Each system and mode: a
// warm-up, then best of 3 fixed-duration rounds. Every returned row is checked against its key.

import type { BenchContext } from "../context.ts";
import { type RedisGetMode, redisGetter, redisSetRows } from "../peers/redis.ts";
import { cpuMs } from "../proc.ts";
import { eventRow, eventRowBytes } from "../rows.ts";
import { fmtCount, fmtMsPair, fmtRatio, type ResultRow } from "../table.ts";
import {
  attempt,
  type Best,
  bestOf,
  type ClosedLoopResult,
  closedLoop,
  isSkipped,
  log,
  type Outcome,
  outcomeCell,
  outcomeNote,
  rowsPerSec,
} from "../workload.ts";
import { flussKvLoad, KV_BUCKETS } from "./upsert.ts";

const CALLERS = 64;
const WARMUP_SECONDS = 2;
const STRETCH_QPS = 300_000;
const REDIS_MODES: readonly RedisGetMode[] = ["auto-pipelining", "pipelines of 100"];

type Round = ClosedLoopResult & { clientCpuS: number; serverCpuS: number };
type Run = Best<Round>;

async function measure(
  rounds: number,
  seconds: number,
  op: () => Promise<number>,
  bad: () => number,
  what: string,
  serverPid: number,
): Promise<Run> {
  await closedLoop(CALLERS, WARMUP_SECONDS, op);
  const best = await bestOf(rounds, async () => {
    const cpu0 = process.cpuUsage();
    const srv0 = cpuMs(serverPid) ?? 0;
    const r = await closedLoop(CALLERS, seconds, op);
    const cpu = process.cpuUsage(cpu0);
    return {
      ...r,
      clientCpuS: (cpu.user + cpu.system) / 1e6,
      serverCpuS: ((cpuMs(serverPid) ?? 0) - srv0) / 1000,
    };
  });
  if (bad() > 0) throw new Error(`${what}: ${bad()} lookups returned a missing or wrong row`);
  return best;
}

export async function lookupWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const rounds = opts.quick ? 2 : 3;
  const seconds = opts.lookupSeconds;
  const rowBytes = eventRowBytes();

  let loadedHere = false;
  const fluss: Outcome<Run & { keys: number }> = await attempt(async () => {
    const server = await ctx.fluss();
    if (ctx.kvFluss === undefined) {
      log(opts, `lookup: loading ${opts.kvKeys} keys into fluss`);
      const { table } = await flussKvLoad(server, opts.kvKeys, rowBytes);
      ctx.kvFluss = { table, keys: opts.kvKeys };
      loadedHere = true;
    }
    const { table, keys } = ctx.kvFluss;
    log(opts, `lookup: fluss, ${CALLERS} callers, ${WARMUP_SECONDS} s warm-up, ${rounds} x ${seconds} s`);
    const lookuper = table.newLookuper();
    let bad = 0;
    const op = async (): Promise<number> => {
      const id = BigInt(Math.floor(Math.random() * keys));
      const row = await lookuper.lookup({ id });
      if (row === null || row.id !== id) bad++;
      return 1;
    };
    return { ...(await measure(rounds, seconds, op, () => bad, "fluss", server.pid)), keys };
  });
  outcomeNote(ctx, "fluss", "lookup", fluss);

  const redisPeer = await ctx.redis();
  const redis: Outcome<{ mode: RedisGetMode; run: Run }[]> = isSkipped(redisPeer)
    ? redisPeer
    : await attempt(async () => {
        if (ctx.kvRedisKeys === undefined) {
          log(opts, `lookup: loading ${opts.kvKeys} keys into redis`);
          await redisPeer.client.flushdb();
          await redisSetRows(redisPeer, opts.kvKeys, eventRow, rowBytes);
          ctx.kvRedisKeys = opts.kvKeys;
        }
        const keys = ctx.kvRedisKeys;
        const out: { mode: RedisGetMode; run: Run }[] = [];
        for (const mode of REDIS_MODES) {
          log(opts, `lookup: redis GET (${mode}), ${CALLERS} callers, ${rounds} x ${seconds} s`);
          const g = await redisGetter(redisPeer, keys, mode);
          try {
            out.push({
              mode,
              run: await measure(rounds, seconds, g.op, g.bad, `redis ${mode}`, redisPeer.pid),
            });
          } finally {
            g.close();
          }
        }
        return out;
      });
  outcomeNote(ctx, "redis", "lookup", redis);

  const peer =
    "ok" in redis
      ? redis.ok.reduce((a, b) => (rowsPerSec(b.run.best) > rowsPerSec(a.run.best) ? b : a))
      : null;
  // Latency is compared with one awaited GET per call (auto-pipelining): a pipeline of 100's latency
  // is that of 100 GETs together, not of one lookup.
  const latencyPeer = "ok" in redis ? (redis.ok.find((m) => m.mode === "auto-pipelining") ?? peer) : null;
  const flussQps = "ok" in fluss ? rowsPerSec(fluss.ok.best) : 0;
  const redisQps = peer ? rowsPerSec(peer.run.best) : 0;

  if ("ok" in fluss) {
    const b = fluss.ok.best;
    ctx.note(
      `fluss lookup rounds: ${fluss.ok.rates.map(fmtCount).join(", ")} lookups/s; the best: max latency ` +
        `${b.maxMs.toFixed(1)} ms, CPU per lookup: client ${((b.clientCpuS / b.rows) * 1e6).toFixed(1)} µs, ` +
        `server ${((b.serverCpuS / b.rows) * 1e6).toFixed(1)} µs`,
    );
  }
  if ("ok" in redis) {
    ctx.note(
      `redis GET: ${redis.ok
        .map(
          (m) =>
            `${m.mode}: rounds ${m.run.rates.map(fmtCount).join(", ")} lookups/s, p50/p99 ` +
            `${fmtMsPair(m.run.best.p50Ms, m.run.best.p99Ms)}, CPU per GET: client ` +
            `${((m.run.best.clientCpuS / m.run.best.rows) * 1e6).toFixed(1)} µs, redis-server ` +
            `${((m.run.best.serverCpuS / m.run.best.rows) * 1e6).toFixed(1)} µs`,
        )
        .join("; ")}. The faster (${peer?.mode}) is the peer of the lookups/s row; the p50 / p99 row ` +
        `compares with ${latencyPeer?.mode} (one awaited GET per call, like one lookup).`,
    );
  }
  ctx.note(
    `lookup: ${CALLERS} concurrent callers in the benchmark process, each looping over uniformly random keys ` +
      `of the ${fmtCount(opts.kvKeys)} ${loadedHere ? "loaded into a fresh table by this workload (upsert did not run)" : "loaded by the upsert workload (the table and Redis also hold its stream's new keys)"}, ` +
      `${WARMUP_SECONDS} s warm-up, then best of ${rounds} rounds of ${seconds} s; every returned row is checked. ` +
      `fluss: table.newLookuper(), await lookup({ id }) (concurrent calls coalesce into one Lookup request per ` +
      `leader per event-loop turn), rows decoded to objects; ${KV_BUCKETS} buckets. redis: GET k<id> of the ` +
      `~${rowBytes.toFixed(0)} B row string via ioredis; "pipelines of 100" records each GET with its pipeline's ` +
      `latency. Latency ratio = redis p99 / fluss p99 (> 1: fluss is faster).`,
  );

  const peerCell = (p: { mode: RedisGetMode; run: Run } | null, f: (r: ClosedLoopResult) => string): string =>
    outcomeCell(redis, () =>
      p ? `${f(p.run.best)} (${p.mode === "auto-pipelining" ? "auto" : "pipe 100"})` : "-",
    );
  const flussP99 = "ok" in fluss ? fluss.ok.best.p99Ms : Number.NaN;
  const redisP99 = latencyPeer ? latencyPeer.run.best.p99Ms : Number.NaN;

  return [
    {
      workload: `point lookup, ${CALLERS} callers (lookups/s)`,
      fluss: outcomeCell(fluss, (v) => fmtCount(rowsPerSec(v.best))),
      redis: peerCell(peer, (r) => `${fmtCount(rowsPerSec(r))} GET`),
      nats: "n/a",
      ratio: fmtRatio(flussQps > 0 && redisQps > 0 ? flussQps / redisQps : Number.NaN),
      goal: `>= redis (stretch ${fmtCount(STRETCH_QPS)})`,
      met: flussQps > 0 && redisQps > 0 ? flussQps >= redisQps : null,
      raw: {
        fluss: "ok" in fluss ? fluss.ok : fluss,
        redis: "ok" in redis ? redis.ok : redis,
      },
    },
    {
      workload: `point lookup, ${CALLERS} callers: p50 / p99`,
      fluss: outcomeCell(fluss, (v) => fmtMsPair(v.best.p50Ms, v.best.p99Ms)),
      redis: peerCell(latencyPeer, (r) => fmtMsPair(r.p50Ms, r.p99Ms)),
      nats: "n/a",
      ratio: fmtRatio(flussP99 > 0 && redisP99 > 0 ? redisP99 / flussP99 : Number.NaN),
      goal: "",
      met: null,
    },
  ];
}
