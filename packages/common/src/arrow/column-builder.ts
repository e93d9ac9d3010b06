// Growable, row-at-a-time column buffers of the Arrow batch builder (batch-builder.ts): the common
// base (validity bitmap, capacity, finish) and the fixed-width numeric columns (BOOLEAN, the
// integers, FLOAT / DOUBLE, DECIMAL). Strings and bytes are in var-column-builders.ts, dates,
// times and timestamps in temporal-column-builders.ts. Values are validated and converted by the
// shared converters (../values/), with an inline fast path for the common JS type of each column.
// Invariants (the builder's all-or-nothing append relies on them):
// - slots at or beyond the builder's row count hold zeros (values, boolean bits) and their
//   validity bits are set, so an appended row only has to write what it has; `truncate(i)`
//   restores that state for slot i after a failed row;
// - the validity bitmap exists only while the column holds a null (allocated at the first one);
// - `finish(n)` hands out views of the first n rows and drops the buffers: the next row is written
//   into fresh ones, so a built batch is never overwritten.

import type { DataType as ArrowType, Data } from "apache-arrow";
import type { Column } from "../schema.ts";
import { nullNotAllowed } from "../values/mismatch.ts";
import {
  toBoolean,
  toFloat64,
  toInt64,
  toIntInRange,
  toUnscaledDecimal,
  writeI128,
} from "../values/numeric.ts";
import { type ColumnDataProps, makeColumnData } from "./arrow-types.ts";
import { pad8 } from "./ipc.ts";

const TWO_32 = 4294967296;

/** Store a safe integer into the int64 slot i of a little-endian Int32Array view. */
export function setInt64(halves: Int32Array, i: number, v: number): void {
  halves[2 * i] = v >>> 0;
  halves[2 * i + 1] = Math.floor(v / TWO_32);
}

/** A copy of `src` grown to `size` elements (the first `keep` kept, the rest zero). */
export function grown<
  T extends Uint8Array | Int8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array,
>(src: T, make: (size: number) => T, size: number, keep: number): T {
  const out = make(size);
  out.set(src.subarray(0, keep) as ArrayLike<number>);
  return out;
}

/** Validity bitmap of one column, allocated at the first null (bits set = valid). */
export class Validity {
  readonly #column: Column;
  #bits: Uint8Array | undefined = undefined;
  #capacity = 0;
  nulls = 0;

  constructor(column: Column) {
    this.#column = column;
  }

  setNull(i: number): void {
    if (!this.#column.type.nullable) throw nullNotAllowed(this.#column.name, this.#column.type, i);
    this.#bits ??= new Uint8Array((this.#capacity + 7) >> 3).fill(0xff);
    this.#bits[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }

  /** Undo a null written at slot i, if any. */
  truncate(i: number): void {
    const bits = this.#bits;
    if (bits === undefined || ((bits[i >> 3]! >> (i & 7)) & 1) === 1) return;
    bits[i >> 3]! |= 1 << (i & 7);
    if (--this.nulls === 0) this.#bits = undefined;
  }

  reserve(capacity: number, rows: number): void {
    this.#capacity = capacity;
    const bits = this.#bits;
    if (bits === undefined || bits.length >= (capacity + 7) >> 3) return;
    const next = new Uint8Array((capacity + 7) >> 3).fill(0xff);
    next.set(bits.subarray(0, (rows + 7) >> 3));
    this.#bits = next;
  }

  sizeBytes(n: number): number {
    return this.nulls === 0 ? 0 : pad8((n + 7) >> 3);
  }

  /** Validity of the first n rows (no bitmap when all are valid); then start over empty. */
  finish(n: number): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    const bits = this.#bits;
    const nullCount = this.nulls;
    this.#bits = undefined;
    this.#capacity = 0;
    this.nulls = 0;
    if (bits === undefined || nullCount === 0) return { nullCount: 0, nullBitmap: undefined };
    const out = bits.subarray(0, (n + 7) >> 3);
    if ((n & 7) !== 0) out[out.length - 1]! &= (1 << (n & 7)) - 1;
    return { nullCount, nullBitmap: out };
  }
}

/** One column of the batch builder; see the file comment for the slot invariants. */
export abstract class ColumnBuilder {
  readonly name: string;
  readonly column: Column;
  readonly arrowType: ArrowType;
  readonly validity: Validity;

  constructor(column: Column, arrowType: ArrowType) {
    this.name = column.name;
    this.column = column;
    this.arrowType = arrowType;
    this.validity = new Validity(column);
  }

  /** Validate and store the non-null value `v` at slot i (< capacity); throws ValueMismatch. */
  abstract write(v: unknown, i: number): void;

  /** Store a null at slot i (refused for a NOT NULL column). */
  writeNull(i: number): void {
    this.validity.setNull(i);
  }

  /** Forget whatever the failed row wrote at slot i (i is the builder's row count). */
  truncate(i: number): void {
    this.validity.truncate(i);
    this.clearSlot(i);
  }

  /** Make room for `capacity` rows, keeping the first `rows`. */
  reserve(capacity: number, rows: number): void {
    this.validity.reserve(capacity, rows);
    this.growTo(capacity, rows);
  }

  /** IPC body bytes of the first n rows (every buffer padded to 8 bytes, as IPC lays them out). */
  sizeBytes(n: number): number {
    return this.validity.sizeBytes(n) + this.bodyBytes(n);
  }

  /** Arrow data of the first n rows; the column then starts over with no buffers. */
  finish(n: number): Data {
    const validity = this.validity.finish(n);
    const data = makeColumnData({ type: this.arrowType, length: n, ...validity, ...this.buffers(n) });
    this.release();
    return data;
  }

  /** Drop everything (the buffers too) without building. */
  reset(): void {
    this.validity.finish(0);
    this.release();
  }

  protected abstract clearSlot(i: number): void;
  protected abstract growTo(capacity: number, rows: number): void;
  protected abstract bodyBytes(n: number): number;
  protected abstract buffers(n: number): Pick<ColumnDataProps, "data" | "valueOffsets">;
  protected abstract release(): void;
}

const EMPTY_U8 = new Uint8Array(0);

export class BoolBuilder extends ColumnBuilder {
  #bits = EMPTY_U8;

  write(v: unknown, i: number): void {
    if (toBoolean(v)) this.#bits[i >> 3]! |= 1 << (i & 7);
  }
  protected clearSlot(i: number): void {
    this.#bits[i >> 3]! &= ~(1 << (i & 7));
  }
  protected growTo(capacity: number, rows: number): void {
    this.#bits = grown(this.#bits, (s) => new Uint8Array(s), (capacity + 7) >> 3, (rows + 7) >> 3);
  }
  protected bodyBytes(n: number): number {
    return pad8((n + 7) >> 3);
  }
  protected buffers(n: number): { data: Uint8Array } {
    return { data: this.#bits.subarray(0, (n + 7) >> 3) };
  }
  protected release(): void {
    this.#bits = EMPTY_U8;
  }
}

type IntArray = Int8Array | Int16Array | Int32Array;

/** TINYINT / SMALLINT / INTEGER. */
export class IntBuilder extends ColumnBuilder {
  readonly #make: (size: number) => IntArray;
  readonly #min: number;
  readonly #max: number;
  #values: IntArray;

  constructor(
    column: Column,
    arrowType: ArrowType,
    make: (size: number) => IntArray,
    min: number,
    max: number,
  ) {
    super(column, arrowType);
    this.#make = make;
    this.#min = min;
    this.#max = max;
    this.#values = make(0);
  }

  write(v: unknown, i: number): void {
    if (typeof v === "number" && Number.isInteger(v) && v >= this.#min && v <= this.#max) this.#values[i] = v;
    else this.#values[i] = toIntInRange(v, this.#min, this.#max);
  }
  protected clearSlot(i: number): void {
    this.#values[i] = 0;
  }
  protected growTo(capacity: number, rows: number): void {
    this.#values = grown(this.#values, this.#make, capacity, rows);
  }
  protected bodyBytes(n: number): number {
    return pad8(n * this.#values.BYTES_PER_ELEMENT);
  }
  protected buffers(n: number): { data: IntArray } {
    return { data: this.#values.subarray(0, n) };
  }
  protected release(): void {
    this.#values = this.#make(0);
  }
}

/** BIGINT: safe-integer numbers go in as two int32 halves (no bigint allocated). */
export class BigIntBuilder extends ColumnBuilder {
  #values = new BigInt64Array(0);
  #halves = new Int32Array(0);

  write(v: unknown, i: number): void {
    if (typeof v === "number" && Number.isSafeInteger(v)) setInt64(this.#halves, i, v);
    else {
      const x = toInt64(v);
      if (typeof x === "number") setInt64(this.#halves, i, x);
      else this.#values[i] = x;
    }
  }
  protected clearSlot(i: number): void {
    this.#values[i] = 0n;
  }
  protected growTo(capacity: number, rows: number): void {
    const next = new BigInt64Array(capacity);
    next.set(this.#values.subarray(0, rows));
    this.#values = next;
    this.#halves = new Int32Array(next.buffer);
  }
  protected bodyBytes(n: number): number {
    return 8 * n;
  }
  protected buffers(n: number): { data: BigInt64Array } {
    return { data: this.#values.subarray(0, n) };
  }
  protected release(): void {
    this.#values = new BigInt64Array(0);
    this.#halves = new Int32Array(0);
  }
}

/** FLOAT (Float32Array, rounded on store) / DOUBLE (Float64Array). */
export class FloatBuilder extends ColumnBuilder {
  readonly #make: (size: number) => Float32Array | Float64Array;
  #values: Float32Array | Float64Array;

  constructor(column: Column, arrowType: ArrowType, make: (size: number) => Float32Array | Float64Array) {
    super(column, arrowType);
    this.#make = make;
    this.#values = make(0);
  }

  write(v: unknown, i: number): void {
    this.#values[i] = typeof v === "number" ? v : toFloat64(v);
  }
  protected clearSlot(i: number): void {
    this.#values[i] = 0;
  }
  protected growTo(capacity: number, rows: number): void {
    this.#values = grown(this.#values, this.#make, capacity, rows);
  }
  protected bodyBytes(n: number): number {
    return pad8(n * this.#values.BYTES_PER_ELEMENT);
  }
  protected buffers(n: number): { data: Float32Array | Float64Array } {
    return { data: this.#values.subarray(0, n) };
  }
  protected release(): void {
    this.#values = this.#make(0);
  }
}

/** DECIMAL(p, s): 128-bit little-endian two's complement unscaled values, 4 words per row. */
export class DecimalBuilder extends ColumnBuilder {
  readonly #precision: number;
  readonly #scale: number;
  #words = new Uint32Array(0);

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    this.#precision = column.type.precision ?? 10;
    this.#scale = column.type.scale ?? 0;
  }

  write(v: unknown, i: number): void {
    writeI128(this.#words, 4 * i, toUnscaledDecimal(v, this.#precision, this.#scale));
  }
  protected clearSlot(i: number): void {
    this.#words.fill(0, 4 * i, 4 * i + 4);
  }
  protected growTo(capacity: number, rows: number): void {
    this.#words = grown(this.#words, (s) => new Uint32Array(s), 4 * capacity, 4 * rows);
  }
  protected bodyBytes(n: number): number {
    return 16 * n;
  }
  protected buffers(n: number): { data: Uint32Array } {
    return { data: this.#words.subarray(0, 4 * n) };
  }
  protected release(): void {
    this.#words = new Uint32Array(0);
  }
}
