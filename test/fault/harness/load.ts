// The load a fault run keeps up while servers die: an idempotent acks=all append writer on a log
// table and an upsert writer on a primary-key table, each row recorded with what the cluster
// acknowledged (an append: bucket and offset; an upsert: the key's version). A writer whose batch
// fails for good (its delivery timeout, a non-retriable error) is replaced by a new one — a new
// generation, with its own writer id — and its unacknowledged rows are recorded as failed: the
// checker asks nothing of them except that they appear at most once. A failure opening the tables
// for new writers is counted (`clientErrors`: the application saw it) and tried again.
// Row shapes: log table (id BIGINT, gen INT, pad STRING): ids increase in append order, so within
// one bucket and one generation offsets must increase with ids; primary-key table (k INT, v
// BIGINT, gen INT): v is a global counter, so the last acknowledged v of a key is its highest.
// Invariants: at most PENDING_MAX rows await acknowledgement (the load slows down, never piles up);
// `stop()` waits (bounded) for every pending row to settle.

import type { AppendWriter, FlussConnection, UpsertWriter } from "@fluss-ts/client";

export const LOG_TABLE = "fault.events";
export const KV_TABLE = "fault.state";
export const KV_KEYS = 200;
const PENDING_MAX = 2_000;
const TICK_MS = 20;
const PAD = "x".repeat(96);

export interface AckedAppend {
  readonly gen: number;
  readonly bucket: number;
  readonly offset: bigint;
}

export interface LoadRecord {
  /** id -> where the cluster acknowledged it. */
  readonly appends: Map<bigint, AckedAppend>;
  /** ids whose append failed (not acknowledged). */
  readonly failedAppends: Set<bigint>;
  /** Every id appended (acknowledged, failed or, after a bounded wait, unsettled). */
  appendsSent: number;
  /** key -> highest acknowledged version. */
  readonly ackedVersion: Map<number, bigint>;
  /** key -> every version written (in order). */
  readonly sentVersions: Map<number, bigint[]>;
  upsertsAcked: number;
  upsertsFailed: number;
  /** Failures the application saw outside a write (opening a table for new writers). */
  clientErrors: number;
  writerGenerations: number;
  /** First few errors that failed a write (for the report). */
  readonly errors: string[];
}

type Writers = {
  gen: number;
  append: AppendWriter<{ id: bigint; gen: number; pad: string }>;
  upsert: UpsertWriter<{ k: number; v: bigint; gen: number }>;
  broken: boolean;
};

export class Load {
  readonly record: LoadRecord = {
    appends: new Map(),
    failedAppends: new Set(),
    appendsSent: 0,
    ackedVersion: new Map(),
    sentVersions: new Map(),
    upsertsAcked: 0,
    upsertsFailed: 0,
    clientErrors: 0,
    writerGenerations: 0,
    errors: [],
  };
  private readonly conn: FlussConnection;
  private readonly rowsPerTick: number;
  private readonly keyOf: () => number;
  private writers: Writers | null = null;
  private nextId = 0n;
  private nextVersion = 0n;
  private pending = 0;
  private readonly settled = new Set<Promise<unknown>>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(conn: FlussConnection, o: { rowsPerSecond: number; keyOf: () => number }) {
    this.conn = conn;
    this.rowsPerTick = Math.max(1, Math.round((o.rowsPerSecond * TICK_MS) / 1000));
    this.keyOf = o.keyOf;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async newWriters(): Promise<Writers> {
    const gen = ++this.record.writerGenerations;
    const opts = { acks: "all" as const, idempotence: true, lingerMs: 10, deliveryTimeoutMs: 120_000 };
    return {
      gen,
      append: (await this.conn.getTable(LOG_TABLE)).newAppendWriter(opts),
      upsert: (await this.conn.getTable(KV_TABLE)).newUpsertWriter(opts),
      broken: false,
    };
  }

  private fail(w: Writers, err: unknown): void {
    w.broken = true;
    if (this.record.errors.length < 10) this.record.errors.push(`gen ${w.gen}: ${(err as Error).message}`);
  }

  private track(p: Promise<unknown>): void {
    this.pending++;
    const done = p.finally(() => {
      this.pending--;
      this.settled.delete(done);
    });
    this.settled.add(done);
  }

  private async appendOne(w: Writers): Promise<void> {
    const id = this.nextId++;
    this.record.appendsSent++;
    try {
      const receipt = await w.append.append({ id, gen: w.gen, pad: PAD });
      this.track(
        receipt.acknowledged.then(
          (a) => this.record.appends.set(id, { gen: w.gen, bucket: a.bucket, offset: a.offset }),
          (err: unknown) => {
            this.record.failedAppends.add(id);
            this.fail(w, err);
          },
        ),
      );
    } catch (err) {
      this.record.failedAppends.add(id);
      this.fail(w, err);
    }
  }

  private async upsertOne(w: Writers): Promise<void> {
    const k = this.keyOf();
    const v = this.nextVersion++;
    const sent = this.record.sentVersions.get(k) ?? [];
    sent.push(v);
    this.record.sentVersions.set(k, sent);
    const ok = (): void => {
      this.record.upsertsAcked++;
      if ((this.record.ackedVersion.get(k) ?? -1n) < v) this.record.ackedVersion.set(k, v);
    };
    const failed = (err: unknown): void => {
      this.record.upsertsFailed++;
      this.fail(w, err);
    };
    try {
      const receipt = await w.upsert.upsert({ k, v, gen: w.gen });
      this.track(receipt.acknowledged.then(ok, failed));
    } catch (err) {
      failed(err);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const w = this.writers;
      if (w === null || w.broken) {
        if (w) void Promise.allSettled([w.append.close(), w.upsert.close()]);
        this.writers = null;
        try {
          this.writers = await this.newWriters();
        } catch (err) {
          // An application would see this (getTable failed): counted, then tried again.
          this.record.clientErrors++;
          if (this.record.errors.length < 10)
            this.record.errors.push(`new writers: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        continue;
      }
      const tick = new Promise((r) => setTimeout(r, TICK_MS));
      for (let i = 0; i < this.rowsPerTick && this.pending < PENDING_MAX && !w.broken; i++) {
        await this.appendOne(w);
        if (i % 2 === 0) await this.upsertOne(w);
      }
      await tick;
    }
  }

  /** Stop writing, flush, and wait up to `waitMs` for every row to settle; returns the unsettled count. */
  async stop(waitMs: number): Promise<number> {
    this.running = false;
    await this.loop;
    const w = this.writers;
    const flushed = w ? Promise.allSettled([w.append.close(), w.upsert.close()]) : Promise.resolve();
    const all = Promise.allSettled([flushed, ...this.settled]);
    await Promise.race([all, new Promise((r) => setTimeout(r, waitMs))]);
    return this.pending;
  }
}
