// The latency workload: produce-to-consume latency at half of each system's maximum append rate
// (measured by the append workload, or by a short run here when it was not selected), then at a
// light fixed rate. A paced producer stamps each row with the monotonic clock in microseconds
// (`ts`) when it appends it; a follower in a worker thread (follower.ts), attached at "latest",
// records now - ts for every row it receives. The first second is warm-up and not recorded.
// Fluss: an append writer with a 1 ms linger; the follower is a log scanner over Arrow batches.

import type { BenchContext } from "../context.ts";
import { type FlussServer, freshTable } from "../fluss.ts";
import { startFollower } from "../follower.ts";
import { natsAppend, natsLatency } from "../peers/nats.ts";
import { redisAppend, redisLatency } from "../peers/redis.ts";
import type { ProbeWindow } from "../probe.ts";
import { EVENT_SCHEMA, eventRow, eventRowBytes, nowMicros } from "../rows.ts";
import { fmtCount, fmtMs, fmtMsPair, fmtRatio, quantile, type ResultRow } from "../table.ts";
import {
  attempt,
  isSkipped,
  type LatencyResult,
  latencyResult,
  log,
  type Outcome,
  outcomeCell,
  outcomeNote,
  paced,
  rowsPerSec,
  Samples,
} from "../workload.ts";
import { APPEND_BUCKETS, APPEND_TABLE_OPTIONS, flussAppend } from "./append.ts";

const GOAL_P99_MS = 5;
const WARMUP_SECONDS = 1;
export const LATENCY_LINGER_MS = 0;
/** A light fixed rate every system sustains: latency without load. */
export const LIGHT_RATE = 5_000;

export async function flussLatency(
  server: FlussServer,
  rate: number,
  seconds: number,
  lingerMs = LATENCY_LINGER_MS,
): Promise<LatencyResult & { server: ProbeWindow; ackP50Ms: number; ackP99Ms: number }> {
  const table = await freshTable(server, "latency", EVENT_SCHEMA, APPEND_BUCKETS, APPEND_TABLE_OPTIONS);
  const writer = table.newAppendWriter({ lingerMs });
  // A first row makes sure the table is writable before the follower resolves "latest".
  await writer.append(eventRow(0, nowMicros()));
  await writer.flush();
  const follower = await startFollower({
    system: "fluss",
    bootstrap: server.bootstrap,
    table: "bench.latency",
  });
  follower.begin(nowMicros() + BigInt(WARMUP_SECONDS * 1e6));
  await server.probe.window();
  // The producer's side: append() -> acknowledged, for the first row of each tick after warm-up.
  const acks = new Samples();
  const warmUntil = performance.now() + WARMUP_SECONDS * 1000;
  const run = await paced(rate, seconds, async (count, first) => {
    const ts = nowMicros();
    const t = performance.now();
    for (let i = first; i < first + count; i++) {
      const receipt = await writer.append(eventRow(i + 1, ts));
      if (i === first && t >= warmUntil) {
        void receipt.acknowledged.then(() => acks.add((performance.now() - t) * 1000));
      }
    }
  });
  await writer.close();
  const r = await follower.finish(run.produced);
  const probe = await server.probe.window();
  const ackSorted = acks.sorted();
  return {
    ...latencyResult(rate, run.produced / run.seconds, run.produced, r.seen, r.sorted),
    server: probe,
    ackP50Ms: quantile(ackSorted, 0.5) / 1000,
    ackP99Ms: quantile(ackSorted, 0.99) / 1000,
  };
}

/** The server's event-loop delay and GC pauses during a run, for the notes. */
export function probeSummary(p: ProbeWindow): string {
  return (
    `event-loop delay p50 / p99 / max ${fmtMsPair(p.loopDelay.p50Ms, p.loopDelay.p99Ms).replace(" ms", "")} / ` +
    `${fmtMs(p.loopDelay.maxMs)}, GC ${p.gc.pauses} pauses (${fmtMs(p.gc.totalMs)} in all, longest ` +
    `${fmtMs(p.gc.maxMs)}, ${p.gc.over1Ms} over 1 ms)`
  );
}

interface LatencyPair {
  /** At half the system's maximum append rate. */
  half: LatencyResult & { server?: ProbeWindow };
  /** At LIGHT_RATE rows/s: the floor without load. */
  light: LatencyResult & { server?: ProbeWindow };
}

export async function latencyWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const seconds = opts.latencySeconds;
  const probeRows = Math.min(opts.appendRows, 300_000);
  const rowBytes = eventRowBytes();

  const fluss: Outcome<LatencyPair> = await attempt(async () => {
    const server = await ctx.fluss();
    if (ctx.maxAppendRate.fluss === undefined) {
      log(opts, `latency: measuring fluss max append rate (${probeRows} rows)`);
      await flussAppend(server, "latency_probe", probeRows, rowBytes);
      ctx.maxAppendRate.fluss = rowsPerSec(await flussAppend(server, "latency_probe", probeRows, rowBytes));
    }
    const rate = Math.round(ctx.maxAppendRate.fluss / 2);
    log(opts, `latency: fluss at ${rate} rows/s, then ${LIGHT_RATE} rows/s, ${seconds} s each`);
    return {
      half: await flussLatency(server, rate, seconds),
      light: await flussLatency(server, LIGHT_RATE, seconds),
    };
  });
  outcomeNote(ctx, "fluss", "latency", fluss);
  if ("ok" in fluss && fluss.ok.half.server && fluss.ok.light.server) {
    type Run = { server: ProbeWindow; ackP50Ms: number; ackP99Ms: number };
    const { half, light } = fluss.ok as unknown as { half: Run; light: Run };
    const ack = (r: Run): string => `producer ack p50 / p99 ${fmtMsPair(r.ackP50Ms, r.ackP99Ms)}`;
    ctx.note(
      `fluss during the latency runs: at half max rate ${ack(half)}, server ${probeSummary(half.server)}; at ` +
        `${fmtCount(LIGHT_RATE)} rows/s ${ack(light)}, server ${probeSummary(light.server)}.`,
    );
  }

  const redisPeer = await ctx.redis();
  const redis: Outcome<LatencyPair> = isSkipped(redisPeer)
    ? redisPeer
    : await attempt(async () => {
        if (ctx.maxAppendRate.redis === undefined) {
          log(opts, "latency: measuring redis max append rate");
          ctx.maxAppendRate.redis = rowsPerSec(await redisAppend(redisPeer, "probe", probeRows));
          await redisPeer.client.del("probe");
        }
        const rate = Math.round(ctx.maxAppendRate.redis / 2);
        log(opts, `latency: redis at ${rate} rows/s, then ${LIGHT_RATE} rows/s, ${seconds} s each`);
        const half = await redisLatency(redisPeer, "latency", rate, seconds, WARMUP_SECONDS);
        const light = await redisLatency(redisPeer, "latency", LIGHT_RATE, seconds, WARMUP_SECONDS);
        await redisPeer.client.del("latency");
        return { half, light };
      });
  outcomeNote(ctx, "redis", "latency", redis);

  const natsPeer = await ctx.nats();
  const nats: Outcome<LatencyPair> = isSkipped(natsPeer)
    ? natsPeer
    : await attempt(async () => {
        if (ctx.maxAppendRate.nats === undefined) {
          log(opts, "latency: measuring nats max append rate");
          ctx.maxAppendRate.nats = rowsPerSec(await natsAppend(natsPeer, "PROBE", probeRows, 5));
        }
        const rate = Math.round(ctx.maxAppendRate.nats / 2);
        log(opts, `latency: nats at ${rate} rows/s, then ${LIGHT_RATE} rows/s, ${seconds} s each`);
        const half = await natsLatency(natsPeer, "LATENCY", rate, seconds, WARMUP_SECONDS);
        const light = await natsLatency(natsPeer, "LATENCY", LIGHT_RATE, seconds, WARMUP_SECONDS);
        return { half, light };
      });
  outcomeNote(ctx, "nats", "latency", nats);

  for (const [name, o] of [
    ["fluss", fluss],
    ["redis", redis],
    ["nats", nats],
  ] as const) {
    if (!("ok" in o)) continue;
    for (const r of [o.ok.half, o.ok.light]) {
      if (r.missing > 0) {
        ctx.note(
          `${name} latency at ${fmtCount(r.targetRate)} rows/s: ${r.missing} rows produced were never consumed`,
        );
      }
    }
  }
  type Pick = (v: LatencyPair) => LatencyResult;
  const half: Pick = (v) => v.half;
  const light: Pick = (v) => v.light;
  const pairCell = (o: Outcome<LatencyPair>, pick: Pick): string =>
    outcomeCell(o, (v) => fmtMsPair(pick(v).p50Ms, pick(v).p99Ms));
  const p99 = (o: Outcome<LatencyPair>, pick: Pick): number => ("ok" in o ? pick(o.ok).p99Ms : Number.NaN);
  const ratioOf = (pick: Pick): string => {
    const f = p99(fluss, pick);
    const peers = [p99(redis, pick), p99(nats, pick)].filter(Number.isFinite);
    return Number.isFinite(f) && peers.length > 0 && f > 0 ? fmtRatio(Math.min(...peers) / f) : "-";
  };

  ctx.note(
    `latency: each system paced at half ITS OWN max append rate (from the append workload), then at ` +
      `${fmtCount(LIGHT_RATE)} rows/s, ${seconds} s each (first ${WARMUP_SECONDS} s not recorded); producer in the ` +
      `main thread, consumer in a worker thread (own connection and event loop); latency = consumer clock - ` +
      `producer stamp (CLOCK_MONOTONIC). fluss: writer lingerMs=${LATENCY_LINGER_MS}, acks=all, log.flush.mode=always; ` +
      `consumer = newLogScanner({ from: "latest" }).batches(). redis: XREAD BLOCK. nats: ordered consumer, ` +
      `deliver_policy=new. Latency ratio = the faster peer's p99 / fluss p99 (> 1: fluss is faster).`,
  );

  return [
    {
      workload: "latency @ 1/2 max rate: rate",
      fluss: outcomeCell(fluss, (v) => `${fmtCount(v.half.achievedRate)}/s`),
      redis: outcomeCell(redis, (v) => `${fmtCount(v.half.achievedRate)}/s`),
      nats: outcomeCell(nats, (v) => `${fmtCount(v.half.achievedRate)}/s`),
      ratio: "",
      goal: "",
      met: null,
    },
    {
      workload: "latency @ 1/2 max rate: p50 / p99",
      fluss: pairCell(fluss, half),
      redis: pairCell(redis, half),
      nats: pairCell(nats, half),
      ratio: ratioOf(half),
      goal: `p99 <= ${GOAL_P99_MS} ms`,
      met: "ok" in fluss ? fluss.ok.half.p99Ms <= GOAL_P99_MS && fluss.ok.half.missing === 0 : null,
      raw: {
        fluss: "ok" in fluss ? fluss.ok.half : fluss,
        redis: "ok" in redis ? redis.ok.half : redis,
        nats: "ok" in nats ? nats.ok.half : nats,
      },
    },
    {
      workload: `latency @ ${fmtCount(LIGHT_RATE)} rows/s: p50 / p99`,
      fluss: pairCell(fluss, light),
      redis: pairCell(redis, light),
      nats: pairCell(nats, light),
      ratio: ratioOf(light),
      goal: "",
      met: null,
      raw: {
        fluss: "ok" in fluss ? fluss.ok.light : fluss,
        redis: "ok" in redis ? redis.ok.light : redis,
        nats: "ok" in nats ? nats.ok.light : nats,
      },
    },
  ];
}
