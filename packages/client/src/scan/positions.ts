// Resumable reads: where a log scan stands, as a plain JSON-ready object (`scanner.positions()`),
// and how a new scan continues from it (`from: positions`). Fluss has no consumer groups or
// committed offsets on the server: a reader keeps its own positions (this object, e.g. in a file)
// and starts from them again.
// A position is the next offset to read in one physical bucket (a bucket of the table, or of one
// of its partitions). Numbers that do not fit a JS number (ids, offsets) are decimal strings, so
// `JSON.stringify` / `JSON.parse` round-trip the object unchanged.
// Rules when resuming (each tested):
// - positions of another table, or of a table dropped and re-created under the same name (another
//   table id), are refused with INVALID_ARGUMENT;
// - a bucket (or partition) the positions do not name starts at the earliest offset: it holds only
//   rows the saved reader never saw (e.g. a partition created since);
// - a partition named by the positions that no longer exists (dropped, maybe re-created: matched by
//   id, not by name) is skipped: its rows are gone;
// - a saved offset outside the bucket's log (below its start, after retention removed rows the
//   reader never read; or past its end) fails the scan with LOG_OFFSET_OUT_OF_RANGE_EXCEPTION,
//   unless `outOfRange: "clamp"` moves it to the nearest end of the log.

import { Errors, FlussError, invalidArgument, type TableInfo, tablePathToString } from "@fluss-ts/common";

/** The next offset to read in one bucket. */
export interface BucketPosition {
  /** Partition name, for a partitioned table; null otherwise. */
  readonly partition: string | null;
  /** Partition id (decimal string), for a partitioned table; null otherwise. */
  readonly partitionId: string | null;
  readonly bucket: number;
  /** Next offset to read (decimal string). */
  readonly offset: string;
}

/** Where a log scan stands in every bucket it reads; JSON-ready. */
export interface ScanPositions {
  readonly version: 1;
  /** `database.table`. */
  readonly table: string;
  /** The table's id (decimal string): a table re-created under the same name has another. */
  readonly tableId: string;
  readonly buckets: readonly BucketPosition[];
}

/** What to do with a saved offset that lies outside the bucket's log when resuming. */
export type OutOfRangePolicy = "fail" | "clamp";

const OFFSET_RE = /^\d{1,19}$/;

function bad(why: string): FlussError {
  return invalidArgument(`not a valid positions object: ${why}`);
}

/** True when `v` has the shape of a ScanPositions (for telling it apart from other start positions). */
export function isScanPositions(v: unknown): v is ScanPositions {
  return typeof v === "object" && v !== null && "buckets" in v && "tableId" in v && "version" in v;
}

/** Check a value read back (e.g. parsed JSON) is a ScanPositions; throws INVALID_ARGUMENT naming what is wrong. */
export function parseScanPositions(v: unknown): ScanPositions {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad("expected an object");
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw bad(`unknown version ${JSON.stringify(o.version)} (expected 1)`);
  if (typeof o.table !== "string" || o.table.length === 0) throw bad("'table' must be 'database.table'");
  if (typeof o.tableId !== "string" || !OFFSET_RE.test(o.tableId))
    throw bad("'tableId' must be a decimal string");
  if (!Array.isArray(o.buckets)) throw bad("'buckets' must be an array");
  const buckets = o.buckets.map((b: unknown, i: number): BucketPosition => {
    if (typeof b !== "object" || b === null) throw bad(`buckets[${i}] is not an object`);
    const e = b as Record<string, unknown>;
    if (!Number.isInteger(e.bucket) || (e.bucket as number) < 0)
      throw bad(`buckets[${i}].bucket is not a bucket number`);
    if (typeof e.offset !== "string" || !OFFSET_RE.test(e.offset))
      throw bad(`buckets[${i}].offset is not a decimal string`);
    const partitioned = e.partitionId !== null && e.partitionId !== undefined;
    if (partitioned && (typeof e.partitionId !== "string" || !OFFSET_RE.test(e.partitionId)))
      throw bad(`buckets[${i}].partitionId is not a decimal string`);
    if (partitioned && typeof e.partition !== "string") throw bad(`buckets[${i}].partition is not a name`);
    return {
      partition: partitioned ? (e.partition as string) : null,
      partitionId: partitioned ? (e.partitionId as string) : null,
      bucket: e.bucket as number,
      offset: e.offset,
    };
  });
  return { version: 1, table: o.table, tableId: o.tableId, buckets };
}

/** Refuse positions saved for another table (another name, or the same name re-created). */
export function checkPositionsTable(p: ScanPositions, info: TableInfo): void {
  const name = tablePathToString(info.path);
  if (p.table !== name) {
    throw invalidArgument(`the positions were saved for table '${p.table}', not '${name}'`);
  }
  if (p.tableId !== String(info.tableId)) {
    throw invalidArgument(
      `the positions were saved for table '${name}' with table id ${p.tableId}; the table now has id ${info.tableId} (dropped and re-created since), so its offsets do not apply`,
    );
  }
  const partitioned = info.descriptor.partitionKeys.length > 0;
  for (const b of p.buckets) {
    if ((b.partitionId !== null) !== partitioned) {
      throw invalidArgument(
        `the positions name ${b.partitionId === null ? "no partition" : `partition '${b.partition}'`} for bucket ${b.bucket}, but '${name}' is ${partitioned ? "" : "not "}partitioned`,
      );
    }
    if (b.bucket >= info.bucketCount) {
      throw invalidArgument(
        `the positions name bucket ${b.bucket}; '${name}' has ${info.bucketCount} buckets`,
      );
    }
  }
}

/** Saved offsets by physical bucket: key `-/<bucket>` or `<partition id>/<bucket>`. */
export function savedOffsets(p: ScanPositions): Map<string, bigint> {
  return new Map(p.buckets.map((b) => [positionKey(b.partitionId, b.bucket), BigInt(b.offset)]));
}

export function positionKey(partitionId: bigint | string | null, bucket: number): string {
  return partitionId === null ? `-/${bucket}` : `${partitionId}/${bucket}`;
}

/**
 * The offset to resume a bucket at: the saved one when it lies in [earliest, latest], else per
 * the policy (fail, or the nearest end of the log).
 */
export function resumeOffset(
  where: string,
  saved: bigint,
  earliest: bigint,
  latest: bigint,
  policy: OutOfRangePolicy,
): bigint {
  if (saved >= earliest && saved <= latest) return saved;
  if (policy === "clamp") return saved < earliest ? earliest : latest;
  const why =
    saved < earliest
      ? `the log now starts at ${earliest} (rows before it were removed by retention before this reader read them)`
      : `the log ends at ${latest}`;
  throw new FlussError(
    Errors.LOG_OFFSET_OUT_OF_RANGE_EXCEPTION,
    `cannot resume ${where} at offset ${saved}: ${why}; resume with outOfRange "clamp" (CLI: --out-of-range clamp) to continue from the nearest end of the log`,
  );
}
