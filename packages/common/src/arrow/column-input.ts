// The per-column state of the batch builder: the input rows, the column read from each row, the
// validity bitmap (allocated only when the first null appears; bits set = valid) and the error
// helpers that produce SCHEMA_MISMATCH messages naming column, type, row index and bad value.
// Invariants: `nullAt` refuses nulls for NOT NULL columns; `finish` reports nullCount 0 and no
// bitmap when every value was present, so all-valid columns carry no validity buffer.

import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { typeToSql } from "../types.ts";

/** An input row: column name → value. */
export type InputRow = Readonly<Record<string, unknown>>;

const TWO_32 = 4294967296;

/** Short, unambiguous rendering of a bad input value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  }
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : `Date(${v.toISOString()})`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.byteLength})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === "object" && v !== null) return `object ${v.constructor?.name ?? "Object"}`;
  return String(v);
}

export class ColumnInput {
  readonly rows: readonly InputRow[];
  readonly column: Column;
  readonly name: string;
  readonly n: number;
  bits: Uint8Array | undefined = undefined;
  nulls = 0;

  constructor(rows: readonly InputRow[], column: Column) {
    this.rows = rows;
    this.column = column;
    this.name = column.name;
    this.n = rows.length;
  }

  /** Record a null at row i (or refuse it for a NOT NULL column). */
  nullAt(i: number): void {
    if (!this.column.type.nullable) {
      throw this.error(i, "null is not allowed (the column is NOT NULL)");
    }
    if (this.bits === undefined) this.bits = new Uint8Array((this.n + 7) >> 3).fill(0xff);
    this.bits[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }

  error(i: number, what: string): FlussError {
    const c = this.column;
    return new FlussError(
      Errors.SCHEMA_MISMATCH,
      `column '${c.name}' (${typeToSql(c.type)}) row ${i}: ${what}`,
    );
  }

  /** SCHEMA_MISMATCH "expected X, got V". */
  fail(i: number, expected: string, v: unknown, why?: string): FlussError {
    const reason = why === undefined ? "" : ` (${why})`;
    return this.error(i, `expected ${expected}, got ${describeValue(v)}${reason}`);
  }

  /** Validity for makeData: no bitmap when all values are present. */
  finish(): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    if (this.nulls === 0 || this.bits === undefined) return { nullCount: 0, nullBitmap: undefined };
    const tail = this.n & 7;
    if (tail !== 0) this.bits[this.bits.length - 1]! &= (1 << tail) - 1;
    return { nullCount: this.nulls, nullBitmap: this.bits };
  }
}

/** Store a safe integer into the int64 slot i of a little-endian Int32Array view. */
export function setInt64(halves: Int32Array, i: number, v: number): void {
  halves[2 * i] = v >>> 0;
  halves[2 * i + 1] = Math.floor(v / TWO_32);
}

/** Floor `v` to a multiple of `q` (q ≥ 1), also for negative v. */
export function floorTo(v: number, q: number): number {
  if (q === 1) return v;
  return v - (((v % q) + q) % q);
}

export function floorToBig(v: bigint, q: bigint): bigint {
  if (q === 1n) return v;
  return v - (((v % q) + q) % q);
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Reject unknown keys: every own enumerable key of every row must be a column name. */
export function checkRowKeys(
  rows: readonly InputRow[],
  known: Readonly<Record<string, true>>,
  names: string,
): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new FlussError(Errors.SCHEMA_MISMATCH, `row ${i}: expected an object, got ${describeValue(row)}`);
    }
    for (const k in row) {
      if (known[k] !== true) {
        throw new FlussError(Errors.SCHEMA_MISMATCH, `row ${i}: unknown column '${k}' (columns: ${names})`);
      }
    }
  }
}
