// Fluss's ALIGNED row format (AlignedRow, Flink's BinaryRowData), used to store the min and max
// values of log batch statistics. Little-endian, as Fluss writes it on every supported platform.
// Layout of a row of N fields:
//   null bits: W = ((N + 63 + 8) / 64) * 8 bytes; bit 0-7 of byte 0 is the row-kind header (0),
//     field i is null when bit (i + 8) is set (bit k = byte k >> 3, mask 1 << (k & 7));
//   fixed part: 8 bytes per field at W + 8 * i;
//   variable part: after W + 8N, each value padded with zeros to a multiple of 8 bytes.
// Field encodings (fixed slot; unused slot bytes are zero):
//   BOOLEAN / TINYINT 1 byte, SMALLINT 2, INTEGER / DATE / TIME (ms of day) 4, BIGINT 8,
//   FLOAT 4 (IEEE), DOUBLE 8; DECIMAL(p <= 18) the unscaled int64; DECIMAL(p > 18) 16 bytes in the
//   variable part holding the unscaled value as Java BigInteger.toByteArray (big-endian two's
//   complement, minimal), slot = offset << 32 | byte length; TIMESTAMP(p <= 3) epoch ms int64;
//   TIMESTAMP(p > 3) epoch ms int64 in the variable part, slot = offset << 32 | nano-of-ms;
//   STRING / CHAR / BYTES / BINARY of at most 7 bytes inline (bytes 0..len-1 of the slot, byte 7 =
//   0x80 | len), longer ones in the variable part with slot = offset << 32 | len.
// Offsets in slots are relative to the row start. The row size is W + 8N + variable part.
// Invariants: readAlignedRow(writeAlignedRow(t, v), t) deep-equals v; a null writes a zero slot;
// reading checks every offset and length against the row bytes (CORRUPT_RECORD_EXCEPTION).

import { Errors, FlussError } from "../errors.ts";
import type { DataType } from "../types.ts";
import { unscaledFromBytes, unscaledToBytes } from "../values/numeric.ts";
import { isCompactTimestamp, type TimestampParts } from "../values/temporal.ts";
import type { ScalarValue } from "./scalar.ts";

const COMPACT_DECIMAL_PRECISION = 18;
const INLINE_BYTES_MAX = 7;

export function nullBitsWidth(arity: number): number {
  return Math.floor((arity + 63 + 8) / 64) * 8;
}

const pad8 = (n: number): number => (n + 7) & ~7;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");

function isVarBytes(t: DataType): boolean {
  return t.root === "STRING" || t.root === "CHAR" || t.root === "BYTES" || t.root === "BINARY";
}

function bytesOf(t: DataType, v: ScalarValue): Uint8Array {
  return t.root === "STRING" || t.root === "CHAR" ? utf8.encode(v as string) : (v as Uint8Array);
}

/** Bytes the variable part needs for one field value. */
function varSize(t: DataType, bytes: Uint8Array | undefined): number {
  if (bytes !== undefined) return bytes.length > INLINE_BYTES_MAX ? pad8(bytes.length) : 0;
  if (t.root === "DECIMAL" && (t.precision ?? 10) > COMPACT_DECIMAL_PRECISION) return 16;
  if (
    (t.root === "TIMESTAMP_WITHOUT_TIME_ZONE" || t.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE") &&
    !isCompactTimestamp(t.precision ?? 6)
  ) {
    return 8;
  }
  return 0;
}

/** Encode one row of `types` holding `values` (null = SQL NULL). */
export function writeAlignedRow(
  types: readonly DataType[],
  values: readonly (ScalarValue | null)[],
): Uint8Array {
  const n = types.length;
  const bitsWidth = nullBitsWidth(n);
  const fixed = bitsWidth + 8 * n;
  const encoded = values.map((v, i) =>
    v !== null && isVarBytes(types[i]!) ? bytesOf(types[i]!, v) : undefined,
  );
  let size = fixed;
  for (let i = 0; i < n; i++) if (values[i] !== null) size += varSize(types[i]!, encoded[i]);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let cursor = fixed;
  const slotOf = (offset: number, low: number): bigint => (BigInt(offset) << 32n) | BigInt(low >>> 0);
  for (let i = 0; i < n; i++) {
    const t = types[i]!;
    const v = values[i]!;
    const at = bitsWidth + 8 * i;
    if (v === null) {
      out[(i + 8) >> 3]! |= 1 << ((i + 8) & 7);
      continue;
    }
    const bytes = encoded[i];
    if (bytes !== undefined) {
      if (bytes.length <= INLINE_BYTES_MAX) {
        out.set(bytes, at);
        out[at + 7] = 0x80 | bytes.length;
      } else {
        out.set(bytes, cursor);
        dv.setBigUint64(at, slotOf(cursor, bytes.length), true);
        cursor += pad8(bytes.length);
      }
      continue;
    }
    switch (t.root) {
      case "BOOLEAN":
        out[at] = v ? 1 : 0;
        break;
      case "TINYINT":
        dv.setInt8(at, v as number);
        break;
      case "SMALLINT":
        dv.setInt16(at, v as number, true);
        break;
      case "INTEGER":
      case "DATE":
      case "TIME_WITHOUT_TIME_ZONE":
        dv.setInt32(at, v as number, true);
        break;
      case "BIGINT":
        dv.setBigInt64(at, v as bigint, true);
        break;
      case "FLOAT":
        dv.setFloat32(at, v as number, true);
        break;
      case "DOUBLE":
        dv.setFloat64(at, v as number, true);
        break;
      case "DECIMAL":
        if ((t.precision ?? 10) <= COMPACT_DECIMAL_PRECISION) dv.setBigInt64(at, v as bigint, true);
        else {
          const b = unscaledToBytes(v as bigint);
          out.set(b, cursor);
          dv.setBigUint64(at, slotOf(cursor, b.length), true);
          cursor += 16;
        }
        break;
      case "TIMESTAMP_WITHOUT_TIME_ZONE":
      case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
        const p = v as TimestampParts;
        if (isCompactTimestamp(t.precision ?? 6)) dv.setBigInt64(at, BigInt(p.epochMs), true);
        else {
          dv.setBigInt64(cursor, BigInt(p.epochMs), true);
          dv.setBigUint64(at, slotOf(cursor, p.nanoOfMs), true);
          cursor += 8;
        }
        break;
      }
      default:
        throw new FlussError(Errors.INVALID_ARGUMENT, `no ALIGNED row encoding for ${t.root}`);
    }
  }
  return out;
}

function corrupt(why: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `corrupt statistics row: ${why}`);
}

/** Decode a row written by writeAlignedRow (or by Fluss) of `types`. */
export function readAlignedRow(row: Uint8Array, types: readonly DataType[]): (ScalarValue | null)[] {
  const n = types.length;
  const bitsWidth = nullBitsWidth(n);
  if (row.length < bitsWidth + 8 * n) throw corrupt(`${row.length} bytes for ${n} fields`);
  const dv = new DataView(row.buffer, row.byteOffset, row.byteLength);
  const varRange = (slot: bigint, len: number): number => {
    const offset = Number(slot >> 32n);
    if (offset < bitsWidth + 8 * n || offset + len > row.length)
      throw corrupt(`value at ${offset} out of range`);
    return offset;
  };
  const out: (ScalarValue | null)[] = [];
  for (let i = 0; i < n; i++) {
    const t = types[i]!;
    const at = bitsWidth + 8 * i;
    if (((row[(i + 8) >> 3]! >> ((i + 8) & 7)) & 1) === 1) {
      out.push(null);
      continue;
    }
    if (isVarBytes(t)) {
      const slot = dv.getBigUint64(at, true);
      let bytes: Uint8Array;
      if ((slot & (1n << 63n)) !== 0n) {
        const len = row[at + 7]! & 0x7f;
        if (len > INLINE_BYTES_MAX) throw corrupt(`inline length ${len}`);
        bytes = row.subarray(at, at + len);
      } else {
        const len = Number(slot & 0xffffffffn);
        const offset = varRange(slot, len);
        bytes = row.subarray(offset, offset + len);
      }
      out.push(t.root === "STRING" || t.root === "CHAR" ? utf8Decoder.decode(bytes) : bytes.slice());
      continue;
    }
    switch (t.root) {
      case "BOOLEAN":
        out.push(row[at] !== 0);
        break;
      case "TINYINT":
        out.push(dv.getInt8(at));
        break;
      case "SMALLINT":
        out.push(dv.getInt16(at, true));
        break;
      case "INTEGER":
      case "DATE":
      case "TIME_WITHOUT_TIME_ZONE":
        out.push(dv.getInt32(at, true));
        break;
      case "BIGINT":
        out.push(dv.getBigInt64(at, true));
        break;
      case "FLOAT":
        out.push(dv.getFloat32(at, true));
        break;
      case "DOUBLE":
        out.push(dv.getFloat64(at, true));
        break;
      case "DECIMAL": {
        if ((t.precision ?? 10) <= COMPACT_DECIMAL_PRECISION) {
          out.push(dv.getBigInt64(at, true));
          break;
        }
        const slot = dv.getBigUint64(at, true);
        const len = Number(slot & 0xffffffffn);
        if (len < 1 || len > 16) throw corrupt(`decimal of ${len} bytes`);
        const offset = varRange(slot, len);
        out.push(unscaledFromBytes(row.subarray(offset, offset + len)));
        break;
      }
      case "TIMESTAMP_WITHOUT_TIME_ZONE":
      case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
        if (isCompactTimestamp(t.precision ?? 6)) {
          out.push({ epochMs: Number(dv.getBigInt64(at, true)), nanoOfMs: 0 });
          break;
        }
        const slot = dv.getBigUint64(at, true);
        const nanoOfMs = Number(slot & 0xffffffffn);
        if (nanoOfMs > 999_999) throw corrupt(`nano of millisecond ${nanoOfMs}`);
        const offset = varRange(slot, 8);
        out.push({ epochMs: Number(dv.getBigInt64(offset, true)), nanoOfMs });
        break;
      }
    }
  }
  return out;
}
