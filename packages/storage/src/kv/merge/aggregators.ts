// Field aggregate functions of the aggregation merge engine (Fluss FieldAggregator family), as
// pure functions (accumulator, input) → result over decoded values (see values.ts).
// Null rules, as Fluss: sum, product, max, min, listagg/string_agg, bool_and, bool_or ignore a null
// side (null + x = x); last_value takes the input even when null; last_value_ignore_nulls keeps the
// accumulator when the input is null; first_value and first_value_ignore_nulls keep a non-null
// accumulator and otherwise take the input (Fluss's code treats both alike).
// Arithmetic wraps like Java's fixed-width types (TINYINT, SMALLINT, INT, BIGINT), FLOAT rounds
// to single precision, DECIMAL is exact with HALF_UP rounding of products and becomes null when the
// result no longer fits the column's precision.

import { assert, type DataType, formatDecimal } from "@fluss-ts/common";
import type { AggregationSpec } from "../types.ts";
import { compareValues, decimalFits, decimalUnscaled } from "./values.ts";

export type Aggregator = (accumulator: unknown, input: unknown) => unknown;

function isNull(v: unknown): boolean {
  return v === null || v === undefined;
}

/** Wrap `f` so that a null on either side yields the other side. */
function ignoringNulls(f: Aggregator): Aggregator {
  return (acc, input) => (isNull(acc) ? input : isNull(input) ? acc : f(acc, input));
}

function wrapInt(type: DataType, v: number): number {
  switch (type.root) {
    case "TINYINT":
      return (v << 24) >> 24;
    case "SMALLINT":
      return (v << 16) >> 16;
    default:
      return v | 0;
  }
}

function roundHalfUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice < d) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function decimalResult(type: DataType, unscaled: bigint): string | null {
  return decimalFits(unscaled, type.precision ?? 10) ? formatDecimal(unscaled, type.scale ?? 0) : null;
}

function sum(type: DataType): Aggregator {
  switch (type.root) {
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return (a, b) => wrapInt(type, (a as number) + (b as number));
    case "BIGINT":
      return (a, b) => BigInt.asIntN(64, (a as bigint) + (b as bigint));
    case "FLOAT":
      return (a, b) => Math.fround((a as number) + (b as number));
    case "DOUBLE":
      return (a, b) => (a as number) + (b as number);
    case "DECIMAL":
      return (a, b) => decimalResult(type, decimalUnscaled(a as string) + decimalUnscaled(b as string));
    default:
      assert(false, `sum over ${type.root} is refused at table creation`);
  }
}

function product(type: DataType): Aggregator {
  switch (type.root) {
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
      return (a, b) => wrapInt(type, Math.imul(a as number, b as number));
    case "BIGINT":
      return (a, b) => BigInt.asIntN(64, (a as bigint) * (b as bigint));
    case "FLOAT":
      return (a, b) => Math.fround((a as number) * (b as number));
    case "DOUBLE":
      return (a, b) => (a as number) * (b as number);
    case "DECIMAL": {
      const scale = 10n ** BigInt(type.scale ?? 0);
      return (a, b) =>
        decimalResult(type, roundHalfUp(decimalUnscaled(a as string) * decimalUnscaled(b as string), scale));
    }
    default:
      assert(false, `product over ${type.root} is refused at table creation`);
  }
}

/** The aggregate function for one column of `type`. */
export function aggregatorFor(spec: AggregationSpec, type: DataType): Aggregator {
  switch (spec.fn) {
    case "sum":
      return ignoringNulls(sum(type));
    case "product":
      return ignoringNulls(product(type));
    case "max":
      return ignoringNulls((a, b) => (compareValues(type, a, b) < 0 ? b : a));
    case "min":
      return ignoringNulls((a, b) => (compareValues(type, a, b) < 0 ? a : b));
    case "last_value":
      return (_acc, input) => (isNull(input) ? null : input);
    case "last_value_ignore_nulls":
      return (acc, input) => (isNull(input) ? acc : input);
    case "first_value":
    case "first_value_ignore_nulls":
      return (acc, input) => (isNull(acc) ? input : acc);
    case "listagg":
    case "string_agg": {
      const delimiter = spec.delimiter ?? ",";
      return ignoringNulls((a, b) => `${a as string}${delimiter}${b as string}`);
    }
    case "bool_and":
      return ignoringNulls((a, b) => (a as boolean) && (b as boolean));
    case "bool_or":
      return ignoringNulls((a, b) => (a as boolean) || (b as boolean));
  }
}
