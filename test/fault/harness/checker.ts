// What a fault run must leave true, checked once the cluster is whole again:
//  - every acknowledged append is readable exactly once, at the offset (and bucket) it was
//    acknowledged with (or only in its bucket when the writer acknowledged it with offset -1: a
//    batch it knows was written because a later one of its bucket was); no row appears twice; within a bucket the rows of one writer
//    generation are in the order they were appended (ids increase with offsets);
//  - every key's lookup (on whoever leads its bucket now) shows its last acknowledged version, or a
//    later version whose write was sent but not acknowledged — never an older one, never one never
//    written;
//  - the replicas of every bucket hold identical logs below its high watermark (replica-logs.ts).

import type { FlussConnection } from "@fluss-ts/client";
import { KV_TABLE, LOG_TABLE, type LoadRecord } from "./load.ts";
import { type BucketComparison, compareReplicas, type ReplicaLog } from "./replica-logs.ts";

const DETAILS_MAX = 20;

export interface AppendCheck {
  readonly scanned: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Acknowledged once, but found at another bucket or offset than acknowledged. */
  readonly moved: number;
  readonly outOfOrder: number;
  readonly details: string[];
}

export async function checkAppends(conn: FlussConnection, r: LoadRecord): Promise<AppendCheck> {
  const table = await conn.getTable(LOG_TABLE);
  const seen = new Map<bigint, { bucket: number; offset: bigint; gen: number }[]>();
  let scanned = 0;
  for await (const rec of table.newLogScanner({ from: "earliest", untilLatest: true })) {
    scanned++;
    const row = rec.row as { id: bigint; gen: number };
    const list = seen.get(row.id) ?? [];
    list.push({ bucket: rec.bucket, offset: rec.offset, gen: row.gen });
    seen.set(row.id, list);
  }
  const details: string[] = [];
  const detail = (s: string): void => {
    if (details.length < DETAILS_MAX) details.push(s);
  };
  let lost = 0;
  let duplicated = 0;
  let moved = 0;
  for (const [id, ack] of r.appends) {
    const found = seen.get(id) ?? [];
    if (found.length === 0) {
      lost++;
      detail(`append ${id} acknowledged at bucket ${ack.bucket} offset ${ack.offset} is missing`);
    } else if (
      found.length === 1 &&
      (found[0]!.bucket !== ack.bucket || (ack.offset >= 0n && found[0]!.offset !== ack.offset))
    ) {
      moved++;
      detail(
        `append ${id} acknowledged at ${ack.bucket}/${ack.offset} found at ${found[0]!.bucket}/${found[0]!.offset}`,
      );
    }
  }
  for (const [id, found] of seen) {
    if (found.length > 1) {
      duplicated++;
      detail(
        `row ${id} appears ${found.length} times: ${found.map((f) => `${f.bucket}/${f.offset}`).join(", ")}`,
      );
    }
  }
  const outOfOrder = checkOrder(seen, detail);
  return { scanned, lost, duplicated, moved, outOfOrder, details };
}

/** Rows of one bucket and generation must have ids increasing with their offsets. */
function checkOrder(
  seen: ReadonlyMap<bigint, readonly { bucket: number; offset: bigint; gen: number }[]>,
  detail: (s: string) => void,
): number {
  const streams = new Map<string, { offset: bigint; id: bigint }[]>();
  for (const [id, found] of seen) {
    for (const f of found) {
      const key = `${f.bucket}/${f.gen}`;
      const list = streams.get(key) ?? [];
      list.push({ offset: f.offset, id });
      streams.set(key, list);
    }
  }
  let outOfOrder = 0;
  for (const [key, list] of streams) {
    list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.id <= list[i - 1]!.id) {
        outOfOrder++;
        detail(
          `bucket/generation ${key}: id ${list[i]!.id} at offset ${list[i]!.offset} after id ${list[i - 1]!.id}`,
        );
      }
    }
  }
  return outOfOrder;
}

export interface UpsertCheck {
  readonly keys: number;
  /** Keys with at least one acknowledged upsert (each looked up on its bucket's current leader). */
  readonly ackedKeys: number;
  readonly wrong: number;
  readonly details: string[];
}

export async function checkUpserts(conn: FlussConnection, r: LoadRecord): Promise<UpsertCheck> {
  const lookuper = (await conn.getTable(KV_TABLE)).newLookuper();
  const details: string[] = [];
  let wrong = 0;
  const keys = [...r.sentVersions.keys()];
  const rows = await Promise.all(keys.map((k) => lookuper.lookup({ k })));
  keys.forEach((k, i) => {
    const row = rows[i] as { v: bigint } | null;
    const acked = r.ackedVersion.get(k);
    const sent = r.sentVersions.get(k) ?? [];
    const v = row?.v;
    const ok =
      acked === undefined
        ? v === undefined || sent.includes(v)
        : v !== undefined && v >= acked && sent.includes(v);
    if (!ok) {
      wrong++;
      if (details.length < DETAILS_MAX)
        details.push(
          `key ${k}: lookup shows ${v ?? "nothing"}, last acknowledged version ${acked ?? "none"}`,
        );
    }
  });
  const ackedKeys = keys.filter((k) => r.ackedVersion.has(k)).length;
  return { keys: keys.length, ackedKeys, wrong, details };
}

export interface ReplicaCheck {
  readonly buckets: number;
  readonly replicasCompared: number;
  readonly divergent: number;
  readonly details: string[];
}

/** Compare every bucket's replica logs below its high watermark. */
export function checkReplicas(
  buckets: ReadonlyArray<{ name: string; hw: bigint; logs: ReadonlyMap<number, ReplicaLog> }>,
): ReplicaCheck {
  const details: string[] = [];
  let divergent = 0;
  let replicasCompared = 0;
  for (const b of buckets) {
    const c: BucketComparison = compareReplicas(b.logs, b.hw);
    replicasCompared += b.logs.size;
    divergent += c.divergent.length;
    for (const d of c.divergent) {
      if (details.length < DETAILS_MAX) details.push(`${b.name} replica ${d.replica}: ${d.why}`);
    }
  }
  return { buckets: buckets.length, replicasCompared, divergent, details };
}
