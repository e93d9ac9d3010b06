// Union read: a table's lake snapshot followed, per bucket, by its log from the offset the
// snapshot records, so a reader sees the whole table though the log has expired or moved on.
// Log tables: per bucket, the lake rows in offset order, then the log records from the tiered
// offset: concatenated, no gap, no duplicate. Primary-key tables: per bucket, the lake's rows
// (data files minus newer equality deletes) merged by key with the changelog from the tiered
// offset to the latest offset (the log wins): the table's current state, one row per key.
// Projection and filters apply on both sides: lake files are skipped by partition and by their
// column bounds, Parquet row groups by their statistics, only the needed columns are decoded; the
// log scanner pushes projection and filter to the server. Without `follow` the scan ends at the
// latest offsets seen when each bucket's log part starts; with it (log tables) it keeps tailing.
// Memory: log tables stream (one lake file at a time); a primary-key bucket's merged state is
// held while that bucket is read (bounded by the bucket's size).

import type { Admin, ScanRecord, Table } from "@fluss-ts/client";
import {
  arrowSchemaOfColumns,
  buildRecordBatch,
  type ChangeTypeName,
  type Column,
  columnIndex,
  filterRecordBatch,
  type OutputRow,
  type Predicate,
  parsePredicate,
  predicateColumns,
  readRows,
  type Schema,
  systemClock,
  takeRows,
} from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";
import { type LakeLayout, lakeLayoutOf, OFFSET_COLUMN, TIMESTAMP_COLUMN } from "../iceberg/lake-schema.ts";
import { LakeTable } from "../iceberg/lake-table.ts";
import { type DataFile, decodeBound } from "../iceberg/manifest.ts";
import { bucketKey, type TieredBucket } from "../iceberg/offsets-file.ts";
import { toFlussBatch } from "../lake-batch.ts";
import type { PhysicalBucket } from "../tiering/bucket-readers.ts";
import { offsetsOf, physicalBuckets } from "../tiering/tiering-round.ts";
import {
  type BucketFiles,
  type FileReadStats,
  fileMayMatch,
  planFiles,
  readDataFile,
  tupleKey,
} from "./lake-files.ts";

export interface UnionScanOptions {
  /** The Iceberg warehouse the table is tiered to (`datalake.iceberg.warehouse`). */
  readonly warehouse: string;
  readonly columns?: readonly string[];
  readonly filter?: string | Predicate;
  /** Only this partition (exact spec, e.g. `{ dt: "2026" }`), for a partitioned table. */
  readonly partition?: Readonly<Record<string, string>>;
  /** Log tables: keep tailing the log after the lake part (default: stop at the latest offset). */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

/** One record of a union read. */
export interface UnionRecord extends ScanRecord {
  /** Where the record came from. */
  readonly source: "lake" | "log";
}

/** A batch of a log table's union read (Fluss Arrow types, the requested columns). */
export interface UnionBatch {
  readonly source: "lake" | "log";
  readonly bucket: number;
  readonly partition: string | null;
  readonly recordBatch: RecordBatch;
  /** Offset of row i: baseOffset + (selection ? selection[i] : i), as in the log scanner's ScanBatch. */
  readonly baseOffset: bigint;
  readonly selection: Uint32Array | null;
}

interface Tuple {
  readonly key: string;
  readonly bucket: number;
  readonly partitionValues: readonly string[];
  readonly partitionName: string | null;
  readonly fluss: PhysicalBucket | null;
  readonly lake: BucketFiles | null;
  readonly tiered: TieredBucket | null;
  /** The bucket's latest offset when the scan started (not known while following). */
  readonly latest: bigint | null;
}

/** Does the bucket have log records past what the lake holds (or is it followed)? */
function hasLogPart(t: Tuple): boolean {
  if (t.fluss === null) return false;
  return t.latest === null || t.tiered === null || t.tiered.offset < t.latest;
}

export class UnionScanner implements AsyncIterable<UnionRecord> {
  readonly columns: readonly Column[];
  /** The lake snapshot read (null when the table has none yet). */
  lakeSnapshotId: number | null = null;
  /** Row groups seen and decoded in lake files (filter pruning), and bytes read from them. */
  readonly lakeReadStats: FileReadStats = { rowGroupsTotal: 0, rowGroupsRead: 0, bytesRead: 0 };
  private readonly table: Table;
  private readonly admin: Admin;
  private readonly o: UnionScanOptions;
  private readonly filter: Predicate | null;
  private readonly fetchColumns: readonly Column[];

  constructor(table: Table, admin: Admin, o: UnionScanOptions) {
    this.table = table;
    this.admin = admin;
    this.o = o;
    const schema = table.info.descriptor.schema;
    this.filter =
      o.filter === undefined
        ? null
        : typeof o.filter === "string"
          ? parsePredicate(o.filter, schema)
          : o.filter;
    const wanted = o.columns ? o.columns.map((c) => columnIndex(schema, c)) : schema.columns.map((_, i) => i);
    this.columns = wanted.map((i) => schema.columns[i]!);
    // Fetched: the wanted columns, plus what the filter and (primary-key tables) the key read.
    const extra = [
      ...(this.filter ? predicateColumns(this.filter) : []),
      ...schema.primaryKey.map((k) => columnIndex(schema, k)),
    ].filter((i) => !wanted.includes(i));
    this.fetchColumns = [...wanted, ...new Set(extra)].map((i) => schema.columns[i]!);
  }

  private get isPk(): boolean {
    return this.table.info.descriptor.schema.primaryKey.length > 0;
  }

  /** The physical buckets to read: Fluss's now, and the lake's (a dropped partition lives on there). */
  private async tuples(): Promise<Tuple[]> {
    const info = this.table.info;
    const keys = info.descriptor.partitionKeys;
    const spec = this.o.partition;
    const matches = (values: readonly string[]) =>
      !spec || keys.every((k, i) => spec[k] === undefined || spec[k] === values[i]);
    const lake = await LakeTable.open(this.o.warehouse, info, systemClock, false);
    const state = lake ? await lake.state() : null;
    this.lakeSnapshotId = state ? state.snapshot["snapshot-id"] : null;
    const files =
      lake && state
        ? await planFiles(lake.layout, state.snapshot, (v) => matches(v))
        : new Map<string, BucketFiles>();
    const out = new Map<string, Tuple>();
    const pbs = (await physicalBuckets(this.admin, this.table)).filter((pb) => matches(pb.partitionValues));
    // Where each bucket's log ends now: a bucket the lake already covers needs no log read.
    const latest = this.o.follow
      ? new Map<string, bigint>()
      : await offsetsOf(this.admin, this.table, pbs, "latest");
    for (const pb of pbs) {
      const key = tupleKey(pb.partitionValues, pb.bucket);
      out.set(key, {
        key,
        bucket: pb.bucket,
        partitionValues: pb.partitionValues,
        partitionName: pb.partitionName,
        fluss: pb,
        lake: files.get(key) ?? null,
        tiered: state?.offsets.buckets.get(bucketKey(pb.partitionId, pb.bucket)) ?? null,
        latest: latest.get(bucketKey(pb.partitionId, pb.bucket)) ?? null,
      });
    }
    for (const [key, f] of files) {
      if (out.has(key)) continue;
      out.set(key, {
        key,
        bucket: f.bucket,
        partitionValues: f.partitionValues,
        partitionName: keys.length > 0 ? f.partitionValues.join("$") : null,
        fluss: null,
        lake: f,
        tiered: null,
        latest: null,
      });
    }
    return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Lake rows of one bucket, as Fluss batches of `fetchColumns` with their offsets (row i at
   * base + (rel ? rel[i] : i)) and, when asked, timestamps. A log table's data file holds one
   * contiguous offset range (its bounds say so), so without a filter its `__offset` column is not
   * even decoded.
   */
  private async *lakeBatches(t: Tuple, withTimestamps = true): AsyncGenerator<LakeRows> {
    if (!t.lake) return;
    const schemaColumns = this.table.info.descriptor.schema.columns;
    const arrowSchema = arrowSchemaOfColumns(this.fetchColumns);
    const deleted = this.isPk ? await this.deletedKeys(t.lake) : null;
    const keyNames = this.table.info.descriptor.schema.primaryKey;
    const filter = this.isPk ? null : this.filter;
    for (const f of t.lake.data) {
      if (!this.isPk && !fileMayMatch(this.lakeLayout(), f.file, this.filter)) continue;
      const range = this.isPk || filter ? null : contiguousRange(this.lakeLayout(), f.file);
      const names = [
        ...this.fetchColumns.map((c) => c.name),
        ...(range ? [] : [OFFSET_COLUMN]),
        ...(withTimestamps ? [TIMESTAMP_COLUMN] : []),
      ];
      let next = range ?? 0n;
      for (const lb of await readDataFile(
        f.file.file_path,
        names,
        schemaColumns,
        filter,
        this.lakeReadStats,
      )) {
        const batch = toFlussBatch(lb, this.fetchColumns, arrowSchema);
        let base = next;
        let rel: Uint32Array | null = null;
        if (range === null) {
          const offsets = lb.getChild(OFFSET_COLUMN)!.data[0]!.values as BigInt64Array;
          base = offsets[0] ?? 0n;
          rel = Uint32Array.from(offsets.subarray(0, lb.numRows), (o) => Number(o - base));
        }
        next += BigInt(lb.numRows);
        const ts = withTimestamps ? (lb.getChild(TIMESTAMP_COLUMN)!.data[0]!.values as BigInt64Array) : null;
        let keep: number[] | null = null;
        if (deleted) {
          keep = [];
          const rows = readRows(batch, this.fetchColumns);
          for (let r = 0; r < batch.numRows; r++) {
            const seq = deleted.get(rowKey(rows[r]!, keyNames));
            if (seq === undefined || seq <= f.sequenceNumber) keep.push(r);
          }
        }
        const out = this.select({ batch, base, rel, ts }, keep, filter);
        if (out) yield out;
      }
    }
  }

  /** The rows of `l` that `keep` (surviving deletes) and `filter` select. */
  private select(l: LakeRows, keep: number[] | null, filter: Predicate | null): LakeRows | null {
    const { batch } = l;
    let sel: Uint32Array | null = keep ? Uint32Array.from(keep) : null;
    if (filter) {
      const chosen = filterRecordBatch(batch, this.fetchColumns, filter).selection;
      if (sel) {
        const allowed = new Set(sel);
        sel = chosen.filter((i) => allowed.has(i));
      } else sel = chosen;
    }
    if (sel && sel.length === 0) return null;
    if (!sel || sel.length === batch.numRows) return l;
    const picked = sel;
    return {
      batch: takeRows(batch, picked),
      base: l.base,
      rel: Uint32Array.from(picked, (i) => (l.rel ? l.rel[i]! : i)),
      ts: l.ts ? BigInt64Array.from(picked, (i) => l.ts![i]!) : null,
    };
  }

  private layoutCache: LakeLayout | undefined;
  private lakeLayout(): LakeLayout {
    this.layoutCache ??= lakeLayoutOf(this.table.info);
    return this.layoutCache;
  }

  /** Keys deleted by the bucket's equality delete files: key text → highest delete sequence number. */
  private async deletedKeys(files: BucketFiles): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const schema = this.table.info.descriptor.schema;
    const keyColumns = schema.primaryKey.map((k) => schema.columns[columnIndex(schema, k)]!);
    const arrowSchema = arrowSchemaOfColumns(keyColumns);
    for (const d of files.deletes) {
      for (const lb of await readDataFile(d.file.file_path, schema.primaryKey, schema.columns, null)) {
        const rows = readRows(toFlussBatch(lb, keyColumns, arrowSchema), keyColumns);
        for (const row of rows) {
          const k = rowKey(row, schema.primaryKey);
          out.set(k, Math.max(out.get(k) ?? 0, d.sequenceNumber));
        }
      }
    }
    return out;
  }

  private logScanner(t: Tuple, follow: boolean, filtered: boolean) {
    const pb = t.fluss!;
    return this.table.newLogScanner({
      buckets: [pb.bucket],
      ...(pb.partitionSpec ? { partitions: pb.partitionSpec } : {}),
      ...(t.tiered ? { from: { offset: t.tiered.offset } } : { from: "earliest" }),
      untilLatest: !follow,
      // All columns: no projection (the server reads whole batches; columns are picked by name).
      ...(this.fetchColumns.length < this.table.info.descriptor.schema.columns.length
        ? { columns: this.fetchColumns.map((c) => c.name) }
        : {}),
      ...(filtered && this.filter ? { filter: this.filter } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      fetchBucketMaxBytes: 8 * 1024 * 1024,
      fetchMaxBytes: 32 * 1024 * 1024,
    });
  }

  /** Log tables: lake and log batches, bucket by bucket. */
  async *batches(): AsyncGenerator<UnionBatch> {
    if (this.isPk) throw new Error("batches() reads log tables; iterate the scanner for a primary-key table");
    const tuples = await this.tuples();
    const names = this.columns.map((c) => c.name);
    const project = (b: RecordBatch) =>
      b.numCols === names.length && b.schema.fields.every((f, i) => f.name === names[i])
        ? b
        : b.select(names);
    for (const t of tuples) {
      for await (const l of this.lakeBatches(t, false)) {
        yield {
          baseOffset: l.base,
          selection: l.rel,
          source: "lake",
          bucket: t.bucket,
          partition: t.partitionName,
          recordBatch: project(l.batch),
        };
      }
      if (!hasLogPart(t) || this.o.follow) continue;
      for await (const s of this.logScanner(t, false, true).batches()) {
        yield {
          source: "log",
          bucket: t.bucket,
          partition: t.partitionName,
          recordBatch: project(s.recordBatch),
          baseOffset: s.baseOffset,
          selection: s.selection,
        };
      }
    }
    if (this.o.follow) throw new Error("batches() with follow is not supported: iterate the records");
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<UnionRecord> {
    if (this.isPk) {
      yield* this.primaryKeyRecords();
      return;
    }
    const tuples = await this.tuples();
    for (const t of tuples) {
      for await (const l of this.lakeBatches(t)) yield* this.lakeRecords(t, l);
      if (!hasLogPart(t) || this.o.follow) continue;
      for await (const r of this.logScanner(t, false, true))
        yield { ...this.projectRecord(r), source: "log" };
    }
    if (this.o.follow) {
      const its = tuples.filter((t) => t.fluss).map((t) => this.logScanner(t, true, true));
      for await (const r of mergeRecords(its)) yield { ...this.projectRecord(r), source: "log" };
    }
  }

  private projectRecord(r: ScanRecord): ScanRecord {
    if (this.fetchColumns.length === this.columns.length) return r;
    const row: Record<string, unknown> = {};
    for (const c of this.columns) row[c.name] = r.row[c.name];
    return { ...r, row };
  }

  private *lakeRecords(t: Tuple, l: LakeRows, changeType: ChangeTypeName = "+A"): Generator<UnionRecord> {
    const rows = readRows(l.batch, this.fetchColumns);
    for (let i = 0; i < rows.length; i++) {
      yield this.lakeRecord(t, rows[i]!, offsetAt(l, i), l.ts ? l.ts[i]! : 0n, changeType);
    }
  }

  private lakeRecord(
    t: Tuple,
    row: OutputRow,
    offset: bigint,
    tsMicros: bigint,
    changeType: ChangeTypeName,
  ): UnionRecord {
    const out: Record<string, unknown> = {};
    for (const c of this.columns) out[c.name] = row[c.name];
    return {
      source: "lake",
      bucket: t.bucket,
      partition: t.partitionName,
      offset,
      timestamp: Number(tsMicros / 1000n),
      changeType,
      row: out,
    };
  }

  /** Primary-key tables: each bucket's lake state merged with its changelog, then filtered. */
  private async *primaryKeyRecords(): AsyncGenerator<UnionRecord> {
    const keyNames = this.table.info.descriptor.schema.primaryKey;
    const fetchSchema: Schema = { columns: this.fetchColumns, primaryKey: [], highestFieldId: 0 };
    for (const t of await this.tuples()) {
      const state = new Map<string, UnionRecord>();
      for await (const l of this.lakeBatches(t)) {
        const rows = readRows(l.batch, this.fetchColumns);
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          state.set(rowKey(row, keyNames), {
            source: "lake",
            bucket: t.bucket,
            partition: t.partitionName,
            offset: offsetAt(l, i),
            timestamp: Number((l.ts ? l.ts[i]! : 0n) / 1000n),
            changeType: "+I",
            row,
          });
        }
      }
      if (hasLogPart(t)) {
        for await (const r of this.logScanner(t, false, false)) {
          const k = rowKey(r.row, keyNames);
          if (r.changeType === "-D") state.delete(k);
          else if (r.changeType !== "-U") state.set(k, { ...r, changeType: "+I", source: "log" });
        }
      }
      const finals = [...state.values()];
      let chosen: readonly UnionRecord[] = finals;
      if (this.filter && finals.length > 0) {
        const batch = buildRecordBatch(
          fetchSchema,
          finals.map((r) => r.row),
        );
        chosen = Array.from(
          filterRecordBatch(batch, this.fetchColumns, this.filter).selection,
          (i) => finals[i]!,
        );
      }
      for (const r of chosen) yield { ...this.projectRecord(r), source: r.source };
    }
  }
}

/** Lake rows: a Fluss batch, row i at offset base + (rel ? rel[i] : i), timestamps in microseconds. */
interface LakeRows {
  readonly batch: RecordBatch;
  readonly base: bigint;
  readonly rel: Uint32Array | null;
  readonly ts: BigInt64Array | null;
}

function offsetAt(l: LakeRows, i: number): bigint {
  return l.base + BigInt(l.rel ? l.rel[i]! : i);
}

/** The first offset of a data file holding one contiguous offset range, else null. */
function contiguousRange(layout: LakeLayout, f: DataFile): bigint | null {
  const lo = f.lower_bounds?.find((b) => b.key === layout.offsetFieldId);
  const hi = f.upper_bounds?.find((b) => b.key === layout.offsetFieldId);
  if (!lo || !hi) return null;
  const a = decodeBound("long", lo.value);
  const b = decodeBound("long", hi.value);
  if (typeof a !== "bigint" || typeof b !== "bigint") return null;
  return b - a + 1n === BigInt(f.record_count) ? a : null;
}

/** A primary key's identity as text, from a row's values (equal keys, equal text). */
function rowKey(row: Readonly<Record<string, unknown>>, keyNames: readonly string[]): string {
  let s = "";
  for (const k of keyNames) {
    const v = row[k];
    s +=
      typeof v === "bigint"
        ? `n${v}|`
        : v instanceof Uint8Array
          ? `b${Buffer.from(v).toString("hex")}|`
          : v instanceof Date
            ? `d${v.getTime()}|`
            : `${typeof v}${String(v)}|`;
  }
  return s;
}

/** Records of several scanners as they arrive (each scanner's order kept). */
async function* mergeRecords(scanners: readonly AsyncIterable<ScanRecord>[]): AsyncGenerator<ScanRecord> {
  const its = scanners.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<ScanRecord> }>>();
  const pull = (i: number): void => {
    pending.set(
      i,
      its[i]!.next().then((r) => ({ i, r })),
    );
  };
  for (let i = 0; i < its.length; i++) pull(i);
  while (pending.size > 0) {
    const { i, r } = await Promise.race(pending.values());
    if (r.done) {
      pending.delete(i);
      continue;
    }
    pull(i);
    yield r.value;
  }
}
