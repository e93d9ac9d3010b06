// One tiering round of one table: freeze every bucket's end offset (the high watermark now), read
// each bucket from its last tiered offset up to that end through the client SDK, write Parquet
// data files (log tables: the records; primary-key tables: each changed key's final row, plus an
// equality delete for keys that may already be in the lake), and commit all buckets in one
// Iceberg snapshot whose offsets file records where each bucket now stands.
// A primary-key bucket never tiered starts from a KV snapshot scan and its log offset.
// Bounds: at most `roundBytesMax` of Arrow data is read per round (a bucket cut short records the
// offset it reached; the next round continues there); a data file is written every
// `fileBytesMax`. A round that fails or loses a commit race publishes nothing: its files are
// unreferenced and the next round starts again from the last committed offsets.

import type { Admin, Table } from "@fluss-ts/client";
import { type Clock, columnIndex } from "@fluss-ts/common";
import { Schema as ArrowSchema, makeData, RecordBatch as RB, type RecordBatch, Struct } from "apache-arrow";
import type { LakeTable, WrittenFile } from "../iceberg/lake-table.ts";
import { bucketKey, type LakeOffsets, type TieredBucket } from "../iceberg/offsets-file.ts";
import { toLakeBatch } from "../lake-batch.ts";
import { type PhysicalBucket, readKvSnapshot, readLogRange } from "./bucket-readers.ts";
import { PkRoundChanges } from "./pk-changes.ts";

export interface RoundOptions {
  readonly clock: Clock;
  /** Arrow bytes read per round at most (default 256 MiB). */
  readonly roundBytesMax?: number;
  /** Arrow bytes per data file at most (default 128 MiB). */
  readonly fileBytesMax?: number;
}

export interface RoundResult {
  readonly committed: boolean;
  readonly snapshotId: number | null;
  readonly recordsRead: number;
  readonly durationMs: number;
  /** Buckets that were cut short by the round budget (more to tier right away). */
  readonly partial: boolean;
}

const ROUND_BYTES_MAX_DEFAULT = 256 * 1024 * 1024;
const FILE_BYTES_MAX_DEFAULT = 128 * 1024 * 1024;
/** Buckets read at once in a round. */
const TIER_PARALLEL = 2;

function batchBytes(b: RecordBatch): number {
  let n = 0;
  for (const c of b.data.children) {
    n += (c.values?.byteLength ?? 0) + (c.valueOffsets?.byteLength ?? 0) + (c.nullBitmap?.byteLength ?? 0);
  }
  return n;
}

/** Every physical bucket of the table now: its buckets, or each partition's. */
export async function physicalBuckets(admin: Admin, table: Table): Promise<PhysicalBucket[]> {
  const info = table.info;
  const buckets = Array.from({ length: info.bucketCount }, (_, i) => i);
  if (info.descriptor.partitionKeys.length === 0) {
    return buckets.map((bucket) => ({
      partitionId: null,
      partitionName: null,
      partitionSpec: null,
      partitionValues: [],
      bucket,
    }));
  }
  const out: PhysicalBucket[] = [];
  for (const p of await admin.listPartitions(info.path)) {
    const values = info.descriptor.partitionKeys.map((k) => p.spec[k] ?? "");
    for (const bucket of buckets) {
      out.push({
        partitionId: p.partitionId,
        partitionName: p.name,
        partitionSpec: p.spec,
        partitionValues: values,
        bucket,
      });
    }
  }
  return out;
}

/** Frozen end offsets (high watermarks now) and earliest offsets of every physical bucket. */
export async function offsetsOf(
  admin: Admin,
  table: Table,
  pbs: readonly PhysicalBucket[],
  at: "latest" | "earliest",
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const byPartition = new Map<string, PhysicalBucket[]>();
  for (const pb of pbs) {
    const k = pb.partitionId === null ? "" : pb.partitionId.toString();
    byPartition.set(k, [...(byPartition.get(k) ?? []), pb]);
  }
  for (const group of byPartition.values()) {
    const pid = group[0]!.partitionId;
    const m = await admin.listOffsets(
      table.info.path,
      at,
      group.map((g) => g.bucket),
      pid === null ? null : { partitionId: pid },
    );
    for (const g of group) out.set(bucketKey(g.partitionId, g.bucket), m.get(g.bucket) ?? 0n);
  }
  return out;
}

/** Run one round for `table` into `lake`. */
export async function tierRound(
  admin: Admin,
  table: Table,
  lake: LakeTable,
  o: RoundOptions,
): Promise<RoundResult> {
  const t0 = o.clock.nowMs();
  await lake.refresh();
  const state = await lake.state();
  const prev = state?.offsets.buckets ?? new Map<string, TieredBucket>();
  const pbs = await physicalBuckets(admin, table);
  const ends = await offsetsOf(admin, table, pbs, "latest");
  const fresh = pbs.filter((pb) => !prev.has(bucketKey(pb.partitionId, pb.bucket)));
  const earliest =
    fresh.length > 0 ? await offsetsOf(admin, table, fresh, "earliest") : new Map<string, bigint>();
  const isPk = table.info.descriptor.schema.primaryKey.length > 0;
  const budget = { left: o.roundBytesMax ?? ROUND_BYTES_MAX_DEFAULT };
  const fileBytesMax = o.fileBytesMax ?? FILE_BYTES_MAX_DEFAULT;
  const files: WrittenFile[] = [];
  const next = new Map<string, TieredBucket>(prev);
  let records = 0;
  let partial = false;
  // Buckets are read TIER_PARALLEL at a time, so one bucket's fetches overlap another's encoding.
  const tierBucket = async (pb: PhysicalBucket): Promise<void> => {
    const key = bucketKey(pb.partitionId, pb.bucket);
    const end = ends.get(key) ?? 0n;
    const before = prev.get(key)?.offset;
    if (budget.left <= 0) {
      partial = partial || before === undefined || before < end;
      return;
    }
    let reached: bigint;
    if (isPk && before === undefined) {
      const r = await tierKvSnapshot(table, lake, pb, files, o.clock);
      records += r.records;
      budget.left -= r.bytes;
      reached = r.offset;
    } else {
      const start = before ?? earliest.get(key) ?? 0n;
      if (start >= end) {
        if (before === undefined) next.set(key, tiered(pb, start));
        return;
      }
      const r = isPk
        ? await tierChangelog(table, lake, pb, start, end, budget, files)
        : await tierLog(table, lake, pb, start, end, budget, fileBytesMax, files);
      records += r.records;
      reached = r.reached;
      partial = partial || reached < end;
    }
    next.set(key, tiered(pb, reached));
  };
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < pbs.length) await tierBucket(pbs[cursor++]!);
  };
  await Promise.all(Array.from({ length: Math.min(TIER_PARALLEL, pbs.length) }, worker));
  const changed = [...next.entries()].some(([k, v]) => prev.get(k)?.offset !== v.offset);
  if (!changed && state !== null) {
    return {
      committed: false,
      snapshotId: null,
      recordsRead: 0,
      durationMs: o.clock.nowMs() - t0,
      partial: false,
    };
  }
  const offsets: LakeOffsets = { tableId: table.info.tableId, buckets: next };
  const snap = await lake.commit(
    { files, offsets, recordsRead: records, durationMs: o.clock.nowMs() - t0 },
    o.clock,
  );
  return {
    committed: true,
    snapshotId: snap["snapshot-id"],
    recordsRead: records,
    durationMs: o.clock.nowMs() - t0,
    partial,
  };
}

function tiered(pb: PhysicalBucket, offset: bigint): TieredBucket {
  return { partitionId: pb.partitionId, partitionName: pb.partitionName, bucket: pb.bucket, offset };
}

async function tierLog(
  table: Table,
  lake: LakeTable,
  pb: PhysicalBucket,
  start: bigint,
  end: bigint,
  budget: { left: number },
  fileBytesMax: number,
  files: WrittenFile[],
): Promise<{ reached: bigint; records: number }> {
  const tuple = lake.partitionTuple(pb.partitionValues, pb.bucket);
  let pending: RecordBatch[] = [];
  let pendingBytes = 0;
  let records = 0;
  const writes: Promise<void>[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const batches = pending;
    pending = [];
    pendingBytes = 0;
    writes.push(lake.writeDataFile(tuple, batches).then((f) => void files.push(f)));
  };
  const reached = await readLogRange(table, pb, start, end, (b, rows) => {
    const lb = toLakeBatch(lake.layout, rows, pb.bucket, b.baseOffset, b.commitTimestamp);
    const bytes = batchBytes(rows);
    pending.push(lb);
    pendingBytes += bytes;
    records += rows.numRows;
    budget.left -= bytes;
    if (pendingBytes >= fileBytesMax) flush();
    return budget.left > 0;
  });
  flush();
  await Promise.all(writes);
  return { reached, records };
}

function keyIndexesOf(table: Table): number[] {
  const schema = table.info.descriptor.schema;
  return schema.primaryKey.map((k) => columnIndex(schema, k));
}

/** A lake batch reduced to the primary-key columns (the equality delete file's schema). */
function keyProjector(lake: LakeTable): (b: RecordBatch) => RecordBatch {
  const keyNames = lake.layout.primaryKey;
  const fields = lake.layout.arrowSchema.fields.filter((f) => keyNames.includes(f.name));
  const schema = new ArrowSchema(fields);
  return (b) => {
    const children = fields.map((f) => b.data.children[b.schema.fields.findIndex((x) => x.name === f.name)]!);
    return new RB(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  };
}

async function tierChangelog(
  table: Table,
  lake: LakeTable,
  pb: PhysicalBucket,
  start: bigint,
  end: bigint,
  budget: { left: number },
  files: WrittenFile[],
): Promise<{ reached: bigint; records: number }> {
  const changes = new PkRoundChanges(keyIndexesOf(table));
  const reached = await readLogRange(table, pb, start, end, (b, rows, types) => {
    const bytes = batchBytes(rows);
    changes.add(
      rows,
      toLakeBatch(lake.layout, rows, pb.bucket, b.baseOffset, b.commitTimestamp),
      types,
      bytes,
    );
    budget.left -= bytes;
    return budget.left > 0;
  });
  if (!changes.empty) {
    const tuple = lake.partitionTuple(pb.partitionValues, pb.bucket);
    const { rows, deletes } = changes.result(keyProjector(lake));
    if (rows.length > 0) files.push(await lake.writeDataFile(tuple, rows));
    if (deletes.length > 0) files.push(await lake.writeEqualityDeletes(tuple, deletes));
  }
  return { reached, records: changes.records };
}

async function tierKvSnapshot(
  table: Table,
  lake: LakeTable,
  pb: PhysicalBucket,
  files: WrittenFile[],
  clock: Clock,
): Promise<{ offset: bigint; records: number; bytes: number }> {
  const tuple = lake.partitionTuple(pb.partitionValues, pb.bucket);
  let records = 0;
  let bytes = 0;
  // Snapshot rows carry no offset of their own: -1 stands for "from the KV snapshot".
  const now = clock.nowMs();
  const offset = await readKvSnapshot(table, pb, async (rows) => {
    records += rows.numRows;
    bytes += batchBytes(rows);
    files.push(await lake.writeDataFile(tuple, [toLakeBatch(lake.layout, rows, pb.bucket, -1n, now, false)]));
  });
  return { offset, records, bytes };
}
