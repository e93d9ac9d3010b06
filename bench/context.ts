// What the workloads share during one benchmark run: the options, the servers (each started on
// first use and stopped at the end), rates measured by one workload and used by another (the
// latency workload paces at half the append workload's maximum; the lookup workload reads the keys
// the upsert workload loaded), and the notes under the table.

import type { Table } from "@fluss-ts/client";
import { type FlussServer, startFluss } from "./fluss.ts";
import { type NatsPeer, startNats } from "./peers/nats.ts";
import { type RedisPeer, startRedis } from "./peers/redis.ts";
import type { BenchOptions, Skipped } from "./workload.ts";

export class BenchContext {
  readonly opts: BenchOptions;
  readonly notes: string[] = [];
  /** Maximum append rates (rows/s) measured by the append workload, by system. */
  readonly maxAppendRate: { fluss?: number; redis?: number; nats?: number } = {};
  /** The primary-key table the upsert workload left behind; it holds (at least) keys [0, keys). */
  kvFluss: { table: Table; keys: number } | undefined;
  /** The 20-column table of the scan workload (the mixed workload scans it). */
  wide: { table: Table; rows: number } | undefined;
  /** The full 20-column scan's rows/s measured by the scan workload. */
  scanFullRowsPerSec: number | undefined;
  /** Redis holds (at least) the keys [0, kvRedisKeys) SET by the upsert workload. */
  kvRedisKeys: number | undefined;
  private flussP: Promise<FlussServer> | undefined;
  private redisP: Promise<RedisPeer | Skipped> | undefined;
  private natsP: Promise<NatsPeer | Skipped> | undefined;

  constructor(opts: BenchOptions) {
    this.opts = opts;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** The shared Fluss server (default options: log.flush.mode=always with group commit). */
  fluss(): Promise<FlussServer> {
    // FLUSS_BENCH_SERVER_CONFIG="log.flush.mode=never,k=v" overrides server options for every workload.
    const config = Object.fromEntries(
      (process.env.FLUSS_BENCH_SERVER_CONFIG ?? "")
        .split(",")
        .filter((kv) => kv.includes("="))
        .map((kv) => [kv.slice(0, kv.indexOf("=")).trim(), kv.slice(kv.indexOf("=") + 1).trim()]),
    );
    this.flussP ??= startFluss(config);
    return this.flussP;
  }

  redis(): Promise<RedisPeer | Skipped> {
    this.redisP ??= startRedis().catch((err: Error) => ({ skipped: `redis-server failed: ${err.message}` }));
    return this.redisP;
  }

  nats(): Promise<NatsPeer | Skipped> {
    this.natsP ??= startNats().catch((err: Error) => ({ skipped: `nats-server failed: ${err.message}` }));
    return this.natsP;
  }

  /** Stop the shared servers (also covered by the cleanup registry). */
  async close(): Promise<void> {
    const all: Promise<unknown>[] = [];
    for (const p of [this.flussP, this.redisP, this.natsP]) {
      if (!p) continue;
      all.push(
        p.then(
          (s) => ("stop" in s ? s.stop() : undefined),
          () => undefined,
        ),
      );
    }
    await Promise.all(all);
  }
}
