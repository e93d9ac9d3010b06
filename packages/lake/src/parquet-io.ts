// Parquet files of the lake, through maintained libraries only: parquet-wasm (Rust's arrow-rs
// Parquet writer and reader compiled to WebAssembly) encodes lake Arrow batches and decodes them
// with column projection and row-group selection; hyparquet parses the footer (row groups,
// per-column statistics and field ids) so the writer can record Iceberg column metrics and the
// reader can prune row groups by their min/max without decoding data.
// Files are LZ4_RAW-compressed without dictionary pages (measured on 500k ~100 B rows: writes
// 1.3-2x faster and reads 1.7x faster than ZSTD; dictionaries made writes 2-4x slower), with chunk statistics and row groups of at most ROW_GROUP_ROWS_MAX rows
// (each a unit of pruning). Reads go through parquet-wasm's ParquetFile: its synchronous
// readParquet ignores the `columns` and `rowGroups` options in 0.8 (measured), ParquetFile.read
// honours both, so a 2-of-20-column read decodes only those column chunks.

import { openAsBlob } from "node:fs";
import { open } from "node:fs/promises";
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { parquetMetadata } from "hyparquet";
import * as pw from "parquet-wasm/node";

/** Rows per row group: the unit of statistics pruning. */
export const ROW_GROUP_ROWS_MAX = 64 * 1024;

/** Statistics of one column over a file or a row group (values as hyparquet decodes them). */
export interface ColumnStats {
  readonly fieldId: number | undefined;
  readonly name: string;
  readonly nullCount: number;
  readonly valueCount: number;
  readonly min: unknown;
  readonly max: unknown;
  readonly compressedBytes: number;
}

export interface RowGroupInfo {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, ColumnStats>;
}

export interface ParquetFooter {
  readonly rows: number;
  readonly rowGroups: readonly RowGroupInfo[];
}

/** Encode lake batches (one schema) as one Parquet file. */
export function writeParquet(batches: readonly RecordBatch[]): Uint8Array {
  const ipc = tableToIPC(new Table(batches as RecordBatch[]), "stream");
  const table = pw.Table.fromIPCStream(ipc);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.LZ4_RAW)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(ROW_GROUP_ROWS_MAX)
    .setCreatedBy("fluss-ts lake tiering")
    .build();
  return pw.writeParquet(table, props);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/**
 * A Parquet file on disk as a Blob that reads lazily: parquet-wasm fetches only the footer and
 * the column chunks it decodes, so a 2-of-20-column read touches about 2/20 of the file.
 */
export function openParquet(path: string): Promise<Blob> {
  return openAsBlob(path);
}

/** The footer of a Parquet file on disk, read from its tail only. */
export async function readFooterOf(path: string): Promise<ParquetFooter> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const tail = Buffer.alloc(Math.min(size, 8));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const footerBytes = tail.readUInt32LE(0) + 8;
    if (footerBytes > size)
      throw new Error(`${path}: footer length ${footerBytes} past the file size ${size}`);
    const bytes = Buffer.alloc(footerBytes);
    await fh.read(bytes, 0, footerBytes, size - footerBytes);
    return readFooter(bytes);
  } finally {
    await fh.close();
  }
}

/** Row groups and column statistics of a Parquet file (its footer only). */
export function readFooter(bytes: Uint8Array): ParquetFooter {
  const md = parquetMetadata(toArrayBuffer(bytes));
  const ids = new Map<string, number | undefined>();
  for (const el of md.schema.slice(1)) ids.set(el.name, el.field_id ?? undefined);
  const rowGroups = md.row_groups.map((rg) => {
    const columns = new Map<string, ColumnStats>();
    for (const c of rg.columns) {
      const m = c.meta_data;
      if (!m) continue;
      const name = m.path_in_schema.join(".");
      const s = m.statistics;
      columns.set(name, {
        fieldId: ids.get(name),
        name,
        nullCount: Number(s?.null_count ?? 0n),
        valueCount: Number(m.num_values),
        min: s?.min_value ?? s?.min,
        max: s?.max_value ?? s?.max,
        compressedBytes: Number(m.total_compressed_size),
      });
    }
    return { rows: Number(rg.num_rows), columns };
  });
  return { rows: Number(md.num_rows), rowGroups };
}

/** Decode some columns of some row groups (all when omitted) into Arrow batches. */
export async function readParquet(
  source: Uint8Array | Blob,
  options: { columns?: readonly string[]; rowGroups?: readonly number[] } = {},
): Promise<RecordBatch[]> {
  if (options.rowGroups && options.rowGroups.length === 0) return [];
  const blob = source instanceof Blob ? source : new Blob([source as Uint8Array<ArrayBuffer>]);
  const file = await pw.ParquetFile.fromFile(blob);
  const table = await file.read({
    ...(options.columns ? { columns: [...options.columns] } : {}),
    ...(options.rowGroups ? { rowGroups: [...options.rowGroups] } : {}),
    batchSize: ROW_GROUP_ROWS_MAX,
  });
  file.free();
  return tableFromIPC(table.intoIPCStream()).batches;
}
