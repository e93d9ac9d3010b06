// Allocation-free walking of COMPACTED rows (layout in compacted-row.ts), for hot paths that must
// not materialize JS values: `RowCursor` reads one field at a time from a byte range, and
// `scanCompactedRow` validates a whole row and records where each field starts.
// Invariants: the cursor refuses exactly the byte sequences CompactedRowReader refuses (truncated
// fields, varints longer than 5 / 10 bytes, negative lengths, empty big-decimal bytes,
// nano-of-millisecond outside 0..999999, trailing bytes), with CORRUPT_RECORD_EXCEPTION; a row
// scanCompactedRow accepts decodes with decodeCompactedRow, and one it refuses does not.

import type { DataType } from "../types.ts";
import { corruptRow, DECIMAL_COMPACT_PRECISION_MAX, nullBitsetSize } from "./compacted-reader.ts";

const f32 = new Float32Array(1);
const f64 = new Float64Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64Bytes = new Uint8Array(f64.buffer);

/** A position in one row's bytes; the read methods advance it (bounds-checked). */
export class RowCursor {
  bytes: Uint8Array = f32Bytes;
  pos = 0;
  end = 0;
  /** Low / high 32-bit words of the last varint64 (lo unsigned, hi signed). */
  lo = 0;
  hi = 0;

  /** Point at `bytes` (a whole row), after the null bitset of `fieldCount` fields. */
  start(bytes: Uint8Array, fieldCount: number): void {
    this.bytes = bytes;
    this.end = bytes.length;
    this.pos = nullBitsetSize(fieldCount);
    if (this.pos > this.end) {
      throw corruptRow(`${this.end} bytes cannot hold the null bitset of ${fieldCount} fields`);
    }
  }

  isNullAt(index: number): boolean {
    return (this.bytes[index >>> 3]! & (1 << (index & 7))) !== 0;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw corruptRow(`truncated ${what} at offset ${this.pos} (${this.end} bytes)`);
    }
  }

  /** Varint of a 32-bit value, signed. */
  int(): number {
    const buf = this.bytes;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) throw corruptRow(`truncated varint at offset ${this.pos}`);
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.pos = pos;
        return result | 0;
      }
    }
    throw corruptRow(`varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** Varint of a 64-bit value into lo / hi. */
  long(): void {
    const buf = this.bytes;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.end) throw corruptRow(`truncated varint at offset ${this.pos}`);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if ((b & 0x80) === 0) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi | 0;
        return;
      }
    }
    throw corruptRow(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  /** A varint length followed by that many bytes: returns the length, pos at the first byte. */
  length(what: string): number {
    const n = this.int();
    if (n < 0) throw corruptRow(`negative ${what} length ${n} at offset ${this.pos}`);
    this.need(n, what);
    return n;
  }

  float(): number {
    this.need(4, "FLOAT");
    const b = this.bytes;
    const p = this.pos;
    f32Bytes[0] = b[p]!;
    f32Bytes[1] = b[p + 1]!;
    f32Bytes[2] = b[p + 2]!;
    f32Bytes[3] = b[p + 3]!;
    this.pos = p + 4;
    return f32[0]!;
  }

  double(): number {
    this.need(8, "DOUBLE");
    const b = this.bytes;
    const p = this.pos;
    for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + i]!;
    this.pos = p + 8;
    return f64[0]!;
  }

  /** Skip one non-null value of `type`, validating it as CompactedRowReader.readField would. */
  skip(type: DataType): void {
    switch (type.root) {
      case "BOOLEAN":
        this.need(1, "BOOLEAN");
        this.pos++;
        return;
      case "TINYINT":
        this.need(1, "TINYINT");
        this.pos++;
        return;
      case "SMALLINT":
        this.need(2, "SMALLINT");
        this.pos += 2;
        return;
      case "INTEGER":
      case "DATE":
      case "TIME_WITHOUT_TIME_ZONE":
        this.int();
        return;
      case "BIGINT":
        this.long();
        return;
      case "FLOAT":
        this.need(4, "FLOAT");
        this.pos += 4;
        return;
      case "DOUBLE":
        this.need(8, "DOUBLE");
        this.pos += 8;
        return;
      case "DECIMAL":
        if ((type.precision ?? 10) <= DECIMAL_COMPACT_PRECISION_MAX) this.long();
        else {
          const n = this.length("bytes");
          if (n === 0) throw corruptRow("empty unscaled decimal bytes");
          this.pos += n;
        }
        return;
      case "STRING":
      case "CHAR": {
        const n = this.length("string"); // before reading pos: `pos += length()` would add to the old pos
        this.pos += n;
        return;
      }
      case "BYTES":
      case "BINARY": {
        const n = this.length("bytes");
        this.pos += n;
        return;
      }
      case "TIMESTAMP_WITHOUT_TIME_ZONE":
      case "TIMESTAMP_WITH_LOCAL_TIME_ZONE": {
        this.long();
        if ((type.precision ?? 6) > 3) {
          const nanoOfMs = this.int();
          if (nanoOfMs < 0 || nanoOfMs > 999_999)
            throw corruptRow(`nano-of-millisecond ${nanoOfMs} out of range`);
        }
        return;
      }
    }
  }

  /** The row must end here. */
  finish(fieldCount: number): void {
    if (this.pos !== this.end)
      throw corruptRow(`${this.end - this.pos} trailing bytes after ${fieldCount} fields`);
  }
}

const shared = new RowCursor();

/**
 * Validate a COMPACTED row of `types` exactly as decodeCompactedRow would (same refusals) without
 * decoding it; `starts[i]` / `ends[i]` receive the byte range of field i's value, -1 / -1 for a
 * null.
 */
export function scanCompactedRow(
  types: readonly DataType[],
  bytes: Uint8Array,
  starts: Int32Array,
  ends: Int32Array,
): void {
  const c = shared;
  const n = types.length;
  c.start(bytes, n);
  for (let i = 0; i < n; i++) {
    const type = types[i]!;
    if (type.nullable && c.isNullAt(i)) {
      starts[i] = -1;
      ends[i] = -1;
      continue;
    }
    starts[i] = c.pos;
    c.skip(type);
    ends[i] = c.pos;
  }
  c.finish(n);
}
