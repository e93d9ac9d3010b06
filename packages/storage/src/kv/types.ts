// The shapes of the KV layer (options, merge engines, results, snapshot metadata), kept apart so
// the behaviour files stay about behaviour. Rows inside the KV layer are arrays of JS values by
// column index, as decodeCompactedRow returns them with `{ timestamps: "bigint" }` (lossless).

import type { IpcCompression } from "@fluss-ts/common";

/** Property keys of the KV options (the `fields.<col>.agg` family is matched by prefix). */
export const KV_OPTION = {
  mergeEngine: "table.merge-engine",
  versionColumn: "table.merge-engine.versioned.ver-column",
  deleteBehavior: "table.delete.behavior",
  changelogImage: "table.changelog.image",
  autoIncrement: "auto-increment.fields",
  kvFormat: "table.kv.format",
} as const;

export type DeleteBehavior = "ALLOW" | "IGNORE" | "DISABLE";
export type ChangelogImage = "FULL" | "WAL";

export const AGG_FUNCTIONS = [
  "sum",
  "product",
  "max",
  "min",
  "last_value",
  "last_value_ignore_nulls",
  "first_value",
  "first_value_ignore_nulls",
  "listagg",
  "string_agg",
  "bool_and",
  "bool_or",
] as const;

export type AggFunctionName = (typeof AGG_FUNCTIONS)[number];

export interface AggregationSpec {
  readonly fn: AggFunctionName;
  /** listagg / string_agg only. */
  readonly delimiter?: string;
}

export type MergeEngine =
  | { readonly kind: "last_row" }
  | { readonly kind: "first_row" }
  | { readonly kind: "versioned"; readonly versionColumn: string }
  | { readonly kind: "aggregation"; readonly fields: ReadonlyMap<string, AggregationSpec> };

export type MergeEngineKind = MergeEngine["kind"];

export interface KvOptions {
  readonly mergeEngine: MergeEngine;
  /** Resolved (engine defaults applied). */
  readonly deleteBehavior: DeleteBehavior;
  readonly changelogImage: ChangelogImage;
  /** At most one column. */
  readonly autoIncrementColumns: readonly string[];
  readonly kvFormat: "COMPACTED";
  /** The KV property keys that were set, sorted (to refuse them on log tables). */
  readonly explicitKeys: readonly string[];
}

/** One decoded row: a value per column, null for SQL NULL. */
export type Row = readonly unknown[];

/** Hands out auto-increment ids (the server backs it with coordinator-allocated ranges). */
export interface IdAllocator {
  /** The next unused id for `column` (a column name); ids are unique per table. */
  next(column: string): bigint;
}

export interface PutOptions {
  /** Stamped into log batches whose magic carries one. */
  readonly leaderEpoch?: number;
  readonly compression: IpcCompression;
}

export interface PutResult {
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly logEndOffset: bigint;
  /** The KV batch was a retry of one already applied: nothing was merged or appended. */
  readonly duplicate: boolean;
}

/** Where a bucket's snapshots live in remote storage. */
export interface SnapshotScope {
  readonly tableId: bigint;
  /** Partition name, or null for a non-partitioned table. */
  readonly partition: string | null;
  readonly bucket: number;
}

export interface SnapshotFile {
  readonly name: string;
  readonly sizeBytes: number;
}

/** The manifest written last into a snapshot directory; a snapshot without one is incomplete. */
export interface SnapshotManifest {
  readonly snapshotId: number;
  /** Every changelog record below this offset is in the snapshot; replay starts here. */
  readonly logOffset: bigint;
  /** Rows in the snapshot (FULL image only, else null). */
  readonly rowCount: bigint | null;
  readonly files: readonly SnapshotFile[];
  readonly createdTime: number;
}
