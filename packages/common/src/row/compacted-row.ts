// Fluss's COMPACTED row format, byte-exact: the writer (CompactedRowWriter) and encode/decode of
// whole rows; the sequential reader is in compacted-reader.ts.
//
// Layout: null bitset of ceil(n/8) bytes (bit i of byte i>>3, LSB first, set = null), then the
// non-null values in field order, each as:
//   BOOLEAN              1 byte (0/1; any non-zero reads true)
//   TINYINT              1 byte
//   SMALLINT             2 bytes little-endian (fixed, not a varint)
//   INTEGER/DATE/TIME    unsigned LEB128 varint of the 32-bit two's complement (no zigzag: -1 is
//                        5 bytes ff ff ff ff 0f); DATE = days since epoch, TIME = ms of the day
//   BIGINT               unsigned LEB128 varint of the 64-bit two's complement (up to 10 bytes)
//   FLOAT / DOUBLE       4 / 8 bytes little-endian IEEE 754
//   STRING / CHAR(n)     varint(int) UTF-8 byte length + bytes (CHAR is not padded)
//   BYTES / BINARY(n)    varint(int) length + bytes
//   DECIMAL(p, s)        p <= 18: varint(long) of the unscaled value; else varint(int) length +
//                        unscaled big-endian two's complement bytes (Java BigInteger.toByteArray)
//   TIMESTAMP(p) / _LTZ  p <= 3: varint(long) epoch ms; else varint(long) epoch ms + varint(int)
//                        nanos of the millisecond
// A key (CompactedKeyEncoder) is the same value encoding with a zero-width bitset.
// Invariants: a NOT NULL column never takes null on write; like Fluss, the reader ignores the null
// bit of a NOT NULL column. Reads are bounds-checked: bytes that do not parse, or that leave
// trailing bytes, raise CORRUPT_RECORD_EXCEPTION; values that do not fit raise SCHEMA_MISMATCH.

import { Errors, FlussError } from "../errors.ts";
import type { DataType } from "../types.ts";
import { mismatchError, nullNotAllowed, ValueMismatch } from "../values/mismatch.ts";
import {
  toBoolean,
  toFloat64,
  toInt64,
  toIntInRange,
  toUnscaledDecimal,
  unscaledToBytes,
} from "../values/numeric.ts";
import {
  isCompactTimestamp,
  type TimestampParts,
  toEpochDays,
  toMillisOfDay,
  toTimestampParts,
} from "../values/temporal.ts";
import { toByteArray, toCharString } from "../values/text.ts";
import {
  CompactedRowReader,
  corruptRow,
  DECIMAL_COMPACT_PRECISION_MAX,
  type DecodeOptions,
  nullBitsetSize,
} from "./compacted-reader.ts";

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_32 = 4294967296;

/** Sequential writer of one row at a time; reuse it across rows (reset() keeps the buffer). */
export class CompactedRowWriter {
  #buf: Buffer;
  #view: DataView;
  #pos: number;
  #headerSize: number;

  constructor(fieldCount = 0, initialCapacity = 64) {
    this.#headerSize = nullBitsetSize(fieldCount);
    this.#buf = Buffer.alloc(Math.max(initialCapacity, this.#headerSize, 16));
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    this.#pos = this.#headerSize;
  }

  /** Bytes written so far, including the null bitset. */
  get position(): number {
    return this.#pos;
  }

  /** Start a new row (optionally with another field count): clears the null bitset. */
  reset(fieldCount?: number): void {
    if (fieldCount !== undefined) this.#headerSize = nullBitsetSize(fieldCount);
    this.#ensureAbsolute(this.#headerSize);
    this.#buf.fill(0, 0, this.#headerSize);
    this.#pos = this.#headerSize;
  }

  setNullAt(index: number): void {
    this.#buf[index >>> 3]! |= 1 << (index & 7);
  }

  writeBoolean(v: boolean): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 1 : 0;
  }

  /** TINYINT, -128..127. */
  writeByte(v: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v & 0xff;
  }

  /** SMALLINT, little-endian. */
  writeShort(v: number): void {
    this.#ensure(2);
    this.#view.setInt16(this.#pos, v, true);
    this.#pos += 2;
  }

  /** Varint of the 32-bit two's complement (INTEGER, DATE, TIME, lengths, nanos). */
  writeInt(v: number): void {
    this.#ensure(5);
    const buf = this.#buf;
    let pos = this.#pos;
    let u = v >>> 0;
    while (u >= 0x80) {
      buf[pos++] = (u & 0x7f) | 0x80;
      u >>>= 7;
    }
    buf[pos++] = u;
    this.#pos = pos;
  }

  /** Varint of the 64-bit two's complement (BIGINT, compact DECIMAL, timestamp millis). */
  writeLong(v: number | bigint): void {
    if (typeof v === "number") {
      if (v >= 0 && v < TWO_32) {
        this.writeInt(v);
        return;
      }
      const hi = Math.floor(v / TWO_32);
      this.#writeVarint64(v - hi * TWO_32, hi >>> 0);
      return;
    }
    const u = BigInt.asUintN(64, v);
    this.#writeVarint64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  #writeVarint64(lo: number, hi: number): void {
    this.#ensure(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (hi !== 0 || lo >= 0x80) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.#pos = pos;
  }

  writeFloat(v: number): void {
    this.#ensure(4);
    this.#view.setFloat32(this.#pos, v, true);
    this.#pos += 4;
  }

  writeDouble(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  /** Varint length + bytes (BYTES, BINARY, big DECIMAL). */
  writeBytes(bytes: Uint8Array): void {
    this.writeInt(bytes.byteLength);
    this.#ensure(bytes.byteLength);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.byteLength;
  }

  /** Varint UTF-8 length + UTF-8 bytes (STRING, CHAR). */
  writeString(s: string): void {
    if (s.length < 43) {
      // At most 126 UTF-8 bytes: the length varint is one byte, so encode straight after it.
      this.#ensure(1 + s.length * 3);
      const n = this.#buf.write(s, this.#pos + 1, "utf8");
      this.#buf[this.#pos] = n;
      this.#pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, "utf8");
    this.writeInt(n);
    this.#ensure(n);
    this.#pos += this.#buf.write(s, this.#pos, n, "utf8");
  }

  writeDecimal(unscaled: bigint, precision: number): void {
    if (precision <= DECIMAL_COMPACT_PRECISION_MAX) this.writeLong(unscaled);
    else this.writeBytes(unscaledToBytes(unscaled));
  }

  writeTimestamp(parts: TimestampParts, precision: number): void {
    this.writeLong(parts.epochMs);
    if (!isCompactTimestamp(precision)) this.writeInt(parts.nanoOfMs);
  }

  /** Convert `value` (non-null) for `type` and write it; throws ValueMismatch when it does not fit. */
  writeField(type: DataType, value: unknown): void {
    switch (type.root) {
      case "BOOLEAN":
        this.writeBoolean(toBoolean(value));
        break;
      case "TINYINT":
        this.writeByte(toIntInRange(value, -128, 127));
        break;
      case "SMALLINT":
        this.writeShort(toIntInRange(value, -32768, 32767));
        break;
      case "INTEGER":
        this.writeInt(
          typeof value === "number" && (value | 0) === value
            ? value
            : toIntInRange(value, INT32_MIN, INT32_MAX),
        );
        break;
      case "BIGINT":
        this.writeLong(toInt64(value));
        break;
      case "FLOAT":
        this.writeFloat(toFloat64(value));
        break;
      case "DOUBLE":
        this.writeDouble(toFloat64(value));
        break;
      case "DECIMAL": {
        const precision = type.precision ?? 10;
        this.writeDecimal(toUnscaledDecimal(value, precision, type.scale ?? 0), precision);
        break;
      }
      case "STRING":
        if (typeof value !== "string") throw new ValueMismatch("a string", value);
        this.writeString(value);
        break;
      case "CHAR":
        this.writeString(toCharString(value, type.length ?? 1));
        break;
      case "BYTES":
        this.writeBytes(toByteArray(value));
        break;
      case "BINARY":
        this.writeBytes(toByteArray(value, type.length ?? 1));
        break;
      case "DATE":
        this.writeInt(toEpochDays(value));
        break;
      case "TIME_WITHOUT_TIME_ZONE":
        this.writeInt(toMillisOfDay(value, type.precision ?? 0));
        break;
      case "TIMESTAMP_WITHOUT_TIME_ZONE":
      case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
        const precision = type.precision ?? 6;
        const ltz = type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE";
        this.writeTimestamp(toTimestampParts(value, precision, ltz), precision);
        break;
      }
    }
  }

  /**
   * Write a whole row (reset first). `values[i]` null or undefined is SQL NULL; `names` (column
   * names) only improve error messages. Throws SCHEMA_MISMATCH naming the offending column.
   */
  writeRow(types: readonly DataType[], values: readonly unknown[], names?: readonly string[]): void {
    if (values.length !== types.length) {
      throw new FlussError(
        Errors.SCHEMA_MISMATCH,
        `row has ${values.length} values, the row type has ${types.length} fields`,
      );
    }
    this.reset(types.length);
    let i = 0;
    try {
      for (; i < types.length; i++) {
        const v = values[i];
        if (v === null || v === undefined) {
          if (!types[i]!.nullable) throw nullNotAllowed(names?.[i] ?? `#${i}`, types[i]!);
          this.setNullAt(i);
        } else this.writeField(types[i]!, v);
      }
    } catch (err) {
      if (err instanceof ValueMismatch) throw mismatchError(names?.[i] ?? `#${i}`, types[i]!, err);
      throw err;
    }
  }

  /** A copy of the bytes written (the row). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.#pos);
    out.set(this.#buf.subarray(0, this.#pos));
    return out;
  }

  /** A view of the bytes written; valid only until the next write or reset. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  #ensure(n: number): void {
    if (this.#pos + n > this.#buf.length) this.#ensureAbsolute(this.#pos + n);
  }

  #ensureAbsolute(size: number): void {
    if (size <= this.#buf.length) return;
    const next = Buffer.alloc(Math.max(this.#buf.length * 2, size));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}

let shared: CompactedRowWriter | undefined;

/**
 * Encode one row as COMPACTED bytes. `values` are by field index (null/undefined = NULL);
 * `names` only improve error messages. Throws SCHEMA_MISMATCH for a value that does not fit.
 */
export function encodeCompactedRow(
  types: readonly DataType[],
  values: readonly unknown[],
  names?: readonly string[],
): Uint8Array {
  shared ??= new CompactedRowWriter(0, 256);
  shared.writeRow(types, values, names);
  return shared.toBytes();
}

/** Decode COMPACTED bytes into values by field index. Throws CORRUPT_RECORD_EXCEPTION on bad bytes. */
export function decodeCompactedRow(
  types: readonly DataType[],
  bytes: Uint8Array,
  options?: DecodeOptions,
): unknown[] {
  const reader = new CompactedRowReader(bytes, types.length);
  const out = new Array<unknown>(types.length);
  for (let i = 0; i < types.length; i++) {
    const type = types[i]!;
    out[i] = type.nullable && reader.isNullAt(i) ? null : reader.readField(type, options);
  }
  if (reader.remaining !== 0)
    throw corruptRow(`${reader.remaining} trailing bytes after ${types.length} fields`);
  return out;
}

export { CompactedRowReader, DECIMAL_COMPACT_PRECISION_MAX, type DecodeOptions, nullBitsetSize };
