// The first_row, versioned and aggregation merge engines (Fluss FirstRowRowMerger,
// VersionedRowMerger, AggregateRowMerger).
//  - first_row keeps the first row of a key: later upserts return the old row (no change).
//  - versioned keeps the row with the largest version: the incoming row replaces the old one when
//    its version is >= the old version (a null version is the smallest value); otherwise no change.
//  - aggregation: the first row of a key is stored as written (no aggregation); later rows combine
//    field by field (key columns keep their value, other columns use `fields.<col>.agg`, default
//    last_value_ignore_nulls). With target columns only those aggregate, the others keep the old
//    value; a delete (behavior ALLOW) removes the row, or with target columns is a partial delete.
// Deletes never reach first_row / versioned (their behavior is IGNORE or DISABLE).

import { assert, type Schema } from "@fluss-ts/common";
import type { AggregationSpec, DeleteBehavior, Row } from "../types.ts";
import { type Aggregator, aggregatorFor } from "./aggregators.ts";
import { keyMask, partialDelete, targetMask } from "./partial.ts";
import type { RowMerger } from "./row-merger.ts";
import { compareValues } from "./values.ts";

function noDelete(engine: string): (old: Row) => Row | null {
  return () => {
    assert(false, `deletes never reach the ${engine} merge engine (delete behavior is not ALLOW)`);
  };
}

export function firstRowMerger(behavior: DeleteBehavior): RowMerger {
  assert(behavior !== "ALLOW", "first_row refuses delete behavior ALLOW");
  return {
    deleteBehavior: behavior,
    replacesWholeRow: false,
    merge: (old, incoming) => old ?? incoming,
    delete: noDelete("first_row"),
  };
}

export function versionedMerger(schema: Schema, versionColumn: string, behavior: DeleteBehavior): RowMerger {
  assert(behavior !== "ALLOW", "versioned refuses delete behavior ALLOW");
  const index = schema.columns.findIndex((c) => c.name === versionColumn);
  assert(index >= 0, "the version column was validated at open");
  const type = schema.columns[index]!.type;
  const newerOrEqual = (old: unknown, incoming: unknown): boolean => {
    if (incoming === null) return old === null; // null is the smallest version
    if (old === null) return true;
    return compareValues(type, old, incoming) <= 0;
  };
  return {
    deleteBehavior: behavior,
    replacesWholeRow: false,
    merge: (old, incoming) => (old === null || newerOrEqual(old[index], incoming[index]) ? incoming : old),
    delete: noDelete("versioned"),
  };
}

function aggregatorsOf(schema: Schema, fields: ReadonlyMap<string, AggregationSpec>): Aggregator[] {
  const isKey = keyMask(schema);
  return schema.columns.map((c, i) =>
    isKey[i]
      ? (_acc: unknown, input: unknown) => input
      : aggregatorFor(fields.get(c.name) ?? { fn: "last_value_ignore_nulls" }, c.type),
  );
}

export function aggregationMerger(
  schema: Schema,
  fields: ReadonlyMap<string, AggregationSpec>,
  targets: readonly number[] | null,
  behavior: DeleteBehavior,
): RowMerger {
  const aggregators = aggregatorsOf(schema, fields);
  const isTarget = targets === null ? null : targetMask(schema.columns.length, targets);
  const isKey = keyMask(schema);
  return {
    deleteBehavior: behavior,
    replacesWholeRow: false,
    merge(old, incoming) {
      if (old === null) return incoming;
      return old.map((acc, i) =>
        isTarget === null || isTarget[i] ? aggregators[i]!(acc, incoming[i]) : acc,
      );
    },
    delete: (old) => (isTarget === null ? null : partialDelete(old, isTarget, isKey)),
  };
}
