// Row mergers: how an incoming upsert or delete combines with the current row of its key, as pure
// functions over decoded rows (Fluss RowMerger and its implementations). `createRowMerger` picks
// the merger for a table's merge engine and one write's target columns (partial update).
// Contract (what the tablet relies on):
//  - merge(old, incoming) returns the row to keep. Returning `old` itself (the same array) means
//    "no change": nothing is staged and no changelog is emitted (Fluss compares by identity, so
//    an equal-valued new row still emits an update). Returning `incoming` itself lets the tablet
//    store the incoming bytes as they are.
//  - delete(old) is only called when deleteBehavior is ALLOW; null removes the row, a row updates.
// Rules (Fluss): default engine = last row wins, with partial update when the target columns do
// not cover every column; first_row and versioned refuse target columns; aggregation aggregates
// the target columns (all columns when none are given).

import { Errors, FlussError, type Schema } from "@fluss-ts/common";
import type { DeleteBehavior, KvOptions, Row } from "../types.ts";
import { aggregationMerger, firstRowMerger, versionedMerger } from "./engines.ts";
import { checkTargetColumns, partialUpdateMerger } from "./partial.ts";

export interface RowMerger {
  readonly deleteBehavior: DeleteBehavior;
  /** True when merge always returns `incoming` (full-row last-row-wins): the old row is not needed. */
  readonly replacesWholeRow: boolean;
  merge(old: Row | null, incoming: Row): Row;
  delete(old: Row): Row | null;
}

/** Positions of the primary-key columns in the schema. */
export function keyIndexesOf(schema: Schema): number[] {
  return schema.primaryKey.map((k) => schema.columns.findIndex((c) => c.name === k));
}

function coversAllColumns(schema: Schema, targets: readonly number[]): boolean {
  const seen = new Set(targets);
  return seen.size === schema.columns.length;
}

function lastRowMerger(deleteBehavior: DeleteBehavior): RowMerger {
  return {
    deleteBehavior,
    replacesWholeRow: true,
    merge: (_old, incoming) => incoming,
    delete: () => null,
  };
}

function refusePartial(engine: string): FlussError {
  return new FlussError(
    Errors.INVALID_TARGET_COLUMN,
    `partial update is not supported by the ${engine} merge engine`,
  );
}

/**
 * The merger for one write. `targetColumns` are column indexes (null = the whole row); they are
 * checked here (INVALID_TARGET_COLUMN): in range, no repeats, and for partial writes every key
 * column present and every non-key column nullable.
 */
export function createRowMerger(
  options: KvOptions,
  schema: Schema,
  targetColumns: readonly number[] | null,
): RowMerger {
  if (targetColumns !== null) checkTargetColumns(schema, targetColumns, false);
  const behavior = options.deleteBehavior;
  const engine = options.mergeEngine;
  switch (engine.kind) {
    case "last_row":
      if (targetColumns === null || coversAllColumns(schema, targetColumns)) return lastRowMerger(behavior);
      checkTargetColumns(schema, targetColumns, true);
      return partialUpdateMerger(schema, targetColumns, behavior);
    case "first_row":
      if (targetColumns !== null) throw refusePartial("first_row");
      return firstRowMerger(behavior);
    case "versioned":
      if (targetColumns !== null) throw refusePartial("versioned");
      return versionedMerger(schema, engine.versionColumn, behavior);
    case "aggregation":
      if (targetColumns !== null) checkTargetColumns(schema, targetColumns, true);
      return aggregationMerger(schema, engine.fields, targetColumns, behavior);
  }
}
