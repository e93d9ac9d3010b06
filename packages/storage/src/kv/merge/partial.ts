// Partial update of the default engine (Fluss PartialUpdater) and the checks on target columns
// shared by every partial write.
// Rules (Fluss): the target columns must include every primary-key column and every non-key
// column of the table must be nullable; target columns take the incoming value (an explicit null
// overwrites), the others keep the old value (null when there is no old row); a write targeting
// only the key columns leaves an existing row untouched. A partial delete removes the row when
// every non-target column is already null, and otherwise nulls the non-key target columns.

import { Errors, FlussError, type Schema } from "@fluss-ts/common";
import type { DeleteBehavior, Row } from "../types.ts";
import type { RowMerger } from "./row-merger.ts";

function invalidTarget(message: string): FlussError {
  return new FlussError(Errors.INVALID_TARGET_COLUMN, message);
}

/**
 * Target columns are in range and distinct; with `partial`, they include the primary key and
 * every non-key column of the table is nullable.
 */
export function checkTargetColumns(schema: Schema, targets: readonly number[], partial: boolean): void {
  const n = schema.columns.length;
  const seen = new Set<number>();
  for (const t of targets) {
    if (!Number.isInteger(t) || t < 0 || t >= n) {
      throw invalidTarget(`target column index ${t} is outside [0, ${n - 1}]`);
    }
    if (seen.has(t)) throw invalidTarget(`target column '${schema.columns[t]!.name}' is given twice`);
    seen.add(t);
  }
  if (!partial) return;
  const names = targets.map((t) => schema.columns[t]!.name);
  for (const k of schema.primaryKey) {
    if (!names.includes(k)) {
      throw invalidTarget(
        `the target columns [${names.join(", ")}] must contain the primary key columns [${schema.primaryKey.join(", ")}]`,
      );
    }
  }
  for (const c of schema.columns) {
    if (!schema.primaryKey.includes(c.name) && !c.type.nullable) {
      throw invalidTarget(
        `partial update needs every column except the primary key to be nullable, but '${c.name}' is NOT NULL`,
      );
    }
  }
}

/** A boolean per column: is it a target. */
export function targetMask(columnCount: number, targets: readonly number[]): boolean[] {
  const mask = new Array<boolean>(columnCount).fill(false);
  for (const t of targets) mask[t] = true;
  return mask;
}

/** Partial delete of `old`: null when nothing outside the targets is set, else targets nulled. */
export function partialDelete(old: Row, isTarget: readonly boolean[], isKey: readonly boolean[]): Row | null {
  let kept = false;
  for (let i = 0; i < old.length && !kept; i++) kept = !isTarget[i] && old[i] !== null;
  if (!kept) return null;
  return old.map((v, i) => (isTarget[i] && !isKey[i] ? null : v));
}

export function keyMask(schema: Schema): boolean[] {
  return schema.columns.map((c) => schema.primaryKey.includes(c.name));
}

export function partialUpdateMerger(
  schema: Schema,
  targets: readonly number[],
  behavior: DeleteBehavior,
): RowMerger {
  const isTarget = targetMask(schema.columns.length, targets);
  const isKey = keyMask(schema);
  const keyOnly = isTarget.every((t, i) => t === isKey[i]);
  return {
    deleteBehavior: behavior,
    replacesWholeRow: false,
    merge(old, incoming) {
      if (keyOnly && old !== null) return old;
      return incoming.map((v, i) => (isTarget[i] ? v : old === null ? null : old[i]));
    },
    delete: (old) => partialDelete(old, isTarget, isKey),
  };
}
