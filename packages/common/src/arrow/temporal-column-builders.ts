// Growable column buffers for DATE (Int32 days), TIME(p) (Int32 seconds / milliseconds or Int64
// micro / nanoseconds of the day) and TIMESTAMP(p) / TIMESTAMP_LTZ(p) (Int64 epoch in the unit of
// the precision: second, milli, micro or nano), for the Arrow batch builder. Inputs are converted
// by the shared converters (../values/temporal.ts); a Date or an epoch-milliseconds number takes
// an allocation-free fast path that gives the same result.
// Invariants: stored values are floored to the column precision (TIMESTAMP(2) keeps hundredths);
// numbers stay doubles while exact, beyond that the math switches to bigint; a TIMESTAMP(7..9)
// instant outside the int64 nanosecond range (years 1677..2262) is refused, as Arrow cannot hold
// it. See column-builder.ts for the slot invariants every column keeps.

import type { DataType as ArrowType } from "apache-arrow";
import type { Column } from "../schema.ts";
import { ValueMismatch } from "../values/mismatch.ts";
import { INT64_MAX, INT64_MIN } from "../values/numeric.ts";
import {
  epochMillisOf,
  TIMESTAMP_EXPECTED,
  timestampUnitsPerSecond,
  toEpochDays,
  toNanosOfDay,
  toTimestampParts,
} from "../values/temporal.ts";
import { ColumnBuilder, grown, setInt64 } from "./column-builder.ts";
import { pad8 } from "./ipc.ts";

/** Int32 slots (narrow) or Int64 slots written through two Int32 halves (wide). */
abstract class SlotBuilder extends ColumnBuilder {
  readonly #wide: boolean;
  protected values: Int32Array | BigInt64Array;
  protected halves: Int32Array;

  constructor(column: Column, arrowType: ArrowType, wide: boolean) {
    super(column, arrowType);
    this.#wide = wide;
    this.values = wide ? new BigInt64Array(0) : new Int32Array(0);
    this.halves = new Int32Array(0);
  }

  /** Store an exact integer: a 32-bit one for narrow slots, a safe integer for wide ones. */
  protected store(i: number, v: number): void {
    if (this.#wide) setInt64(this.halves, i, v);
    else this.halves[i] = v;
  }

  protected clearSlot(i: number): void {
    if (this.#wide) setInt64(this.halves, i, 0);
    else this.halves[i] = 0;
  }
  protected growTo(capacity: number, rows: number): void {
    const words = this.#wide ? 2 : 1;
    const halves = grown(this.halves, (s) => new Int32Array(s), capacity * words, rows * words);
    this.halves = halves;
    this.values = this.#wide ? new BigInt64Array(halves.buffer) : halves;
  }
  protected bodyBytes(n: number): number {
    return this.#wide ? 8 * n : pad8(4 * n);
  }
  protected buffers(n: number): { data: Int32Array | BigInt64Array } {
    return { data: this.values.subarray(0, n) };
  }
  protected release(): void {
    this.halves = new Int32Array(0);
    this.values = this.#wide ? new BigInt64Array(0) : this.halves;
  }
}

/** DATE: days since 1970-01-01. */
export class DateBuilder extends SlotBuilder {
  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType, false);
  }

  write(v: unknown, i: number): void {
    this.halves[i] = typeof v === "number" && (v | 0) === v ? v : toEpochDays(v);
  }
}

/** TIME(p): the time of day in the Arrow unit of p (32-bit for s / ms, 64-bit for µs / ns). */
export class TimeBuilder extends SlotBuilder {
  readonly #precision: number;
  readonly #nanosPerUnit: number;

  constructor(column: Column, arrowType: ArrowType) {
    const precision = column.type.precision ?? 0;
    super(column, arrowType, precision > 3);
    this.#precision = precision;
    this.#nanosPerUnit = 1e9 / timestampUnitsPerSecond(precision);
  }

  write(v: unknown, i: number): void {
    this.store(i, toNanosOfDay(v, this.#precision) / this.#nanosPerUnit);
  }
}

/** TIMESTAMP(p) / TIMESTAMP_LTZ(p): the epoch in the Arrow unit of p. */
export class TimestampBuilder extends SlotBuilder {
  readonly #precision: number;
  readonly #ltz: boolean;
  readonly #unitsPerMs: number;
  /** Floor step of epoch milliseconds for p < 3 (1 otherwise). */
  readonly #msStep: number;

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType, true);
    const precision = column.type.precision ?? 6;
    this.#precision = precision;
    this.#ltz = column.type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE";
    this.#unitsPerMs = timestampUnitsPerSecond(precision) / 1000;
    this.#msStep = precision >= 3 ? 1 : 10 ** (3 - precision);
  }

  write(v: unknown, i: number): void {
    const ms = epochMillisOf(v);
    if (ms !== undefined) {
      const step = this.#msStep;
      this.#storeParts(i, step === 1 ? ms : Math.floor(ms / step) * step, 0, v);
    } else {
      const parts = toTimestampParts(v, this.#precision, this.#ltz);
      this.#storeParts(i, parts.epochMs, parts.nanoOfMs, v);
    }
  }

  /** Store floored parts as the epoch in the column unit. */
  #storeParts(i: number, epochMs: number, nanoOfMs: number, v: unknown): void {
    const perMs = this.#unitsPerMs;
    if (perMs === 1) this.store(i, epochMs);
    else if (perMs < 1) this.store(i, Math.floor(epochMs / 1000));
    else if (perMs === 1000 && Math.abs(epochMs) < 9e12)
      this.store(i, epochMs * 1000 + Math.floor(nanoOfMs / 1000));
    else (this.values as BigInt64Array)[i] = this.#wideUnits(epochMs, nanoOfMs, v);
  }

  #wideUnits(epochMs: number, nanoOfMs: number, v: unknown): bigint {
    if (this.#unitsPerMs === 1000) return BigInt(epochMs) * 1000n + BigInt(Math.floor(nanoOfMs / 1000));
    const nanos = BigInt(epochMs) * 1_000_000n + BigInt(nanoOfMs);
    if (nanos < INT64_MIN || nanos > INT64_MAX) {
      throw new ValueMismatch(
        TIMESTAMP_EXPECTED,
        v,
        `out of range: TIMESTAMP(${this.#precision}) holds 64-bit nanoseconds, years 1677 to 2262`,
      );
    }
    return nanos;
  }
}
