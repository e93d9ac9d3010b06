// The Iceberg table that mirrors one Fluss table in the warehouse: created on first use (v1, no
// snapshot), its state (current snapshot and the offsets file it names), data and delete files
// written with their Iceberg metrics, and one atomic commit per tiering round that adds every
// file of the round together with the new offsets (table-store.ts has the protocol).
// Invariants: a committed snapshot references only fsynced files; its `fluss-offsets` file holds,
// per bucket, the first offset not in the lake, and the data files added so far hold exactly the
// log records (or, for primary-key tables, the key states) below those offsets; files of a round
// that does not commit are never referenced. The table's `fluss.table-id` property ties it to
// one incarnation of the Fluss table: a lake table of a dropped table of the same name is refused.

import { randomInt, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Clock, type TableInfo, tablePathToString } from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";
import { lakeColumnsError, lakeStorageError } from "../lake-errors.ts";
import { readFooter, writeParquet } from "../parquet-io.ts";
import { type LakeLayout, lakeLayoutOf, sameSchema } from "./lake-schema.ts";
import {
  CONTENT_DATA,
  CONTENT_EQUALITY_DELETES,
  type DataFile,
  decodeAvroFile,
  encodeAvroFile,
  encodeBound,
  MANIFEST_FILE_SCHEMA,
  type ManifestEntry,
  type ManifestFile,
  manifestEntrySchema,
  type PartitionValue,
  STATUS_ADDED,
} from "./manifest.ts";
import {
  currentSnapshot,
  newTableMetadata,
  type Snapshot,
  type TableMetadata,
  withSnapshot,
} from "./metadata.ts";
import { decodeOffsets, encodeOffsets, type LakeOffsets } from "./offsets-file.ts";
import {
  commitVersion,
  type LoadedTable,
  loadTable,
  syncDirs,
  tableLocation,
  writeFileDurable,
} from "./table-store.ts";

export const COMMIT_USER = "__fluss_lake_tiering";
export const OFFSETS_PROPERTY = "fluss-offsets";
export const TABLE_ID_PROPERTY = "fluss.table-id";
/** Snapshots kept in the metadata (older ones leave the snapshot list; their files stay). */
export const SNAPSHOTS_KEPT_MAX = 100;
/** String bounds longer than this are not recorded (manifests stay small). */
const STRING_BOUND_CHARS_MAX = 64;

/** A file written for the round, not yet committed. */
export interface WrittenFile {
  readonly dataFile: DataFile;
  readonly path: string;
}

/** What a tiering round commits. */
export interface RoundCommit {
  readonly files: readonly WrittenFile[];
  readonly offsets: LakeOffsets;
  /** Records read from the log this round, and how long the round took. */
  readonly recordsRead: number;
  readonly durationMs: number;
}

/** The lake state of a table as readers see it. */
export interface LakeSnapshotState {
  readonly snapshot: Snapshot;
  readonly offsets: LakeOffsets;
}

export class LakeTable {
  readonly layout: LakeLayout;
  readonly location: string;
  readonly info: TableInfo;
  private loaded: LoadedTable;

  private constructor(info: TableInfo, layout: LakeLayout, location: string, loaded: LoadedTable) {
    this.info = info;
    this.layout = layout;
    this.location = location;
    this.loaded = loaded;
  }

  get metadata(): TableMetadata {
    return this.loaded.metadata;
  }

  get version(): number {
    return this.loaded.version;
  }

  /** Open the lake table of `info`, creating it when absent; null when absent and `create` is false. */
  static async open(
    warehouse: string,
    info: TableInfo,
    clock: Clock,
    create: boolean,
  ): Promise<LakeTable | null> {
    const layout = lakeLayoutOf(info);
    const location = tableLocation(warehouse, info.path);
    let loaded = await loadTable(location);
    if (loaded === null) {
      if (!create) return null;
      const m = newTableMetadata({
        uuid: randomUUID(),
        location,
        schema: layout.schema,
        spec: layout.spec,
        sortOrder: layout.sortOrder,
        properties: {
          [TABLE_ID_PROPERTY]: info.tableId.toString(),
          "write.format.default": "parquet",
          "format-version": "2",
          "write.delete.mode": "merge-on-read",
          "write.update.mode": "merge-on-read",
        },
        nowMs: clock.nowMs(),
      });
      try {
        await commitVersion(location, 0, m);
      } catch (err) {
        if (!(err instanceof Error && err.name === "CommitConflict")) throw err;
      }
      loaded = await loadTable(location);
      if (loaded === null) throw lakeStorageError(`lake table ${location} vanished after its creation`);
    }
    const t = new LakeTable(info, layout, location, loaded);
    t.checkMatches();
    return t;
  }

  private checkMatches(): void {
    const m = this.loaded.metadata;
    const where = `${tablePathToString(this.info.path)} (lake table ${this.location})`;
    const id = m.properties[TABLE_ID_PROPERTY];
    if (id !== undefined && id !== this.info.tableId.toString()) {
      throw lakeColumnsError(
        `${where} belongs to table id ${id}, not ${this.info.tableId} (the table was dropped and created again; move the old lake table away)`,
      );
    }
    const schema = m.schemas.find((s) => s["schema-id"] === m["current-schema-id"]);
    if (!schema || !sameSchema(schema, this.layout.schema)) {
      throw lakeColumnsError(`${where}: the lake schema no longer matches the table's columns`);
    }
  }

  async refresh(): Promise<void> {
    const loaded = await loadTable(this.location);
    if (loaded === null) throw lakeStorageError(`lake table ${this.location} has no metadata`);
    this.loaded = loaded;
    this.checkMatches();
  }

  /** The current snapshot and its offsets, or null before the first commit. */
  async state(): Promise<LakeSnapshotState | null> {
    return snapshotState(this.loaded.metadata);
  }

  /** Partition tuple of a physical bucket. */
  partitionTuple(partitionValues: readonly string[], bucket: number): Record<string, PartitionValue> {
    const out: Record<string, PartitionValue> = {};
    this.layout.partitionKeys.forEach((k, i) => {
      out[k] = partitionValues[i] ?? null;
    });
    out.__bucket = bucket;
    return out;
  }

  private partitionDir(tuple: Record<string, PartitionValue>): string {
    const parts = this.layout.spec.fields.map(
      (f) => `${f.name}=${encodeURIComponent(String(tuple[f.name]))}`,
    );
    return join(this.location, "data", ...parts);
  }

  /** Write lake batches of one partition tuple as a data file (fsynced; directory synced at commit). */
  async writeDataFile(
    tuple: Record<string, PartitionValue>,
    batches: readonly RecordBatch[],
  ): Promise<WrittenFile> {
    const bytes = writeParquet(batches);
    const path = join(this.partitionDir(tuple), `${randomUUID()}.parquet`);
    await writeFileDurable(path, bytes, false);
    return { path, dataFile: this.describeFile(CONTENT_DATA, path, tuple, bytes, null) };
  }

  /** Write an equality delete file: key columns only (batches in the lake types of the key columns). */
  async writeEqualityDeletes(
    tuple: Record<string, PartitionValue>,
    batches: readonly RecordBatch[],
  ): Promise<WrittenFile> {
    const bytes = writeParquet(batches);
    const path = join(this.partitionDir(tuple), `${randomUUID()}-eq-deletes.parquet`);
    await writeFileDurable(path, bytes, false);
    const ids = this.layout.primaryKey.map((k) => this.layout.columns.find((c) => c.name === k)!.fieldId);
    return { path, dataFile: this.describeFile(CONTENT_EQUALITY_DELETES, path, tuple, bytes, ids) };
  }

  private describeFile(
    content: number,
    path: string,
    tuple: Record<string, PartitionValue>,
    bytes: Uint8Array,
    equalityIds: number[] | null,
  ): DataFile {
    const footer = readFooter(bytes);
    const acc = new Map<
      string,
      { id: number; size: number; values: number; nulls: number; min: unknown; max: unknown }
    >();
    for (const rg of footer.rowGroups) {
      for (const s of rg.columns.values()) {
        if (s.fieldId === undefined) continue;
        const a = acc.get(s.name) ?? {
          id: s.fieldId,
          size: 0,
          values: 0,
          nulls: 0,
          min: undefined,
          max: undefined,
        };
        a.size += s.compressedBytes;
        a.values += s.valueCount;
        a.nulls += s.nullCount;
        a.min =
          a.min === undefined || (s.min !== undefined && (s.min as number) < (a.min as number))
            ? s.min
            : a.min;
        a.max =
          a.max === undefined || (s.max !== undefined && (s.max as number) > (a.max as number))
            ? s.max
            : a.max;
        acc.set(s.name, a);
      }
    }
    const lower: Array<{ key: number; value: Buffer }> = [];
    const upper: Array<{ key: number; value: Buffer }> = [];
    for (const [name, a] of acc) {
      const col = this.layout.columns.find((c) => c.name === name);
      if (!col) continue;
      const ok = (v: unknown) =>
        v !== undefined &&
        (typeof v !== "string" || (v.length <= STRING_BOUND_CHARS_MAX && !/[\uD800-\uFFFF]/.test(v)));
      const lo = ok(a.min) ? encodeBound(col.icebergType, a.min) : null;
      const hi = ok(a.max) ? encodeBound(col.icebergType, a.max) : null;
      if (lo && hi) {
        lower.push({ key: a.id, value: lo });
        upper.push({ key: a.id, value: hi });
      }
    }
    const stats = [...acc.values()];
    return {
      content,
      file_path: path,
      file_format: "PARQUET",
      partition: tuple,
      record_count: footer.rows,
      file_size_in_bytes: bytes.length,
      column_sizes: stats.map((a) => ({ key: a.id, value: a.size })),
      value_counts: stats.map((a) => ({ key: a.id, value: a.values })),
      null_value_counts: stats.map((a) => ({ key: a.id, value: a.nulls })),
      lower_bounds: lower,
      upper_bounds: upper,
      equality_ids: equalityIds,
      sort_order_id: content === CONTENT_DATA ? this.layout.sortOrder["order-id"] : null,
    };
  }

  /**
   * Commit a round as one snapshot: new manifests for its files, the previous snapshot's manifests
   * carried over, the offsets file named in the summary. Throws CommitConflict if another writer
   * committed since this table was loaded (nothing is published then).
   */
  async commit(round: RoundCommit, clock: Clock): Promise<Snapshot> {
    const m = this.loaded.metadata;
    const parent = currentSnapshot(m);
    const seq = m["last-sequence-number"] + 1;
    const snapshotId = randomInt(1, 2 ** 47) * 64 + randomInt(0, 64);
    const metaDir = join(this.location, "metadata");
    const offsetsPath = join(metaDir, `${randomUUID()}.offsets`);
    await writeFileDurable(offsetsPath, Buffer.from(encodeOffsets(round.offsets), "utf8"), false);
    const manifests: ManifestFile[] = parent ? await readManifestList(parent["manifest-list"]) : [];
    for (const content of [CONTENT_DATA, CONTENT_EQUALITY_DELETES]) {
      const files = round.files.filter(
        (f) => (f.dataFile.content === CONTENT_DATA) === (content === CONTENT_DATA),
      );
      if (files.length > 0) manifests.push(await this.writeManifest(files, content, snapshotId, seq));
    }
    const listPath = join(metaDir, `snap-${snapshotId}-1-${randomUUID()}.avro`);
    const listBytes = await encodeAvroFile(MANIFEST_FILE_SCHEMA, manifests, {
      "snapshot-id": String(snapshotId),
      "parent-snapshot-id": parent ? String(parent["snapshot-id"]) : "null",
      "sequence-number": String(seq),
      "format-version": "2",
    });
    await writeFileDurable(listPath, listBytes, false);
    await syncDirs([metaDir, ...round.files.map((f) => dirname(f.path))]);
    const snapshot: Snapshot = {
      "snapshot-id": snapshotId,
      ...(parent ? { "parent-snapshot-id": parent["snapshot-id"] } : {}),
      "sequence-number": seq,
      "timestamp-ms": clock.nowMs(),
      "manifest-list": listPath,
      summary: this.summary(parent, round, offsetsPath),
      "schema-id": m["current-schema-id"],
    };
    const next = withSnapshot(m, snapshot, this.loaded.metadataFile, SNAPSHOTS_KEPT_MAX);
    await commitVersion(this.location, this.loaded.version, next);
    await this.refresh();
    return snapshot;
  }

  private async writeManifest(
    files: readonly WrittenFile[],
    content: number,
    snapshotId: number,
    seq: number,
  ): Promise<ManifestFile> {
    const m = this.loaded.metadata;
    const entries: ManifestEntry[] = files.map((f) => ({
      status: STATUS_ADDED,
      snapshot_id: snapshotId,
      sequence_number: seq,
      file_sequence_number: seq,
      data_file: f.dataFile,
    }));
    const path = join(this.location, "metadata", `${randomUUID()}-m0.avro`);
    const bytes = await encodeAvroFile(manifestEntrySchema(this.layout.spec, this.layout.schema), entries, {
      schema: JSON.stringify(this.layout.schema),
      "schema-id": String(m["current-schema-id"]),
      "partition-spec": JSON.stringify(this.layout.spec.fields),
      "partition-spec-id": String(this.layout.spec["spec-id"]),
      "format-version": "2",
      content: content === CONTENT_DATA ? "data" : "deletes",
    });
    await writeFileDurable(path, bytes, false);
    return {
      manifest_path: path,
      manifest_length: bytes.length,
      partition_spec_id: this.layout.spec["spec-id"],
      content: content === CONTENT_DATA ? 0 : 1,
      sequence_number: seq,
      min_sequence_number: seq,
      added_snapshot_id: snapshotId,
      added_files_count: files.length,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: files.reduce((n, f) => n + f.dataFile.record_count, 0),
      existing_rows_count: 0,
      deleted_rows_count: 0,
      partitions: this.layout.spec.fields.map((pf) => partitionSummary(pf.name, files)),
    };
  }

  private summary(parent: Snapshot | null, round: RoundCommit, offsetsPath: string): Snapshot["summary"] {
    const data = round.files.filter((f) => f.dataFile.content === CONTENT_DATA);
    const deletes = round.files.filter((f) => f.dataFile.content !== CONTENT_DATA);
    const prev = (k: string) => Number(parent?.summary[k] ?? 0);
    const addedRecords = data.reduce((n, f) => n + f.dataFile.record_count, 0);
    const addedDeletes = deletes.reduce((n, f) => n + f.dataFile.record_count, 0);
    const addedSize = round.files.reduce((n, f) => n + f.dataFile.file_size_in_bytes, 0);
    return {
      operation: deletes.length > 0 ? "overwrite" : "append",
      "commit-user": COMMIT_USER,
      [OFFSETS_PROPERTY]: offsetsPath,
      "added-data-files": String(data.length),
      "added-records": String(addedRecords),
      "added-files-size": String(addedSize),
      "added-delete-files": String(deletes.length),
      "added-equality-delete-files": String(deletes.length),
      "added-equality-deletes": String(addedDeletes),
      "total-data-files": String(prev("total-data-files") + data.length),
      "total-delete-files": String(prev("total-delete-files") + deletes.length),
      "total-records": String(prev("total-records") + addedRecords),
      "total-equality-deletes": String(prev("total-equality-deletes") + addedDeletes),
      "total-position-deletes": "0",
      "total-files-size": String(prev("total-files-size") + addedSize),
      "fluss.tiering.records-read": String(round.recordsRead),
      "fluss.tiering.duration-ms": String(Math.round(round.durationMs)),
    };
  }
}

function partitionSummary(
  field: string,
  files: readonly WrittenFile[],
): NonNullable<ManifestFile["partitions"]>[number] {
  const values = files.map((f) => f.dataFile.partition[field] ?? null);
  const present = values.filter((v): v is number | string => v !== null);
  const numeric = present.every((v) => typeof v === "number");
  const sorted = numeric
    ? [...(present as number[])].sort((a, b) => a - b)
    : [...present.map(String)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const bound = (v: number | string | undefined) =>
    v === undefined ? null : numeric ? encodeBound("int", v) : encodeBound("string", String(v));
  return {
    contains_null: present.length < values.length,
    contains_nan: false,
    lower_bound: bound(sorted[0]),
    upper_bound: bound(sorted[sorted.length - 1]),
  };
}

export async function readManifestList(path: string): Promise<ManifestFile[]> {
  return (await decodeAvroFile<ManifestFile>(await readFile(path))).records;
}

export async function readManifest(path: string): Promise<ManifestEntry[]> {
  return (await decodeAvroFile<ManifestEntry>(await readFile(path))).records;
}

/** The current snapshot of a table's metadata and its offsets file, or null before the first commit. */
export async function snapshotState(m: TableMetadata): Promise<LakeSnapshotState | null> {
  const snapshot = currentSnapshot(m);
  if (snapshot === null) return null;
  const path = snapshot.summary[OFFSETS_PROPERTY];
  if (path === undefined)
    throw lakeStorageError(`lake snapshot ${snapshot["snapshot-id"]} names no ${OFFSETS_PROPERTY}`);
  try {
    return { snapshot, offsets: decodeOffsets(await readFile(path, "utf8")) };
  } catch (err) {
    throw lakeStorageError(`cannot read the lake offsets file ${path}: ${(err as Error).message}`, err);
  }
}
