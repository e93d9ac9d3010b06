// The upsert workload: ~100-byte event rows into a primary-key table (`PRIMARY KEY (id)`, 4
// buckets) from ONE TypeScript upsert writer (`await writer.upsert(row)` in a loop, then
// `close()`). First N keys are loaded into an empty table (all inserts; timed and noted, and the
// warm-up), then 3 measured rounds continue one stream of upserts, each round N rows, or fewer
// when the system's load rate says N would take longer than ROUND_SECONDS (so the default run
// stays short on slow systems): exactly 20% updates of loaded keys (every 5th row, a hashed key
// of [0, N)) and 80% new keys (N, N+1, ...); the best round is the headline. The peer
// is Redis: SET of the same row string per key, pipelined (500 per pipeline, 2 pipelines
// outstanding), the same load and the same stream. The table (and the Redis keys) stay for the
// lookup workload.

import type { Table } from "@fluss-ts/client";
import type { BenchContext } from "../context.ts";
import { type FlussServer, freshTable } from "../fluss.ts";
import { type RedisPeer, redisKey, redisSetRows } from "../peers/redis.ts";
import { cpuMs } from "../proc.ts";
import {
  type EventRow,
  eventRow,
  eventRowBytes,
  eventString,
  KV_SCHEMA,
  upsertStreamRow,
  upsertStreamUpdates,
} from "../rows.ts";
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

export const KV_BUCKETS = 4;
export const KV_TABLE = "kv";
/** Writer options: the SDK defaults (2 MiB batches, 100 ms linger, acks=all, idempotent). */
const UPSERT_WRITER_OPTIONS = {} as const;
const GOAL_ROWS_PER_SEC = 200_000;
/** Rows at the end of the stream whose final values are checked after each system's last round. */
const CHECK_TAIL = 200;
/** A measured round writes at most about this many seconds of rows at the system's load rate. */
const ROUND_SECONDS = 8;
/** ... and stops producing after this long whatever its size (then waits for close()). */
const ROUND_SECONDS_MAX = 2 * ROUND_SECONDS;

/** Rows per measured round: N, or ROUND_SECONDS at the load rate (a multiple of 5, >= 50k). */
function roundRows(keys: number, load: ThroughputResult): number {
  const byRate = Math.max(50_000, Math.ceil((rowsPerSec(load) * ROUND_SECONDS) / 5) * 5);
  return Math.min(keys, byRate);
}

interface Timed extends ThroughputResult {
  clientCpuS: number;
  serverCpuS: number;
}

/** A fresh `bench.kv` loaded with keys [0, keys) by one upsert writer (timed from first upsert to close()). */
export async function flussKvLoad(
  server: FlussServer,
  keys: number,
  rowBytes: number,
): Promise<{ table: Table; load: Timed }> {
  const table = await freshTable(server, KV_TABLE, KV_SCHEMA, KV_BUCKETS);
  const load = await flussUpserts(server, table, keys, eventRow, rowBytes, Number.POSITIVE_INFINITY);
  return { table, load };
}

/** Upsert rowAt(0), rowAt(1), ... until `rows` rows or `secondsMax` seconds, then close(). */
async function flussUpserts(
  server: FlussServer,
  table: Table,
  rowsMax: number,
  rowAt: (i: number) => EventRow,
  rowBytes: number,
  secondsMax: number,
): Promise<Timed> {
  const writer = table.newUpsertWriter(UPSERT_WRITER_OPTIONS);
  const cpu0 = process.cpuUsage();
  const srv0 = cpuMs(server.pid) ?? 0;
  const t0 = performance.now();
  const deadline = t0 + secondsMax * 1000;
  let rows = 0;
  while (rows < rowsMax) {
    const end = Math.min(rowsMax, rows + 4096);
    for (; rows < end; rows++) await writer.upsert(rowAt(rows));
    if (performance.now() > deadline) break;
  }
  await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = cpuMs(server.pid) ?? 0;
  return {
    rows,
    bytes: rows * rowBytes,
    seconds,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    serverCpuS: (srv1 - srv0) / 1000,
  };
}

/** The final rows of the last CHECK_TAIL stream rows (a later write of a key wins). */
function expectedTail(keys: number, stream: number): Map<bigint, EventRow> {
  const want = new Map<bigint, EventRow>();
  for (let j = Math.max(0, stream - CHECK_TAIL); j < stream; j++) {
    const r = upsertStreamRow(j, keys);
    want.set(r.id, r);
  }
  return want;
}

async function checkFluss(table: Table, keys: number, stream: number): Promise<void> {
  const lookuper = table.newLookuper();
  for (const [id, r] of expectedTail(keys, stream)) {
    const got = await lookuper.lookup({ id });
    if (got === null || got.ts !== r.ts || got.note !== r.note) {
      throw new Error(
        `fluss lookup of id ${id} after the upserts: got ${JSON.stringify(got, big)}, want ts ${r.ts}`,
      );
    }
  }
}

async function checkRedis(peer: RedisPeer, keys: number, stream: number): Promise<void> {
  for (const [id, r] of expectedTail(keys, stream)) {
    const got = await peer.client.get(redisKey(id));
    if (got !== eventString(r))
      throw new Error(`redis GET ${redisKey(id)}: got ${got}, want ${eventString(r)}`);
  }
}

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

interface KvRun<T extends ThroughputResult = Timed> {
  load: T;
  upsert: Best<T>;
  /** Rows per measured round (a round may write fewer when it hits ROUND_SECONDS_MAX). */
  perRound: number;
  /** Stream rows written over all rounds. */
  streamed: number;
}

/** Rounds of one continuing stream: each round writes the rows after the previous round's. */
async function streamRounds<T extends ThroughputResult>(
  rounds: number,
  run: (rowAt: (i: number) => EventRow) => Promise<T>,
  keys: number,
): Promise<{ best: Best<T>; streamed: number }> {
  let done = 0;
  const best = await bestOf(rounds, async () => {
    const from = done;
    const r = await run((i) => upsertStreamRow(from + i, keys));
    done += r.rows;
    return r;
  });
  return { best, streamed: done };
}

export async function upsertWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { opts } = ctx;
  const keys = opts.kvKeys;
  const rounds = opts.quick ? 2 : 3;
  const rowBytes = eventRowBytes();

  log(opts, `upsert: fluss, load ${keys} keys, then ${rounds} rounds of up to ${keys} upserts`);
  const fluss: Outcome<KvRun> = await attempt(async () => {
    const server = await ctx.fluss();
    ctx.kvFluss = undefined;
    const { table, load } = await flussKvLoad(server, keys, rowBytes);
    const perRound = roundRows(keys, load);
    log(opts, `upsert: fluss load ${fmtCount(rowsPerSec(load))} rows/s; rounds of ${perRound} upserts`);
    const { best, streamed } = await streamRounds(
      rounds,
      async (rowAt) => {
        const r = await flussUpserts(server, table, perRound, rowAt, rowBytes, ROUND_SECONDS_MAX);
        log(opts, `upsert: fluss round: ${r.rows} rows, ${fmtCount(rowsPerSec(r))} rows/s`);
        return r;
      },
      keys,
    );
    await checkFluss(table, keys, streamed);
    ctx.kvFluss = { table, keys };
    return { load, upsert: best, perRound, streamed };
  });
  outcomeNote(ctx, "fluss", "upsert", fluss);

  log(opts, `upsert: redis, load ${keys} keys, then ${rounds} rounds of up to ${keys} SETs`);
  const redisPeer = await ctx.redis();
  const redis: Outcome<KvRun<ThroughputResult>> = isSkipped(redisPeer)
    ? redisPeer
    : await attempt(async () => {
        ctx.kvRedisKeys = undefined;
        await redisPeer.client.flushdb();
        const load = await redisSetRows(redisPeer, keys, eventRow, rowBytes);
        const perRound = roundRows(keys, load);
        const { best, streamed } = await streamRounds(
          rounds,
          (rowAt) => redisSetRows(redisPeer, perRound, rowAt, rowBytes, ROUND_SECONDS_MAX),
          keys,
        );
        await checkRedis(redisPeer, keys, streamed);
        ctx.kvRedisKeys = keys;
        return { load, upsert: best, perRound, streamed };
      });
  outcomeNote(ctx, "redis", "upsert", redis);

  const flussRate = "ok" in fluss ? rowsPerSec(fluss.ok.upsert.best) : 0;
  const redisRate = "ok" in redis ? rowsPerSec(redis.ok.upsert.best) : 0;
  const sized = (v: KvRun<ThroughputResult>): string =>
    v.perRound < keys
      ? ` (rounds of ${fmtCount(v.perRound)} rows: ~${ROUND_SECONDS} s at its load rate)`
      : "";
  if ("ok" in fluss) {
    const b = fluss.ok.upsert.best;
    const l = fluss.ok.load;
    ctx.note(
      `fluss upsert rounds: ${fluss.ok.upsert.rates.map(fmtCount).join(", ")} rows/s${sized(fluss.ok)}; the ` +
        `best took ${b.seconds.toFixed(2)} s with CPU: client ${b.clientCpuS.toFixed(1)} s, server ` +
        `${b.serverCpuS.toFixed(1)} s (${((b.serverCpuS / b.rows) * 1e6).toFixed(1)} µs per row). Load of ` +
        `${fmtCount(keys)} new keys into the empty table: ${fmtCount(rowsPerSec(l))} rows/s (CPU: client ` +
        `${l.clientCpuS.toFixed(1)} s, server ${l.serverCpuS.toFixed(1)} s)`,
    );
  }
  if ("ok" in redis) {
    ctx.note(
      `redis SET rounds: ${redis.ok.upsert.rates.map(fmtCount).join(", ")} rows/s${sized(redis.ok)}; ` +
        `load of ${fmtCount(keys)} new keys: ${fmtCount(rowsPerSec(redis.ok.load))} rows/s`,
    );
  }
  ctx.note(
    `upsert: ${fmtCount(keys)} keys loaded into an empty table first (all inserts; also the warm-up), then ` +
      `${rounds} measured rounds continue one stream, each ${fmtCount(keys)} upserts or, when the system's load ` +
      `rate says that takes over ${ROUND_SECONDS} s, ${ROUND_SECONDS} s worth of rows at that rate (>= 50k): ` +
      `exactly 20% updates (every 5th row, of a hashed loaded key, new ts/amount/note; ` +
      `${fmtCount(upsertStreamUpdates(keys))} per ${fmtCount(keys)}) and 80% new keys; best round shown. fluss: ` +
      `(id BIGINT NOT NULL, ts BIGINT, user STRING, amount DOUBLE, note STRING, PRIMARY KEY (id)), ` +
      `${KV_BUCKETS} buckets, one UpsertWriter per round with SDK defaults (2 MiB batches, 100 ms linger, ` +
      `acks=all, idempotent), timed from the first upsert to close(); server defaults (KV on lmdb, changelog ` +
      `log.flush.mode=always). redis: SET k<id> <~${rowBytes.toFixed(0)} B row string> in pipelines of 500 ` +
      `(2 outstanding), no persistence. Final values of the stream's last ${CHECK_TAIL} rows are checked on both.`,
  );

  return [
    {
      workload: `upsert 100 B rows, ${fmtCount(keys)} keys, 20% updates (rows/s)`,
      fluss: outcomeCell(fluss, (v) => fmtRate(rowsPerSec(v.upsert.best), bytesPerSec(v.upsert.best))),
      redis: outcomeCell(
        redis,
        (v) => `${fmtRate(rowsPerSec(v.upsert.best), bytesPerSec(v.upsert.best))} SET`,
      ),
      nats: "n/a",
      ratio: fmtRatio(flussRate > 0 && redisRate > 0 ? flussRate / redisRate : Number.NaN),
      goal: `>= ${fmtCount(GOAL_ROWS_PER_SEC)}`,
      met: flussRate > 0 ? flussRate >= GOAL_ROWS_PER_SEC : null,
      raw: {
        fluss: "ok" in fluss ? fluss.ok : fluss,
        redis: "ok" in redis ? redis.ok : redis,
        keys,
        updatesPer: { rows: keys, updates: upsertStreamUpdates(keys) },
      },
    },
  ];
}
