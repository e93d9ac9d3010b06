// Reader of Fluss's COMPACTED row format (and of compacted keys, with a zero-width bitset); the
// byte layout is documented in compacted-row.ts. Sequential and bounds-checked: every read that
// would run past the end, a varint longer than 5 (int) or 10 (long) bytes, a negative length, or a
// nano-of-millisecond outside 0..999999 raises CORRUPT_RECORD_EXCEPTION.
// Invariants: values from readField never alias the input (BYTES/BINARY are copied; only
// readBytesView returns a view); readField returns the project's output conventions.

import { Errors, FlussError } from "../errors.ts";
import type { DataType } from "../types.ts";
import { formatDecimal, unscaledFromBytes } from "../values/numeric.ts";
import {
  formatDate,
  formatTime,
  isCompactTimestamp,
  type TimestampParts,
  timestampPartsToUnits,
} from "../values/temporal.ts";

/** Fluss stores DECIMAL(p, s) with p <= 18 as a long, larger ones as bytes. */
export const DECIMAL_COMPACT_PRECISION_MAX = 18;
const TWO_32 = 4294967296;

export function nullBitsetSize(fieldCount: number): number {
  return (fieldCount + 7) >>> 3;
}

export interface DecodeOptions {
  /** TIMESTAMP / TIMESTAMP_LTZ as `Date` (default; sub-ms digits dropped) or as a bigint epoch in
   *  the precision's unit (s, ms, µs or ns), which loses nothing and is accepted back on write. */
  timestamps?: "date" | "bigint";
}

export function corruptRow(what: string): FlussError {
  return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `compacted row: ${what}`);
}

/** Sequential, bounds-checked reader of one compacted row (or key, with fieldCount 0). */
export class CompactedRowReader {
  readonly #bytes: Buffer;
  readonly #view: DataView;
  readonly #fieldCount: number;
  #pos: number;
  // Result of the last #readVarint64: low and high 32-bit words.
  #lo = 0;
  #hi = 0;

  constructor(bytes: Uint8Array, fieldCount: number) {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#fieldCount = fieldCount;
    this.#pos = nullBitsetSize(fieldCount);
    if (this.#pos > bytes.byteLength) {
      throw corruptRow(`${bytes.byteLength} bytes cannot hold the null bitset of ${fieldCount} fields`);
    }
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  isNullAt(index: number): boolean {
    if (index >= this.#fieldCount) return false;
    return (this.#bytes[index >>> 3]! & (1 << (index & 7))) !== 0;
  }

  #need(n: number, what: string): void {
    if (this.#pos + n > this.#bytes.length) {
      throw corruptRow(`truncated ${what} at offset ${this.#pos} (${this.#bytes.length} bytes)`);
    }
  }

  readBoolean(): boolean {
    this.#need(1, "BOOLEAN");
    return this.#bytes[this.#pos++] !== 0;
  }

  readByte(): number {
    this.#need(1, "TINYINT");
    return this.#view.getInt8(this.#pos++);
  }

  readShort(): number {
    this.#need(2, "SMALLINT");
    const v = this.#view.getInt16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  /** Varint of a 32-bit value, returned signed. At most 5 bytes. */
  readInt(): number {
    const buf = this.#bytes;
    let pos = this.#pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= buf.length) throw corruptRow(`truncated varint at offset ${this.#pos}`);
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.#pos = pos;
        return result | 0;
      }
    }
    throw corruptRow(`varint longer than 5 bytes at offset ${this.#pos}`);
  }

  #readVarint64(): void {
    const buf = this.#bytes;
    let pos = this.#pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= buf.length) throw corruptRow(`truncated varint at offset ${this.#pos}`);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if ((b & 0x80) === 0) {
        this.#pos = pos;
        this.#lo = lo >>> 0;
        this.#hi = hi | 0;
        return;
      }
    }
    throw corruptRow(`varint longer than 10 bytes at offset ${this.#pos}`);
  }

  /** Varint of a 64-bit value, as a signed bigint. */
  readLong(): bigint {
    this.#readVarint64();
    const hi = this.#hi;
    if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * TWO_32 + this.#lo);
    return (BigInt(hi) << 32n) | BigInt(this.#lo);
  }

  /** Varint of a 64-bit value as a number (exact within ±2^53). */
  readLongNumber(): number {
    this.#readVarint64();
    return this.#hi * TWO_32 + this.#lo;
  }

  readFloat(): number {
    this.#need(4, "FLOAT");
    const v = this.#view.getFloat32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  readDouble(): number {
    this.#need(8, "DOUBLE");
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  #readLength(what: string): number {
    const n = this.readInt();
    if (n < 0) throw corruptRow(`negative ${what} length ${n} at offset ${this.#pos}`);
    this.#need(n, what);
    return n;
  }

  /** Varint length + bytes, as a view into the row (no copy). */
  readBytesView(): Uint8Array {
    const n = this.#readLength("bytes");
    const start = this.#pos;
    this.#pos += n;
    return this.#bytes.subarray(start, start + n);
  }

  /** Varint length + bytes, as a fresh copy. */
  readBytes(): Uint8Array {
    const n = this.#readLength("bytes");
    const out = new Uint8Array(n);
    out.set(this.#bytes.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return out;
  }

  readString(): string {
    const n = this.#readLength("string");
    const start = this.#pos;
    this.#pos += n;
    return this.#bytes.toString("utf8", start, start + n);
  }

  readTimestamp(precision: number): TimestampParts {
    const epochMs = this.readLongNumber();
    const nanoOfMs = isCompactTimestamp(precision) ? 0 : this.readInt();
    if (nanoOfMs < 0 || nanoOfMs > 999_999) throw corruptRow(`nano-of-millisecond ${nanoOfMs} out of range`);
    return { epochMs, nanoOfMs };
  }

  /** Read one non-null value of `type` in the project's output convention. */
  readField(type: DataType, options?: DecodeOptions): unknown {
    switch (type.root) {
      case "BOOLEAN":
        return this.readBoolean();
      case "TINYINT":
        return this.readByte();
      case "SMALLINT":
        return this.readShort();
      case "INTEGER":
        return this.readInt();
      case "BIGINT":
        return this.readLong();
      case "FLOAT":
        return this.readFloat();
      case "DOUBLE":
        return this.readDouble();
      case "DECIMAL": {
        const scale = type.scale ?? 0;
        if ((type.precision ?? 10) <= DECIMAL_COMPACT_PRECISION_MAX)
          return formatDecimal(this.readLong(), scale);
        const bytes = this.readBytesView();
        if (bytes.length === 0) throw corruptRow("empty unscaled decimal bytes");
        return formatDecimal(unscaledFromBytes(bytes), scale);
      }
      case "STRING":
      case "CHAR":
        return this.readString();
      case "BYTES":
      case "BINARY":
        return this.readBytes();
      case "DATE":
        return formatDate(this.readInt());
      case "TIME_WITHOUT_TIME_ZONE":
        return formatTime(this.readInt(), type.precision ?? 0);
      case "TIMESTAMP_WITHOUT_TIME_ZONE":
      case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
        const precision = type.precision ?? 6;
        const parts = this.readTimestamp(precision);
        if (options?.timestamps === "bigint") return timestampPartsToUnits(parts, precision);
        return new Date(parts.epochMs);
      }
    }
  }
}
