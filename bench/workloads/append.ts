// The append workload: the same ~100-byte event rows from ONE Node.js producer into Fluss (one
// TypeScript append writer, `await writer.append(row)` in a loop, then `close()`), Redis Streams
// (pipelined XADD) and NATS JetStream (async publish, window of outstanding acks); rows/s and MB/s
// of payload, and the ratio of Fluss to the faster peer. Then each system reads its rows back.
// Each system first gets a short warm-up run (JIT, connections), which is not measured.

import type { Table } from "@fluss-ts/client";
import type { BenchContext } from "../context.ts";
import { type FlussServer, freshTable, scanAll } from "../fluss.ts";
import { natsAppend, natsReadBack } from "../peers/nats.ts";
import { redisAppend, redisReadBack } from "../peers/redis.ts";
import { cpuMs } from "../proc.ts";
import { EVENT_SCHEMA, eventRow, eventRowBytes } from "../rows.ts";
import { fmtCount, fmtRate, fmtRatio, type ResultRow } from "../table.ts";
import {
  attempt,
  type Best,
  bestOf,
  bytesPerSec,
  isSkipped,
  log,
  type Outcome,
  outcomeCell,
  outcomeNote,
  rowsPerSec,
  type ThroughputResult,
} from "../workload.ts";

export const APPEND_BUCKETS = 4;
export const APPEND_TABLE_OPTIONS = { "table.log.arrow.compression.type": "NONE" } as const;
/** Writer options of the headline append row: the SDK defaults (2 MiB batches, 100 ms linger). */
export const APPEND_WRITER_OPTIONS = {} as const;

const GOAL_ROWS_PER_SEC = 500_000;
const GOAL_RATIO = 2;
/** NATS from Node is slow (~17k/s): cap its run so the default benchmark stays short. */
const NATS_SECONDS_MAX = 5;

/** One writer appends `rows` event rows to a fresh table; timed from first append to close(). */
export async function flussAppend(
  server: FlussServer,
  tableName: string,
  rows: number,
  rowBytes: number,
): Promise<ThroughputResult & { table: Table; clientCpuS: number; serverCpuS: number }> {
  const table = await freshTable(server, tableName, EVENT_SCHEMA, APPEND_BUCKETS, APPEND_TABLE_OPTIONS);
  const cpu0 = process.cpuUsage();
  const srv0 = cpuMs(server.pid) ?? 0;
  const t0 = performance.now();
  const writer = table.newAppendWriter(APPEND_WRITER_OPTIONS);
  for (let i = 0; i < rows; i++) await writer.append(eventRow(i));
  await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = cpuMs(server.pid) ?? 0;
  return {
    rows,
    bytes: rows * rowBytes,
    seconds,
    table,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    serverCpuS: (srv1 - srv0) / 1000,
  };
}

export async function appendWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const rows = opts.appendRows;
  // JIT warm-up matters a lot for the Arrow encoder (2 MiB batches: few, big calls): warm up with
  // a sizeable run, then take the best of several rounds, for every system alike.
  const warmRows = Math.min(rows, 300_000);
  const rounds = opts.quick ? 2 : 3;
  const rowBytes = eventRowBytes();

  // Fluss
  log(opts, `append: fluss, warm-up ${warmRows} rows, then ${rounds} x ${rows} rows`);
  const fluss = await attempt(async () => {
    const server = await ctx.fluss();
    await flussAppend(server, "append_warmup", warmRows, rowBytes);
    await server.conn.admin.dropTable("bench.append_warmup");
    const append = await bestOf(rounds, async () => {
      const r = await flussAppend(server, "append", rows, rowBytes);
      return { ...r, value: r };
    });
    const table = append.last.value.table; // earlier rounds' tables were dropped
    const readBack = await bestOf(2, async () => {
      const back = await scanAll(table);
      if (back.rows !== rows) throw new Error(`read back ${back.rows} rows from fluss, expected ${rows}`);
      return { rows: back.rows, bytes: back.rows * rowBytes, seconds: back.seconds };
    });
    return { append, readBack };
  });
  outcomeNote(ctx, "fluss", "append", fluss);
  if ("ok" in fluss) {
    const a = fluss.ok.append.best.value;
    ctx.maxAppendRate.fluss = rowsPerSec(a);
    ctx.note(
      `fluss append rounds: ${fluss.ok.append.rates.map(fmtCount).join(", ")} rows/s; the best took ` +
        `${a.seconds.toFixed(2)} s with CPU: client ${a.clientCpuS.toFixed(1)} s, server ${a.serverCpuS.toFixed(1)} s ` +
        `(separate processes, 2 cores)`,
    );
  }

  // Redis Streams
  log(opts, `append: redis, warm-up ${warmRows} rows, then ${rounds} x ${rows} rows`);
  const redisPeer = await ctx.redis();
  const redis: Outcome<{ append: Best<ThroughputResult>; readBack: Best<ThroughputResult> }> = isSkipped(
    redisPeer,
  )
    ? redisPeer
    : await attempt(async () => {
        await redisAppend(redisPeer, "warmup", warmRows);
        await redisPeer.client.del("warmup");
        const append = await bestOf(rounds, () => redisAppend(redisPeer, "append", rows));
        const readBack = await bestOf(2, () => redisReadBack(redisPeer, "append"));
        await redisPeer.client.del("append");
        return { append, readBack };
      });
  outcomeNote(ctx, "redis", "append", redis);
  if ("ok" in redis) {
    ctx.maxAppendRate.redis = rowsPerSec(redis.ok.append.best);
    ctx.note(`redis append rounds: ${redis.ok.append.rates.map(fmtCount).join(", ")} rows/s`);
  }

  // NATS JetStream
  log(opts, `append: nats, ${rounds} x up to ${rows} rows or ${NATS_SECONDS_MAX} s`);
  const natsPeer = await ctx.nats();
  const nats: Outcome<{ append: Best<ThroughputResult>; readBack: Best<ThroughputResult> }> = isSkipped(
    natsPeer,
  )
    ? natsPeer
    : await attempt(async () => {
        await natsAppend(natsPeer, "WARMUP", Math.min(warmRows, 20_000), NATS_SECONDS_MAX);
        const append = await bestOf(rounds, () => natsAppend(natsPeer, "APPEND", rows, NATS_SECONDS_MAX));
        const n = append.last.rows;
        const readBack = await bestOf(2, () => natsReadBack(natsPeer, "APPEND", n));
        return { append, readBack };
      });
  outcomeNote(ctx, "nats", "append", nats);
  if ("ok" in nats) {
    ctx.maxAppendRate.nats = rowsPerSec(nats.ok.append.best);
    const capped = nats.ok.append.best.rows < rows ? ` (each round stopped after ${NATS_SECONDS_MAX} s)` : "";
    ctx.note(`nats append rounds: ${nats.ok.append.rates.map(fmtCount).join(", ")} rows/s${capped}`);
  }

  const peerBest = Math.max(
    "ok" in redis ? rowsPerSec(redis.ok.append.best) : 0,
    "ok" in nats ? rowsPerSec(nats.ok.append.best) : 0,
  );
  const flussRate = "ok" in fluss ? rowsPerSec(fluss.ok.append.best) : 0;
  const ratio = peerBest > 0 && flussRate > 0 ? flussRate / peerBest : Number.NaN;
  const fmtT = (r: ThroughputResult): string => fmtRate(rowsPerSec(r), bytesPerSec(r));

  const peerBestBack = Math.max(
    "ok" in redis ? rowsPerSec(redis.ok.readBack.best) : 0,
    "ok" in nats ? rowsPerSec(nats.ok.readBack.best) : 0,
  );
  const flussBack = "ok" in fluss ? rowsPerSec(fluss.ok.readBack.best) : 0;

  ctx.note(
    `append: ~${rowBytes.toFixed(0)} B rows (id, ts, user, amount, note); MB/s counts that payload for every system. ` +
      `fluss: one AppendWriter with SDK defaults (2 MiB batches, 100 ms linger, acks=all, idempotent), ` +
      `${APPEND_BUCKETS} buckets, no compression, server default log.flush.mode=always (fsync per append, group commit). ` +
      `redis: XADD in pipelines of 500 (2 outstanding), no persistence (--save '' --appendonly no). ` +
      `nats: JetStream file-storage stream, publish with 1000 acks outstanding.`,
  );

  return [
    {
      workload: "append 100 B rows, 1 producer (rows/s)",
      fluss: outcomeCell(fluss, (v) => fmtT(v.append.best)),
      redis: outcomeCell(redis, (v) => fmtT(v.append.best)),
      nats: outcomeCell(nats, (v) => fmtT(v.append.best)),
      ratio: fmtRatio(ratio),
      goal: `>= 500k, >= ${GOAL_RATIO}x faster peer`,
      met:
        Number.isFinite(ratio) || flussRate > 0
          ? flussRate >= GOAL_ROWS_PER_SEC && !(ratio < GOAL_RATIO)
          : null,
      raw: {
        fluss: "ok" in fluss ? { ...fluss.ok.append.best, value: undefined, table: undefined } : fluss,
        redis: "ok" in redis ? redis.ok.append.best : redis,
        nats: "ok" in nats ? nats.ok.append.best : nats,
        rates: {
          fluss: "ok" in fluss ? fluss.ok.append.rates : null,
          redis: "ok" in redis ? redis.ok.append.rates : null,
          nats: "ok" in nats ? nats.ok.append.rates : null,
        },
      },
    },
    {
      workload: "read the appended rows back (rows/s)",
      fluss: outcomeCell(fluss, (v) => fmtT(v.readBack.best)),
      redis: outcomeCell(redis, (v) => fmtT(v.readBack.best)),
      nats: outcomeCell(nats, (v) => fmtT(v.readBack.best)),
      ratio: fmtRatio(peerBestBack > 0 && flussBack > 0 ? flussBack / peerBestBack : Number.NaN),
      goal: "",
      met: null,
      raw: {
        fluss: "ok" in fluss ? fluss.ok.readBack.best : null,
        redis: "ok" in redis ? redis.ok.readBack.best : null,
        nats: "ok" in nats ? nats.ok.readBack.best : null,
      },
    },
  ];
}
