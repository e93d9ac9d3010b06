// Automatic partitions (Fluss's AutoPartitionManager): for every table with
// `table.auto-partition.enabled`, drop the partitions whose time value is older than
// now − num-retention units, then create the partitions for the current unit and the ones after it
// (num-precreate in all; tables with several partition keys pre-create none). Runs every
// `auto-partition.check.interval`, right after a table is created, and when the coordinator starts
// (once tablet servers are there). Time comes from the injected clock; tests call runOnce().
// Differences from Fluss, on purpose: no random delay of DAY pre-creation (a load-spreading device
// for large clusters), and pre-creation stops at the table's partition limit instead of trying
// each remaining name.
// Invariants: runs never overlap (each waits for the previous); every create and drop goes through
// the coordinator's serial queue; one table's failure is logged and never stops the others.

import {
  type AutoPartitionStrategy,
  autoPartitionStrategyOf,
  autoPartitionValueOf,
  type Clock,
  compareAutoPartitionTimes,
  Errors,
  isFlussError,
  partitionNamesToPrecreate,
  retentionCutoff,
  type Scheduler,
  systemScheduler,
  type TableInfo,
  type TimerHandle,
} from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import { backgroundFailure } from "../util/background.ts";

/** Fluss's reserved partition for lake-only history; retention never drops it. */
const HISTORICAL_PARTITION = "__historical__";

/** What the manager needs from the coordinator. */
export interface AutoPartitionHost {
  /** Tables with auto-partitioning enabled (one id, or all). */
  autoPartitionedTables(tableId?: bigint): Promise<TableInfo[]>;
  /** Partition names of a table, or undefined when that table no longer exists. */
  partitionNamesOf(tableId: bigint): Promise<string[] | undefined>;
  /** Create a partition by name unless it exists; "gone" when the table no longer exists. */
  createPartitionOf(tableId: bigint, name: string): Promise<"created" | "exists" | "gone">;
  /** Drop a partition by name; "missing" when it was not there, "gone" when the table is gone. */
  dropPartitionOf(tableId: bigint, name: string): Promise<"dropped" | "missing" | "gone">;
}

export interface AutoPartitionManagerOptions {
  host: AutoPartitionHost;
  clock: Clock;
  /** Times the periodic runs (default: the process's timers). */
  scheduler?: Scheduler;
  logger: Logger;
  /** Fluss auto-partition.check.interval (10 min). */
  checkIntervalMs: number;
  /** Zone of tables that set no table.auto-partition.time-zone (the server's zone). */
  defaultTimeZone: string;
  /** Partitions one table may have (bounds pre-creation). */
  partitionCountMax: number;
}

export interface AutoPartitionChange {
  readonly table: string;
  readonly partition: string;
}

/** What one run did. */
export interface AutoPartitionRun {
  readonly created: AutoPartitionChange[];
  readonly dropped: AutoPartitionChange[];
  readonly failed: Array<AutoPartitionChange & { readonly error: string }>;
}

function label(info: TableInfo): string {
  return `${info.path.database}.${info.path.table}`;
}

export class AutoPartitionManager {
  private readonly opts: AutoPartitionManagerOptions;
  private timer: TimerHandle | undefined;
  private readonly scheduler: Scheduler;
  private last: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(opts: AutoPartitionManagerOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? systemScheduler;
  }

  /** Run once now, then every check interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      this.runOnce().catch(backgroundFailure(this.opts.logger, "auto partitioning"));
    };
    tick();
    this.timer = this.scheduler.setInterval(tick, this.opts.checkIntervalMs);
    this.timer.unref();
  }

  /** Stop the periodic runs and wait for a running one. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.clearInterval(this.timer);
    this.timer = undefined;
    await this.last.catch(() => undefined);
  }

  /** One pass over every auto-partitioned table at the clock's now. */
  runOnce(): Promise<AutoPartitionRun> {
    return this.enqueue(undefined);
  }

  /** One pass over one table (right after it is created). */
  runTable(tableId: bigint): Promise<AutoPartitionRun> {
    return this.enqueue(tableId);
  }

  private enqueue(tableId: bigint | undefined): Promise<AutoPartitionRun> {
    const run = this.last.then(() => this.run(tableId));
    this.last = run.catch(() => undefined);
    return run;
  }

  private async run(tableId: bigint | undefined): Promise<AutoPartitionRun> {
    const result: AutoPartitionRun = { created: [], dropped: [], failed: [] };
    if (this.stopped) return result;
    const nowMs = this.opts.clock.nowMs();
    let tables: TableInfo[];
    try {
      tables = await this.opts.host.autoPartitionedTables(tableId);
    } catch (err) {
      this.opts.logger.warn({ err }, "auto partitioning could not list tables");
      return result;
    }
    for (const info of tables) {
      try {
        await this.runOneTable(info, nowMs, result);
      } catch (err) {
        this.opts.logger.warn({ err, table: label(info) }, "auto partitioning of a table failed");
      }
    }
    if (result.created.length + result.dropped.length + result.failed.length > 0) {
      this.opts.logger.info(
        {
          at: new Date(nowMs).toISOString(),
          created: result.created.length,
          dropped: result.dropped.length,
          failed: result.failed.length,
        },
        "auto partitioning done",
      );
    }
    return result;
  }

  private async runOneTable(info: TableInfo, nowMs: number, out: AutoPartitionRun): Promise<void> {
    const s: AutoPartitionStrategy = autoPartitionStrategyOf(
      info.descriptor.properties,
      this.opts.defaultTimeZone,
    );
    if (!s.enabled) return;
    const names = await this.opts.host.partitionNamesOf(info.tableId);
    if (names === undefined) return; // dropped meanwhile
    const keys = info.descriptor.partitionKeys;
    const table = label(info);

    const cutoff = retentionCutoff(s, nowMs);
    const remaining = new Set(names);
    if (cutoff !== null) {
      for (const name of [...names].sort()) {
        if (name === HISTORICAL_PARTITION) continue;
        if (compareAutoPartitionTimes(autoPartitionValueOf(keys, s, name), cutoff) >= 0) continue;
        try {
          const r = await this.opts.host.dropPartitionOf(info.tableId, name);
          if (r === "gone") return;
          remaining.delete(name);
          if (r === "dropped") {
            out.dropped.push({ table, partition: name });
            this.opts.logger.info(
              { table, partition: name, earliestRetained: cutoff },
              "auto partitioning dropped an expired partition",
            );
          }
        } catch (err) {
          out.failed.push({ table, partition: name, error: (err as Error).message });
          this.opts.logger.warn(
            { err, table, partition: name },
            "auto partitioning could not drop a partition",
          );
        }
      }
    }

    const wanted = partitionNamesToPrecreate(keys, s, nowMs, this.opts.partitionCountMax);
    for (const name of wanted) {
      if (remaining.has(name)) continue;
      try {
        const r = await this.opts.host.createPartitionOf(info.tableId, name);
        if (r === "gone") return;
        remaining.add(name);
        if (r === "created") {
          out.created.push({ table, partition: name });
          this.opts.logger.info({ table, partition: name }, "auto partitioning created a partition");
        }
      } catch (err) {
        out.failed.push({ table, partition: name, error: (err as Error).message });
        if (isFlussError(err) && err.is(Errors.PARTITION_MAX_NUM_EXCEPTION)) {
          this.opts.logger.warn(
            { table, partition: name },
            "auto partitioning stopped: the table has the most partitions allowed",
          );
          return;
        }
        this.opts.logger.warn(
          { err, table, partition: name },
          "auto partitioning could not create a partition",
        );
      }
    }
  }
}
