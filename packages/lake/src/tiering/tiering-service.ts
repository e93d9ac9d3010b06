// The tiering service: finds the tables with `table.datalake.enabled=true` (listing databases and
// tables through the client SDK every `tablesRefreshMs`), and tiers each at most once per
// `table.datalake.freshness` (Fluss's default 3 min): one round per table at a time, tables one
// after another, a round cut short by its byte budget followed by the next at once. It runs inside
// `fluss local` when `datalake.format` is set, or alone as `fluss tiering`; either way it reaches
// the cluster only as a client, so it works the same against one node or a cluster. Several
// services may run: each commit is atomic and single-winner (table-store.ts), a loser retries.
// Per-table results (last round's rows/s, errors) are kept for `status()`.
// Timers come from an injectable scheduler; nothing here blocks the event loop for long.

import type { FlussConnection, Table } from "@fluss-ts/client";
import {
  type Clock,
  parseDurationMs,
  type Scheduler,
  systemClock,
  systemScheduler,
  type TableInfo,
  type TimerHandle,
  tablePathToString,
} from "@fluss-ts/common";
import { LakeTable } from "../iceberg/lake-table.ts";
import { type RoundResult, tierRound } from "./tiering-round.ts";

export const DATALAKE_ENABLED = "table.datalake.enabled";
export const DATALAKE_FORMAT = "table.datalake.format";
export const DATALAKE_FRESHNESS = "table.datalake.freshness";
export const FRESHNESS_DEFAULT = "3 min";

export interface TieringLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TieringServiceOptions {
  readonly connection: FlussConnection;
  readonly warehouse: string;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly logger?: TieringLogger;
  /** How often the table list is refreshed (default 10 s). */
  readonly tablesRefreshMs?: number;
  /** Smallest wait between two rounds of one table whatever its freshness (default 1 s). */
  readonly roundIntervalMsMin?: number;
  readonly roundBytesMax?: number;
}

export interface TableTieringStatus {
  readonly table: string;
  readonly rounds: number;
  readonly lastRoundAtMs: number | null;
  readonly lastResult: RoundResult | null;
  readonly lastError: string | null;
}

/** Is a table lake-enabled (and for the Iceberg format)? */
export function isLakeEnabled(info: TableInfo): boolean {
  const p = info.descriptor.properties;
  if ((p[DATALAKE_ENABLED] ?? "false").toLowerCase() !== "true") return false;
  const format = p[DATALAKE_FORMAT];
  return format === undefined || format.toLowerCase() === "iceberg";
}

export function freshnessMsOf(info: TableInfo): number {
  return parseDurationMs(info.descriptor.properties[DATALAKE_FRESHNESS] ?? FRESHNESS_DEFAULT);
}

interface Tracked {
  info: TableInfo;
  table: Table;
  lake: LakeTable | null;
  nextRoundAtMs: number;
  status: TableTieringStatus;
}

const silent: TieringLogger = { info() {}, warn() {}, error() {} };

export class TieringService {
  private readonly o: TieringServiceOptions;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly log: TieringLogger;
  private readonly tables = new Map<string, Tracked>();
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastListingMs = Number.NEGATIVE_INFINITY;

  constructor(o: TieringServiceOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.scheduler = o.scheduler ?? systemScheduler;
    this.log = o.logger ?? silent;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.clearTimeout(this.timer);
    await this.running;
  }

  status(): TableTieringStatus[] {
    return [...this.tables.values()].map((t) => t.status);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.scheduler.setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Refresh the table list when due, then run every round that is due; schedule the next tick. */
  private async tick(): Promise<void> {
    try {
      if (this.clock.nowMs() - this.lastListingMs >= (this.o.tablesRefreshMs ?? 10_000))
        await this.refreshTables();
      await this.runDueRounds();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "lake tiering: listing tables failed");
    }
    const now = this.clock.nowMs();
    const next = Math.min(
      this.lastListingMs + (this.o.tablesRefreshMs ?? 10_000),
      ...[...this.tables.values()].map((t) => t.nextRoundAtMs),
    );
    this.schedule(Math.max(50, next - now));
  }

  private async refreshTables(): Promise<void> {
    const conn = this.o.connection;
    const seen = new Set<string>();
    for (const db of await conn.admin.listDatabases()) {
      for (const name of await conn.admin.listTables(db)) {
        const info = await conn.admin.getTableInfo({ database: db, table: name });
        if (!isLakeEnabled(info)) continue;
        const key = `${tablePathToString(info.path)}#${info.tableId}`;
        seen.add(key);
        if (this.tables.has(key)) continue;
        this.tables.set(key, {
          info,
          table: await conn.getTable(info.path),
          lake: null,
          nextRoundAtMs: this.clock.nowMs(),
          status: {
            table: tablePathToString(info.path),
            rounds: 0,
            lastRoundAtMs: null,
            lastResult: null,
            lastError: null,
          },
        });
      }
    }
    for (const key of [...this.tables.keys()]) if (!seen.has(key)) this.tables.delete(key);
    this.lastListingMs = this.clock.nowMs();
  }

  private async runDueRounds(): Promise<void> {
    for (const t of this.tables.values()) {
      if (this.stopped) return;
      if (t.nextRoundAtMs > this.clock.nowMs()) continue;
      await this.runRound(t);
    }
  }

  /** One round of one table now (also used by `fluss tiering --once`). */
  private async runRound(t: Tracked): Promise<void> {
    const freshnessMs = freshnessMsOf(t.info);
    try {
      t.lake ??= await LakeTable.open(this.o.warehouse, t.info, this.clock, true);
      const r = await tierRound(this.o.connection.admin, t.table, t.lake!, {
        clock: this.clock,
        ...(this.o.roundBytesMax !== undefined ? { roundBytesMax: this.o.roundBytesMax } : {}),
      });
      t.status = {
        ...t.status,
        rounds: t.status.rounds + 1,
        lastRoundAtMs: this.clock.nowMs(),
        lastResult: r,
        lastError: null,
      };
      if (r.committed) {
        this.log.info(
          { table: t.status.table, snapshotId: r.snapshotId, records: r.recordsRead, ms: r.durationMs },
          "lake tiering: snapshot committed",
        );
      }
      const min = this.o.roundIntervalMsMin ?? 1000;
      t.nextRoundAtMs = this.clock.nowMs() + (r.partial ? 0 : Math.max(min, freshnessMs));
    } catch (err) {
      const message = (err as Error).message;
      t.lake = null;
      t.status = { ...t.status, lastRoundAtMs: this.clock.nowMs(), lastError: message };
      this.log.error({ table: t.status.table, err: message }, "lake tiering: round failed (retried later)");
      t.nextRoundAtMs =
        this.clock.nowMs() + Math.max(this.o.roundIntervalMsMin ?? 1000, Math.min(freshnessMs, 30_000));
    }
  }

  /** Tier every lake-enabled table once, now (tests and `fluss tiering --once`). */
  async runOnce(): Promise<TableTieringStatus[]> {
    await this.refreshTables();
    for (const t of this.tables.values()) await this.runRound(t);
    return this.status();
  }
}
