// Read access to one column of an Arrow RecordBatch for predicates and statistics: null tests,
// comparison of a row with a prepared key (ScalarKey, see scalar.ts) or with another row, and the
// row's ScalarValue. Comparisons read the Arrow buffers in place (strings and bytes are compared
// without decoding; no allocation per row for the number-keyed types).
// Buffer conventions are those of apache-arrow Data as our decoder and builder produce them:
// `values` / `valueOffsets` already start at the column's first row, bit-packed buffers (BOOLEAN
// values, validity) are read at `data.offset + i`.
// Invariants: `compareToKey(i, keyOf(type, valueAt(i))) === 0`; `compareRows` is the total order
// of scalar.ts except for FLOAT / DOUBLE, where it is Java's (Fluss's min / max: -0 below +0).

import type { Data } from "apache-arrow";
import { timeUnitOf, unitsPerSecond } from "../arrow/arrow-types.ts";
import type { DataType } from "../types.ts";
import { readI128 } from "../values/numeric.ts";
import { timestampPartsFromUnits } from "../values/temporal.ts";
import {
  compareFloat,
  compareFloatJava,
  type KeyKind,
  keyKindOf,
  type ScalarKey,
  type ScalarValue,
} from "./scalar.ts";

export interface ColumnAccess {
  readonly kind: KeyKind;
  readonly length: number;
  /** Null slots (from the validity bitmap). */
  readonly nullCount: number;
  isNull(i: number): boolean;
  /** Sign of (row i - key) in the column type's order; the row must not be null. */
  compareToKey(i: number, key: ScalarKey): number;
  /** Sign of (row i - row j) (Java's order for floats); both must not be null. */
  compareRows(i: number, j: number): number;
  /** The ScalarValue of row i (not null). */
  valueAt(i: number): ScalarValue;
  /** The bytes of row i of a STRING / CHAR / BYTES / BINARY column (a view). */
  bytesAt(i: number): Uint8Array;
}

interface Typed {
  compareToKey(i: number, key: ScalarKey): number;
  compareRows(i: number, j: number): number;
  valueAt(i: number): ScalarValue;
  bytesAt?(i: number): Uint8Array;
}

const cmp = (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function numberColumn(read: (i: number) => number, value: (i: number) => ScalarValue): Typed {
  return {
    compareToKey: (i, key) => cmp(read(i), key as number),
    compareRows: (i, j) => cmp(read(i), read(j)),
    valueAt: value,
  };
}

function floatColumn(values: Float32Array | Float64Array): Typed {
  return {
    compareToKey: (i, key) => compareFloat(values[i]!, key as number),
    compareRows: (i, j) => compareFloatJava(values[i]!, values[j]!),
    valueAt: (i) => values[i]!,
  };
}

/**
 * A bigint-keyed column; `compareRows` compares the raw 64-bit slots (or 128-bit decimal words)
 * in place, without allocating a bigint per row: the statistics hot path.
 */
function bigintColumn(
  read: (i: number) => bigint,
  value: (i: number) => ScalarValue,
  compareRows: (i: number, j: number) => number,
): Typed {
  return { compareToKey: (i, key) => cmp(read(i), key as bigint), compareRows, valueAt: value };
}

/** Order of int64 slots i and j of a little-endian Int32Array view (hi signed, lo unsigned). */
function compareInt64Slots(halves: Int32Array): (i: number, j: number) => number {
  return (i, j) => {
    const a = halves[2 * i + 1]!;
    const b = halves[2 * j + 1]!;
    if (a !== b) return a < b ? -1 : 1;
    return cmp(halves[2 * i]! >>> 0, halves[2 * j]! >>> 0);
  };
}

/** Order of 128-bit two's complement values at words 4i and 4j (little-endian words). */
function compareInt128Slots(words: Uint32Array): (i: number, j: number) => number {
  return (i, j) => {
    const a = words[4 * i + 3]! | 0;
    const b = words[4 * j + 3]! | 0;
    if (a !== b) return a < b ? -1 : 1;
    for (let w = 2; w >= 0; w--) {
      const x = words[4 * i + w]!;
      const y = words[4 * j + w]!;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

function halvesOf(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** Unsigned compare of values[a0..a1) with values[b0..b1) or key bytes, in place. */
function compareRange(
  values: Uint8Array,
  a0: number,
  a1: number,
  other: Uint8Array,
  b0: number,
  b1: number,
): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const d = values[a0 + k]! - other[b0 + k]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  const la = a1 - a0;
  const lb = b1 - b0;
  return la === lb ? 0 : la < lb ? -1 : 1;
}

function bytesColumn(data: Data, width: number, asString: boolean): Typed {
  const raw = data.values as Uint8Array;
  const values = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const offsets = width > 0 ? undefined : (data.valueOffsets as Int32Array);
  const start = offsets === undefined ? (i: number) => i * width : (i: number) => offsets[i]!;
  const end = offsets === undefined ? (i: number) => (i + 1) * width : (i: number) => offsets[i + 1]!;
  const bytesAt = (i: number): Uint8Array => values.subarray(start(i), end(i));
  const text = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return {
    compareToKey: (i, key) => {
      const k = key as Uint8Array;
      return compareRange(values, start(i), end(i), k, 0, k.length);
    },
    compareRows: (i, j) => compareRange(values, start(i), end(i), values, start(j), end(j)),
    valueAt: asString ? (i) => text.toString("utf8", start(i), end(i)) : (i) => bytesAt(i).slice(),
    bytesAt,
  };
}

function int64Reader(data: Data): (i: number) => bigint {
  const values = data.values as BigInt64Array;
  return (i) => values[i]!;
}

function typedAccess(data: Data, type: DataType): Typed {
  switch (type.root) {
    case "BOOLEAN": {
      const bits = data.values as Uint8Array;
      const o = data.offset;
      const read = (i: number): number => (bits[(o + i) >> 3]! >> ((o + i) & 7)) & 1;
      return numberColumn(read, (i) => read(i) === 1);
    }
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "DATE": {
      const values = data.values as Int8Array | Int16Array | Int32Array;
      return numberColumn(
        (i) => values[i]!,
        (i) => values[i]!,
      );
    }
    case "FLOAT":
    case "DOUBLE":
      return floatColumn(data.values as Float32Array | Float64Array);
    case "BIGINT": {
      const read = int64Reader(data);
      return bigintColumn(read, read, compareInt64Slots(halvesOf(data.values as BigInt64Array)));
    }
    case "DECIMAL": {
      const words = data.values as Uint32Array;
      const read = (i: number): bigint => readI128(words, 4 * i);
      return bigintColumn(read, read, compareInt128Slots(words));
    }
    case "STRING":
    case "CHAR":
      return bytesColumn(data, 0, true);
    case "BYTES":
      return bytesColumn(data, 0, false);
    case "BINARY":
      return bytesColumn(data, type.length ?? 1, false);
    case "TIME_WITHOUT_TIME_ZONE": {
      // Milliseconds of the day, floored (Fluss's TIME is int milliseconds).
      const ups = unitsPerSecond(timeUnitOf(type.precision ?? 0));
      const values = data.values as Int32Array | BigInt64Array;
      const perMs = ups / 1000; // 1e3 or 1e6 for the 64-bit units
      const read =
        values instanceof Int32Array
          ? (i: number) => values[i]! * (1000 / ups) // seconds or milliseconds
          : (i: number) => Math.floor(Number(values[i]!) / perMs);
      return numberColumn(read, read);
    }
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      const precision = type.precision ?? 6;
      const nsPerUnit = BigInt(1e9 / unitsPerSecond(timeUnitOf(precision)));
      const units = int64Reader(data);
      return bigintColumn(
        (i) => units(i) * nsPerUnit,
        (i) => timestampPartsFromUnits(units(i), precision),
        compareInt64Slots(halvesOf(data.values as BigInt64Array)),
      );
    }
  }
}

/** Validity test of a column, or undefined when it has no nulls. */
function nullTest(data: Data): ((i: number) => boolean) | undefined {
  if (data.nullCount === 0 || data.nullBitmap === undefined || data.nullBitmap.length === 0) return undefined;
  const bits = data.nullBitmap;
  const o = data.offset;
  return (i) => ((bits[(o + i) >> 3]! >> ((o + i) & 7)) & 1) === 0;
}

const NO_BYTES = (): Uint8Array => {
  throw new TypeError("not a string or bytes column");
};

/** Access to a flat column `data` of `type`. */
export function columnAccess(data: Data, type: DataType): ColumnAccess {
  const typed = typedAccess(data, type);
  const isNull = nullTest(data);
  let nullCount = 0;
  if (isNull !== undefined) for (let i = 0; i < data.length; i++) if (isNull(i)) nullCount++;
  return {
    kind: keyKindOf(type),
    length: data.length,
    nullCount,
    isNull: isNull ?? (() => false),
    compareToKey: typed.compareToKey,
    compareRows: typed.compareRows,
    valueAt: typed.valueAt,
    bytesAt: typed.bytesAt ?? NO_BYTES,
  };
}
