// Rows as the row encoders take them: by column name (an object; a missing key is null) or by
// column index (an array of exactly one value per column). `valuesOf` turns either into values in
// column order for the COMPACTED / INDEXED writers and the key encoder.
// Invariants: an object row may not name an unknown column (own keys only are read); an array row
// is returned as is, never copied.

import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { describeValue } from "../values/mismatch.ts";

/** A row given by column name, or by column index. */
export type RowInput = Readonly<Record<string, unknown>> | readonly unknown[];

/**
 * The values of `row` in column order: an array is taken as is (its length must equal the column
 * count); an object is read by column name (absent → null) and may not name unknown columns.
 */
export function valuesOf(columns: readonly Column[], row: RowInput): unknown[] {
  if (Array.isArray(row)) {
    if (row.length !== columns.length) {
      throw new FlussError(
        Errors.SCHEMA_MISMATCH,
        `row has ${row.length} values, the schema has ${columns.length} columns`,
      );
    }
    return row as unknown[];
  }
  if (typeof row !== "object" || row === null) {
    throw new FlussError(Errors.SCHEMA_MISMATCH, `expected a row object, got ${describeValue(row)}`);
  }
  const record = row as Readonly<Record<string, unknown>>;
  const out = new Array<unknown>(columns.length);
  let found = 0;
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i]!.name;
    if (Object.hasOwn(record, name)) {
      out[i] = record[name];
      found++;
    } else out[i] = null;
  }
  if (found !== Object.keys(record).length) {
    const known = new Set(columns.map((c) => c.name));
    const unknown = Object.keys(record).find((k) => !known.has(k));
    throw new FlussError(
      Errors.SCHEMA_MISMATCH,
      `unknown column '${unknown}' (columns: ${columns.map((c) => c.name).join(", ")})`,
    );
  }
  return out;
}
