// Fluss's INDEXED row format (IndexedRow / IndexedRowWriter), byte-exact: the alternative log and
// KV row format to COMPACTED, with fixed-width fields so a reader can find a field without
// decoding the ones before it.
//
// Layout: null bitset of ceil(n/8) bytes (bit i of byte i>>3, set = null) | variable-length list:
// one i32 LE slot per variable-width column of the row type, filled in field order with the byte
// lengths of the NON-NULL variable-width values (unused trailing slots stay 0) | the non-null
// values in field order (a null takes no bytes):
//   BOOLEAN/TINYINT 1 byte; SMALLINT 2; INTEGER/DATE/TIME/FLOAT 4; BIGINT/DOUBLE 8 (all LE)
//   DECIMAL(p <= 18) 8-byte LE unscaled long; DECIMAL(p > 18) variable: BigInteger.toByteArray
//   TIMESTAMP(p <= 3) / _LTZ: 8-byte epoch ms; p > 3: 8-byte epoch ms + 4-byte nanos of the ms
//   CHAR(n) / BINARY(n): exactly n bytes, zero-padded; read back with trailing zero bytes removed
//   (as Fluss does — so BINARY values ending in 0x00 lose those bytes)
//   STRING / BYTES: variable, raw UTF-8 / bytes
// Invariants: input conversion and errors are those of compacted-row.ts (shared converters);
// reads are bounds-checked (CORRUPT_RECORD_EXCEPTION) and must consume the row exactly.

import { Errors, FlussError } from "../errors.ts";
import type { DataType } from "../types.ts";
import { mismatchError, nullNotAllowed, ValueMismatch } from "../values/mismatch.ts";
import {
  formatDecimal,
  toBoolean,
  toFloat64,
  toInt64,
  toIntInRange,
  toUnscaledDecimal,
  unscaledFromBytes,
  unscaledToBytes,
} from "../values/numeric.ts";
import {
  formatDate,
  formatTime,
  isCompactTimestamp,
  timestampPartsToUnits,
  toEpochDays,
  toMillisOfDay,
  toTimestampParts,
} from "../values/temporal.ts";
import { toByteArray, toCharString } from "../values/text.ts";
import { DECIMAL_COMPACT_PRECISION_MAX, type DecodeOptions, nullBitsetSize } from "./compacted-row.ts";

/** Byte width of a fixed-width field, or -1 for a variable-width one (IndexedRow.isFixedLength). */
export function indexedFieldWidth(type: DataType): number {
  switch (type.root) {
    case "BOOLEAN":
    case "TINYINT":
      return 1;
    case "SMALLINT":
      return 2;
    case "INTEGER":
    case "FLOAT":
    case "DATE":
    case "TIME_WITHOUT_TIME_ZONE":
      return 4;
    case "BIGINT":
    case "DOUBLE":
      return 8;
    case "DECIMAL":
      return (type.precision ?? 10) <= DECIMAL_COMPACT_PRECISION_MAX ? 8 : -1;
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return isCompactTimestamp(type.precision ?? 6) ? 8 : 12;
    case "CHAR":
    case "BINARY":
      return type.length ?? 1;
    case "STRING":
    case "BYTES":
      return -1;
  }
}

function headerSize(types: readonly DataType[]): number {
  let variable = 0;
  for (const t of types) if (indexedFieldWidth(t) < 0) variable++;
  return nullBitsetSize(types.length) + 4 * variable;
}

function int64Of(v: number | bigint): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

/** Converted value bytes of one non-null field (fixed fields padded to their width). */
function fieldBytes(type: DataType, v: unknown, scratch: Buffer): Uint8Array {
  switch (type.root) {
    case "BOOLEAN":
      scratch[0] = toBoolean(v) ? 1 : 0;
      return scratch.subarray(0, 1);
    case "TINYINT":
      scratch.writeInt8(toIntInRange(v, -128, 127), 0);
      return scratch.subarray(0, 1);
    case "SMALLINT":
      scratch.writeInt16LE(toIntInRange(v, -32768, 32767), 0);
      return scratch.subarray(0, 2);
    case "INTEGER":
      scratch.writeInt32LE(toIntInRange(v, -2147483648, 2147483647), 0);
      return scratch.subarray(0, 4);
    case "DATE":
      scratch.writeInt32LE(toEpochDays(v), 0);
      return scratch.subarray(0, 4);
    case "TIME_WITHOUT_TIME_ZONE":
      scratch.writeInt32LE(toMillisOfDay(v, type.precision ?? 0), 0);
      return scratch.subarray(0, 4);
    case "FLOAT":
      scratch.writeFloatLE(toFloat64(v), 0);
      return scratch.subarray(0, 4);
    case "BIGINT":
      scratch.writeBigInt64LE(int64Of(toInt64(v)), 0);
      return scratch.subarray(0, 8);
    case "DOUBLE":
      scratch.writeDoubleLE(toFloat64(v), 0);
      return scratch.subarray(0, 8);
    case "DECIMAL": {
      const precision = type.precision ?? 10;
      const unscaled = toUnscaledDecimal(v, precision, type.scale ?? 0);
      if (precision > DECIMAL_COMPACT_PRECISION_MAX) return unscaledToBytes(unscaled);
      scratch.writeBigInt64LE(unscaled, 0);
      return scratch.subarray(0, 8);
    }
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      const precision = type.precision ?? 6;
      const parts = toTimestampParts(v, precision, type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE");
      scratch.writeBigInt64LE(BigInt(parts.epochMs), 0);
      if (isCompactTimestamp(precision)) return scratch.subarray(0, 8);
      scratch.writeInt32LE(parts.nanoOfMs, 8);
      return scratch.subarray(0, 12);
    }
    case "STRING":
      if (typeof v !== "string") throw new ValueMismatch("a string", v);
      return Buffer.from(v, "utf8");
    case "BYTES":
      return toByteArray(v);
    case "CHAR": {
      const width = type.length ?? 1;
      const utf8 = Buffer.from(toCharString(v, width), "utf8");
      if (utf8.length > width) {
        throw new ValueMismatch(
          `at most ${width} UTF-8 bytes (INDEXED CHAR(${width}))`,
          v,
          `${utf8.length} bytes`,
        );
      }
      const out = new Uint8Array(width);
      out.set(utf8);
      return out;
    }
    case "BINARY":
      return toByteArray(v, type.length ?? 1);
  }
}

/**
 * Encode one row as INDEXED bytes (values by field index; null/undefined = NULL). Throws
 * SCHEMA_MISMATCH naming the column for a value that does not fit.
 */
export function encodeIndexedRow(
  types: readonly DataType[],
  values: readonly unknown[],
  names?: readonly string[],
): Uint8Array {
  if (values.length !== types.length) {
    throw new FlussError(
      Errors.SCHEMA_MISMATCH,
      `row has ${values.length} values, the row type has ${types.length} fields`,
    );
  }
  const bitset = nullBitsetSize(types.length);
  const parts: Uint8Array[] = [];
  const scratch = Buffer.alloc(12);
  const header = Buffer.alloc(headerSize(types));
  let lengthSlot = bitset;
  let size = header.length;
  let i = 0;
  try {
    for (; i < types.length; i++) {
      const type = types[i]!;
      const v = values[i];
      if (v === null || v === undefined) {
        if (!type.nullable) throw nullNotAllowed(names?.[i] ?? `#${i}`, type);
        header[i >>> 3]! |= 1 << (i & 7);
        continue;
      }
      const bytes = fieldBytes(type, v, scratch);
      if (indexedFieldWidth(type) < 0) {
        header.writeInt32LE(bytes.length, lengthSlot);
        lengthSlot += 4;
      }
      // Fixed-width values live in `scratch`; copy them before the next field reuses it.
      parts.push(bytes.buffer === scratch.buffer ? new Uint8Array(bytes) : bytes);
      size += bytes.length;
    }
  } catch (err) {
    if (err instanceof ValueMismatch) throw mismatchError(names?.[i] ?? `#${i}`, types[i]!, err);
    throw err;
  }
  const out = new Uint8Array(size);
  out.set(header, 0);
  let pos = header.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function corrupt(what: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `indexed row: ${what}`);
}

function stripTrailingZeros(bytes: Uint8Array): Uint8Array {
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0) n--;
  return bytes.subarray(0, n);
}

/** Decode INDEXED bytes into values by field index (output convention of decodeCompactedRow). */
export function decodeIndexedRow(
  types: readonly DataType[],
  bytes: Uint8Array,
  options?: DecodeOptions,
): unknown[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = headerSize(types);
  if (pos > buf.length) throw corrupt(`${buf.length} bytes cannot hold the ${pos}-byte header`);
  let lengthSlot = nullBitsetSize(types.length);
  const out = new Array<unknown>(types.length);
  for (let i = 0; i < types.length; i++) {
    const type = types[i]!;
    if ((buf[i >>> 3]! & (1 << (i & 7))) !== 0) {
      out[i] = null;
      continue;
    }
    let width = indexedFieldWidth(type);
    if (width < 0) {
      width = buf.readInt32LE(lengthSlot);
      lengthSlot += 4;
      if (width < 0) throw corrupt(`negative length ${width} of field ${i}`);
    }
    if (pos + width > buf.length) throw corrupt(`field ${i} overruns the row (${buf.length} bytes)`);
    out[i] = readIndexedField(type, buf, pos, width, options);
    pos += width;
  }
  if (pos !== buf.length) throw corrupt(`${buf.length - pos} trailing bytes after ${types.length} fields`);
  return out;
}

function readIndexedField(
  type: DataType,
  buf: Buffer,
  pos: number,
  width: number,
  options?: DecodeOptions,
): unknown {
  switch (type.root) {
    case "BOOLEAN":
      return buf[pos] !== 0;
    case "TINYINT":
      return buf.readInt8(pos);
    case "SMALLINT":
      return buf.readInt16LE(pos);
    case "INTEGER":
      return buf.readInt32LE(pos);
    case "DATE":
      return formatDate(buf.readInt32LE(pos));
    case "TIME_WITHOUT_TIME_ZONE":
      return formatTime(buf.readInt32LE(pos), type.precision ?? 0);
    case "FLOAT":
      return buf.readFloatLE(pos);
    case "BIGINT":
      return buf.readBigInt64LE(pos);
    case "DOUBLE":
      return buf.readDoubleLE(pos);
    case "DECIMAL": {
      const scale = type.scale ?? 0;
      if (width === 8 && (type.precision ?? 10) <= DECIMAL_COMPACT_PRECISION_MAX) {
        return formatDecimal(buf.readBigInt64LE(pos), scale);
      }
      if (width === 0) throw corrupt("empty unscaled decimal bytes");
      return formatDecimal(unscaledFromBytes(buf.subarray(pos, pos + width)), scale);
    }
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
      const precision = type.precision ?? 6;
      const epochMs = Number(buf.readBigInt64LE(pos));
      const nanoOfMs = width === 12 ? buf.readInt32LE(pos + 8) : 0;
      if (nanoOfMs < 0 || nanoOfMs > 999_999) throw corrupt(`nano-of-millisecond ${nanoOfMs} out of range`);
      if (options?.timestamps === "bigint") return timestampPartsToUnits({ epochMs, nanoOfMs }, precision);
      return new Date(epochMs);
    }
    case "STRING":
      return buf.toString("utf8", pos, pos + width);
    case "CHAR":
      return Buffer.from(stripTrailingZeros(buf.subarray(pos, pos + width))).toString("utf8");
    case "BYTES":
      return new Uint8Array(buf.subarray(pos, pos + width));
    case "BINARY":
      return new Uint8Array(stripTrailingZeros(buf.subarray(pos, pos + width)));
  }
}
