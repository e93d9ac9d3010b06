// The tablet server's remote log manager (Fluss RemoteLogManager): every
// `remote.log.task-interval-duration` it runs one tiering round on each log it leads (storage's
// LogTablet.tierToRemote: copy closed segments, commit the bucket's remote manifest, delete local
// copies beyond `table.log.tiered.local-segments`, expire remote segments past `table.log.ttl`).
// It also tells replica opening where a bucket's remote log lives, and deletes a dropped bucket's
// remote log. An interval of 0 turns tiering off (as in Fluss): tablets then open without a
// remote log. Failures: a bucket whose round fails (remote storage down) is logged at warn and
// retried next round — nothing local is deleted before its remote copy is committed; a failed
// assertion crashes (util/background.ts). Rounds never overlap: a round still running when the
// timer fires again is not doubled.

import { join } from "node:path";
import {
  isAssertionError,
  isFlussError,
  logOptionsOf,
  type Scheduler,
  TABLE_OPTIONS,
  type TableDescriptor,
  type TimerHandle,
} from "@fluss-ts/common";
import {
  openRemoteStorage,
  type RemoteStorage,
  remoteLogPrefix,
  remoteLogTablePrefix,
} from "@fluss-ts/storage";
import type { ServerConfig } from "../config.ts";
import type { Logger } from "../logging.ts";
import { backgroundFailure } from "../util/background.ts";
import type { Replica } from "./replica.ts";

export interface RemoteLogManagerOptions {
  readonly storage: RemoteStorage;
  /** `remote.log.task-interval-duration` (ms); 0: tiering off. */
  readonly taskIntervalMs: number;
  /** `remote.log.task-max-upload-segments`: segments one bucket copies per round at most. */
  readonly uploadSegmentsMax: number;
  /** `remote.log.read-chunk-size`: largest ranged read of a remote segment. */
  readonly readChunkBytes: number;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
}

export interface TieringRoundResult {
  readonly buckets: number;
  readonly copiedSegments: number;
  readonly copiedBytes: number;
  readonly deletedLocalSegments: number;
  readonly expiredRemoteSegments: number;
  readonly failedBuckets: number;
}

/** `table.log.tiered.local-segments` of a table (Fluss default 2). */
export function tieredLocalSegmentsOf(d: TableDescriptor): number {
  const key = "table.log.tiered.local-segments";
  return Number(d.properties[key] ?? TABLE_OPTIONS.get(key)?.defaultValue ?? "2");
}

export class RemoteLogManager {
  readonly storage: RemoteStorage;
  private readonly opts: RemoteLogManagerOptions;
  private timer: TimerHandle | null = null;
  private running: Promise<TieringRoundResult> | null = null;

  constructor(opts: RemoteLogManagerOptions) {
    this.opts = opts;
    this.storage = opts.storage;
  }

  get enabled(): boolean {
    return this.opts.taskIntervalMs > 0;
  }

  /** The `remote` option of LogTablet.open for a bucket; undefined when tiering is off. */
  tabletRemote(tableId: bigint, partitionName: string | null, bucket: number) {
    if (!this.enabled) return undefined;
    return {
      storage: this.storage,
      prefix: remoteLogPrefix(tableId, partitionName, bucket),
      readChunkBytes: this.opts.readChunkBytes,
    };
  }

  /** Start the periodic rounds over the replicas `replicas()` returns (leaders only are tiered). */
  start(replicas: () => Iterable<Replica>): void {
    if (!this.enabled || this.timer !== null) return;
    this.timer = this.opts.scheduler.setInterval(() => {
      if (this.running !== null) return;
      this.runOnce(replicas()).catch(backgroundFailure(this.opts.logger, "remote log tiering"));
    }, this.opts.taskIntervalMs);
    this.timer.unref();
  }

  /** One round over `replicas` (the periodic task; tests call it directly). */
  runOnce(replicas: Iterable<Replica>): Promise<TieringRoundResult> {
    const round = this.round([...replicas]).finally(() => {
      this.running = null;
    });
    this.running = round;
    return round;
  }

  private async round(replicas: readonly Replica[]): Promise<TieringRoundResult> {
    const total = {
      buckets: 0,
      copiedSegments: 0,
      copiedBytes: 0,
      deletedLocalSegments: 0,
      expiredRemoteSegments: 0,
      failedBuckets: 0,
    };
    for (const r of replicas) {
      if (!r.isLeader) continue;
      try {
        const result = await r.log.tierToRemote({
          localSegmentsRetained: tieredLocalSegmentsOf(r.table.descriptor),
          uploadSegmentsMax: this.opts.uploadSegmentsMax,
          ttlMs: logOptionsOf(r.table.descriptor).ttlMs,
        });
        if (result === null) continue;
        total.buckets++;
        total.copiedSegments += result.copiedSegments;
        total.copiedBytes += result.copiedBytes;
        total.deletedLocalSegments += result.deletedLocalSegments;
        total.expiredRemoteSegments += result.expiredRemoteSegments;
        if (result.copiedSegments > 0 || result.expiredRemoteSegments > 0) {
          this.opts.logger.debug(
            { table: r.id.tableId, bucket: r.id.bucket, ...result },
            "remote log tiering round",
          );
        }
      } catch (err) {
        if (isAssertionError(err) || !isFlussError(err)) throw err;
        total.failedBuckets++;
        this.opts.logger.warn(
          { err, table: r.id.tableId, partition: r.id.partitionId, bucket: r.id.bucket },
          "remote log tiering of a bucket failed; the next round retries it (its local segments are kept)",
        );
      }
    }
    return total;
  }

  /** Delete a dropped bucket's remote log (call after its replica is closed). */
  async deleteBucket(tableId: bigint, partitionName: string | null, bucket: number): Promise<void> {
    await this.storage.deletePrefix(remoteLogPrefix(tableId, partitionName, bucket));
  }

  /** Delete every remote log of a table (or one partition of it). */
  async deleteTable(tableId: bigint, partitionName?: string | null): Promise<number> {
    return this.storage.deletePrefix(remoteLogTablePrefix(tableId, partitionName));
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.opts.scheduler.clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}

/** The manager a tablet server's config asks for (remote storage per `remote.data.dir` and `s3.*`). */
export function createRemoteLogManager(
  c: ServerConfig,
  scheduler: Scheduler,
  logger: Logger,
): RemoteLogManager {
  const storage = openRemoteStorage(c.remoteDataDir ?? join(c.dataDir, "remote"), {
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    pathStyleAccess: c.s3PathStyleAccess,
  });
  return new RemoteLogManager({
    storage,
    taskIntervalMs: c.remoteLogTaskIntervalMs,
    uploadSegmentsMax: c.remoteLogUploadSegmentsMax,
    readChunkBytes: c.remoteLogReadChunkBytes,
    scheduler,
    logger,
  });
}
