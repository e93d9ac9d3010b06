// Test helpers for replication across server processes: a background writer that records, for
// every acknowledged row, the offset its receipt named; a checker that reads a table back and
// verifies every acknowledged row is there exactly once at that offset; polling of a bucket's
// leadership (clusterStatus); and a byte-for-byte comparison of a bucket's replica logs, read from
// the stopped servers' data directories.

import { join } from "node:path";
import type { FlussConnection, Table } from "@fluss-ts/client";
import { systemClock } from "@fluss-ts/common";
import { LogTablet } from "@fluss-ts/storage";

export async function until<T>(
  what: string,
  f: () => Promise<T | null | false> | T | null | false,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface BucketLeadership {
  readonly leader: number | null;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
}

/** A bucket's leadership as the coordinator records it (`table`: db.table; null while unknown). */
export async function leadership(
  conn: FlussConnection,
  table: string,
  bucket = 0,
): Promise<BucketLeadership | null> {
  try {
    const s = await conn.admin.clusterStatus();
    const b = s.buckets.find((x) => x.table === table && x.bucket === bucket && x.partitionId === null);
    return b ? { leader: b.leader, leaderEpoch: b.leaderEpoch, isr: [...b.isr].sort() } : null;
  } catch {
    return null;
  }
}

/** Rows appended by `startWriter`: id -> the offset its acknowledgement named. */
export interface WriterRun {
  /** Rows appended so far (acknowledged or not). */
  readonly appended: () => number;
  readonly acked: Map<bigint, bigint>;
  /** Stop appending, flush, close; resolves with the writer's failure, if any. */
  stop(): Promise<unknown>;
}

/** Append ids 0, 1, 2, ... to a one-bucket table until stopped, recording acknowledged offsets. */
export function startWriter(table: Table, pauseEvery = 50): WriterRun {
  const w = table.newAppendWriter({ lingerMs: 5 });
  const acked = new Map<bigint, bigint>();
  let next = 0n;
  let stopped = false;
  let failure: unknown = null;
  const loop = (async () => {
    while (!stopped) {
      const id = next++;
      const receipt = await w.append({ id });
      receipt.acknowledged.then(
        (a) => acked.set(id, a.offset),
        (err: unknown) => {
          failure ??= err;
        },
      );
      if (id % BigInt(pauseEvery) === 0n) await new Promise((r) => setTimeout(r, 2));
    }
  })().catch((err: unknown) => {
    failure ??= err;
  });
  return {
    appended: () => Number(next),
    acked,
    async stop() {
      stopped = true;
      await loop;
      await w.close().catch((err: unknown) => {
        failure ??= err;
      });
      return failure;
    },
  };
}

/** Read a one-bucket table from the start; checks every acknowledged row exactly once at its offset. */
export async function checkAcknowledged(
  table: Table,
  acked: ReadonlyMap<bigint, bigint>,
): Promise<{
  rows: number;
  lost: number;
  duplicated: number;
  moved: number;
}> {
  const seen = new Map<bigint, bigint[]>();
  let rows = 0;
  for await (const r of table.newLogScanner({ untilLatest: true })) {
    rows++;
    const id = r.row.id as bigint;
    const list = seen.get(id) ?? [];
    list.push(r.offset);
    seen.set(id, list);
  }
  let lost = 0;
  let duplicated = 0;
  let moved = 0;
  for (const [id, offset] of acked) {
    const at = seen.get(id);
    if (at === undefined) lost++;
    else if (!at.includes(offset)) moved++;
  }
  for (const at of seen.values()) if (at.length > 1) duplicated++;
  return { rows, lost, duplicated, moved };
}

/** A bucket's log directory in a tablet server's data directory (`fluss tablet-server --data-dir`). */
export function bucketLogDir(
  dataDir: string,
  serverId: number,
  table: string,
  tableId: bigint,
  bucket = 0,
): string {
  const [db, name] = table.split(".");
  return join(dataDir, `tablet-server-${serverId}`, db!, `${name}-${tableId}`, `log-${bucket}`);
}

/**
 * The logs of a bucket's replicas (each a stopped server's log directory), compared below the
 * high watermark: for every pair, the batches both hold below the highest checkpointed high
 * watermark are byte-identical. Returns the number of pairs that differ (0 when they agree) and
 * the committed offset compared up to.
 */
export async function divergentReplicas(
  dirs: readonly string[],
): Promise<{ divergent: number; committed: bigint }> {
  const logs: Array<{ end: bigint; hw: bigint; bytes: (end: bigint) => Promise<Buffer> }> = [];
  const opened: LogTablet[] = [];
  try {
    for (const dir of dirs) {
      const log = await LogTablet.open({ dir, config: {}, clock: systemClock });
      opened.push(log);
      logs.push({
        end: log.logEndOffset,
        hw: log.highWatermark,
        bytes: async (end) => Buffer.from((await log.read(0n, 1 << 30, end)).records),
      });
    }
    const committed = logs.reduce((m, l) => (l.hw > m ? l.hw : m), 0n);
    let divergent = 0;
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) {
        const a = logs[i]!;
        const b = logs[j]!;
        const end = [committed, a.end, b.end].reduce((m, x) => (x < m ? x : m));
        if (!(await a.bytes(end)).equals(await b.bytes(end))) divergent++;
      }
    }
    return { divergent, committed };
  } finally {
    for (const l of opened) await l.close();
  }
}
