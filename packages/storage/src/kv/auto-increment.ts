// Auto-increment column of a primary-key table (Fluss AutoIncrementUpdater): a row inserted under a
// new key gets the next id from the IdAllocator in its auto-increment column; an update keeps the
// stored id. Rules (Fluss): writes to such a table must name their target columns, and the
// auto-increment column must not be among them (the value can only be assigned, never written);
// every other write is INVALID_TARGET_COLUMN. An INT column takes ids up to 2^31 - 1.
// Invariant: assign() never mutates its input row.

import { assert, Errors, FlussError, invalidArgument, type Schema } from "@fluss-ts/common";
import type { IdAllocator, Row } from "./types.ts";

const INT32_MAX = 2n ** 31n - 1n;

export class AutoIncrement {
  private readonly column: string;
  private readonly index: number;
  private readonly isInt: boolean;
  private readonly allocator: IdAllocator;

  private constructor(column: string, index: number, isInt: boolean, allocator: IdAllocator) {
    this.column = column;
    this.index = index;
    this.isInt = isInt;
    this.allocator = allocator;
  }

  /** The table's auto-increment column, or null when it has none. */
  static of(schema: Schema, columns: readonly string[], allocator: IdAllocator | null): AutoIncrement | null {
    if (columns.length === 0) return null;
    assert(columns.length === 1, "at most one auto-increment column (checked by resolveKvOptions)");
    const name = columns[0]!;
    const index = schema.columns.findIndex((c) => c.name === name);
    assert(index >= 0, "the auto-increment column exists (checked by validateKvTable)");
    if (allocator === null)
      throw invalidArgument(`table with auto-increment column '${name}' needs an idAllocator`);
    return new AutoIncrement(name, index, schema.columns[index]!.type.root === "INTEGER", allocator);
  }

  /** Refuse a write that does not name its target columns or names the auto-increment column. */
  checkTargets(targets: readonly number[] | null): void {
    if (targets === null) {
      throw new FlussError(
        Errors.INVALID_TARGET_COLUMN,
        `the table has an auto-increment column '${this.column}': name the target columns of the write and leave it out`,
      );
    }
    if (targets.includes(this.index)) {
      throw new FlussError(
        Errors.INVALID_TARGET_COLUMN,
        `the auto-increment column '${this.column}' (index ${this.index}) must not be a target column`,
      );
    }
  }

  /** A copy of `row` with the next id in the auto-increment column. */
  assign(row: Row): Row {
    const id = this.allocator.next(this.column);
    assert(typeof id === "bigint" && id >= 0n, "the id allocator hands out non-negative bigint ids");
    if (this.isInt && id > INT32_MAX) {
      throw new FlussError(
        Errors.KV_STORAGE_EXCEPTION,
        `auto-increment ids of INT column '${this.column}' are exhausted`,
      );
    }
    const out = row.slice();
    out[this.index] = this.isInt ? Number(id) : id;
    return out;
  }
}
