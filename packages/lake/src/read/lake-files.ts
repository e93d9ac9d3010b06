// Reading a lake snapshot: the live data and equality-delete files of each physical bucket
// (partition tuple), pruned by partition and by the files' column bounds, and the rows of a data
// file with Parquet row groups pruned by their statistics, minus the keys that newer equality
// deletes remove (Iceberg's rule: a delete applies to data files of the same partition with a
// smaller data sequence number).

import {
  type BatchStatistics,
  type Column,
  type ColumnStatistics,
  mayMatch,
  type Predicate,
  type ScalarValue,
} from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";
import { type LakeLayout, OFFSET_COLUMN } from "../iceberg/lake-schema.ts";
import { readManifest, readManifestList } from "../iceberg/lake-table.ts";
import {
  CONTENT_DATA,
  CONTENT_EQUALITY_DELETES,
  type DataFile,
  decodeBound,
  STATUS_DELETED,
} from "../iceberg/manifest.ts";
import type { Snapshot } from "../iceberg/metadata.ts";
import { type RowGroupInfo, readFooterOf, readParquet } from "../parquet-io.ts";

export interface LiveFile {
  readonly file: DataFile;
  /** Data sequence number (the snapshot that added it). */
  readonly sequenceNumber: number;
}

/** The files of one physical bucket (one partition tuple). */
export interface BucketFiles {
  readonly partitionValues: readonly string[];
  readonly bucket: number;
  /** Data files by ascending smallest `__offset`. */
  readonly data: LiveFile[];
  readonly deletes: LiveFile[];
}

export function tupleKey(partitionValues: readonly string[], bucket: number): string {
  return JSON.stringify([...partitionValues, bucket]);
}

/** Every live file of a snapshot, grouped by partition tuple. */
export async function planFiles(
  layout: LakeLayout,
  snapshot: Snapshot,
  keep: (partitionValues: readonly string[], bucket: number) => boolean = () => true,
): Promise<Map<string, BucketFiles>> {
  const out = new Map<string, BucketFiles>();
  for (const mf of await readManifestList(snapshot["manifest-list"])) {
    for (const e of await readManifest(mf.manifest_path)) {
      if (e.status === STATUS_DELETED) continue;
      const f = e.data_file;
      const values = layout.partitionKeys.map((k) => String(f.partition[k] ?? ""));
      const bucket = Number(f.partition.__bucket);
      if (!keep(values, bucket)) continue;
      const key = tupleKey(values, bucket);
      let g = out.get(key);
      if (!g) {
        g = { partitionValues: values, bucket, data: [], deletes: [] };
        out.set(key, g);
      }
      const live = { file: f, sequenceNumber: e.sequence_number ?? mf.sequence_number };
      if (f.content === CONTENT_DATA) g.data.push(live);
      else if (f.content === CONTENT_EQUALITY_DELETES) g.deletes.push(live);
    }
  }
  for (const g of out.values()) {
    g.data.sort((a, b) => {
      const x = lowerOffset(layout, a.file);
      const y = lowerOffset(layout, b.file);
      return x < y ? -1 : x > y ? 1 : a.sequenceNumber - b.sequenceNumber;
    });
  }
  return out;
}

function lowerOffset(layout: LakeLayout, f: DataFile): bigint {
  const b = f.lower_bounds?.find((x) => x.key === layout.offsetFieldId);
  const v = b ? decodeBound("long", b.value) : null;
  return typeof v === "bigint" ? v : -1n;
}

/** Lake statistics of a file or row group in the ScalarValue forms the predicate evaluator uses. */
function toScalar(col: Column, v: unknown): ScalarValue | null {
  if (v === undefined || v === null) return null;
  switch (col.type.root) {
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "FLOAT":
    case "DOUBLE":
    case "DATE":
      return typeof v === "number" ? v : null;
    case "BIGINT":
      return typeof v === "bigint" ? v : null;
    case "STRING":
    case "CHAR":
      return typeof v === "string" ? v : null;
    case "BOOLEAN":
      return typeof v === "boolean" ? v : null;
    default:
      return null;
  }
}

function statisticsOf(
  columns: readonly Column[],
  get: (c: Column) => { min: unknown; max: unknown; nulls: number } | undefined,
): BatchStatistics {
  const stats: (ColumnStatistics | undefined)[] = [];
  const indexes: number[] = [];
  columns.forEach((c, i) => {
    const s = get(c);
    if (!s) return;
    const min = toScalar(c, s.min);
    const max = toScalar(c, s.max);
    if (min === null || max === null) return;
    stats[i] = { nullCount: s.nulls, min, max };
    indexes.push(i);
  });
  return { columnIndexes: indexes, columns: stats };
}

/** False only when the file's column bounds prove no row matches `filter`. */
export function fileMayMatch(layout: LakeLayout, f: DataFile, filter: Predicate | null): boolean {
  if (filter === null) return true;
  const columns = layout.dataColumns.map((c) => c.column!);
  const stats = statisticsOf(columns, (c) => {
    const lc = layout.dataColumns.find((x) => x.name === c.name)!;
    const lo = f.lower_bounds?.find((b) => b.key === lc.fieldId);
    const hi = f.upper_bounds?.find((b) => b.key === lc.fieldId);
    if (!lo || !hi) return undefined;
    const nulls = f.null_value_counts?.find((b) => b.key === lc.fieldId)?.value ?? 0;
    return { min: decodeBound(lc.icebergType, lo.value), max: decodeBound(lc.icebergType, hi.value), nulls };
  });
  return mayMatch(filter, stats, f.record_count);
}

function rowGroupMayMatch(columns: readonly Column[], rg: RowGroupInfo, filter: Predicate | null): boolean {
  if (filter === null) return true;
  const stats = statisticsOf(columns, (c) => {
    const s = rg.columns.get(c.name);
    return s ? { min: s.min, max: s.max, nulls: s.nullCount } : undefined;
  });
  return mayMatch(filter, stats, rg.rows);
}

export interface FileReadStats {
  rowGroupsTotal: number;
  rowGroupsRead: number;
  /** Bytes the Parquet decoder read from lake data files (each footer and the decoded column chunks). */
  bytesRead: number;
}

/**
 * The lake batches of one file: `columns` (lake column names) of the row groups whose statistics
 * may match `filter` (a predicate over the table's schema `schemaColumns`).
 */
export async function readDataFile(
  path: string,
  columns: readonly string[],
  schemaColumns: readonly Column[],
  filter: Predicate | null,
  stats?: FileReadStats,
): Promise<RecordBatch[]> {
  let rowGroups: number[] | undefined;
  if (filter !== null) {
    const footer = await readFooterOf(path);
    rowGroups = [];
    footer.rowGroups.forEach((rg, i) => {
      if (rowGroupMayMatch(schemaColumns, rg, filter)) rowGroups!.push(i);
    });
    if (stats) {
      stats.rowGroupsTotal += footer.rowGroups.length;
      stats.rowGroupsRead += rowGroups.length;
    }
  }
  return await readParquet(path, {
    columns,
    ...(rowGroups ? { rowGroups } : {}),
    ...(stats ? { stats } : {}),
  });
}

export { OFFSET_COLUMN };
