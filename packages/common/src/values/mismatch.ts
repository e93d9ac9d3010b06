// How a value that does not fit its column is reported, shared by every writer of values (Arrow
// batches, COMPACTED / INDEXED rows, keys). Converters throw `ValueMismatch` ("expected X, got V
// (why)") without knowing the column; the writer that does know it turns that into a
// SCHEMA_MISMATCH FlussError with `mismatchError` (column, SQL type, and the row index when the
// writer has one). A null in a NOT NULL column is reported by `nullNotAllowed`.
// Invariants: messages are deterministic (no object identity, no time zone) and bounded in size
// (describeValue cuts long strings at 40 characters).

import { Errors, FlussError } from "../errors.ts";
import { type DataType, typeToSql } from "../types.ts";

/** Short printable description of an input value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : `Date(${v.toISOString()})`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.byteLength})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === "object" && v !== null) return `object ${v.constructor?.name ?? "Object"}`;
  return String(v);
}

/** A value that does not fit its column type; the caller names the column (mismatchError). */
export class ValueMismatch extends Error {
  readonly expected: string;
  readonly value: unknown;
  readonly reason: string | undefined;

  constructor(expected: string, value: unknown, reason?: string) {
    super(`expected ${expected}, got ${describeValue(value)}${reason === undefined ? "" : ` (${reason})`}`);
    this.name = "ValueMismatch";
    this.expected = expected;
    this.value = value;
    this.reason = reason;
  }
}

function columnLabel(column: string, type: DataType, row: number | undefined): string {
  const where = row === undefined ? "" : ` row ${row}`;
  return `column '${column}' (${typeToSql(type)})${where}`;
}

/** SCHEMA_MISMATCH for a converter failure: "column 'c' (TYPE)[ row i]: expected …, got …". */
export function mismatchError(column: string, type: DataType, err: ValueMismatch, row?: number): FlussError {
  return new FlussError(Errors.SCHEMA_MISMATCH, `${columnLabel(column, type, row)}: ${err.message}`);
}

/**
 * SCHEMA_MISMATCH for a null in a NOT NULL column. With a row index (batch writers):
 * "column 'c' (T NOT NULL) row i: null is not allowed (the column must not be null)"; without
 * (single-row writers): "column 'c' (T NOT NULL) must not be null".
 */
export function nullNotAllowed(column: string, type: DataType, row?: number): FlussError {
  const label = columnLabel(column, type, row);
  const what =
    row === undefined ? " must not be null" : ": null is not allowed (the column must not be null)";
  return new FlussError(Errors.SCHEMA_MISMATCH, label + what);
}
