// The column sinks of CompactedArrowBuilder (compacted-arrow.ts): each reads one column's values
// out of COMPACTED rows (RowCursor) into growable Arrow buffers and hands them out as Arrow Data.
// Hot types copy bytes / words straight across; DATE, TIME, TIMESTAMP and DECIMAL decode the
// value and go through a one-column ArrowBatchBuilder, so their conversions stay the shared ones.
// Invariants: read() consumes the whole field before it throws a ValueMismatch / SCHEMA_MISMATCH
// (the builder then only validates the rest); finish(n) hands out views of the first n rows and
// drops the buffers, so a built batch is never written again.

import { isUtf8 } from "node:buffer";
import type { DataType as ArrowType, Data } from "apache-arrow";
import { makeColumnData } from "../arrow/arrow-types.ts";
import { ArrowBatchBuilder } from "../arrow/batch-builder.ts";
import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { formatDecimal, unscaledFromBytes } from "../values/numeric.ts";
import { formatDate, formatTime, timestampPartsToUnits } from "../values/temporal.ts";
import { toByteArray, toCharString } from "../values/text.ts";
import { corruptRow, DECIMAL_COMPACT_PRECISION_MAX } from "./compacted-reader.ts";
import type { RowCursor } from "./compacted-scan.ts";

const MAX_BYTES = 0x7fffffff;
const TWO_32 = 4294967296;

/** One column: validity plus the value buffers of the type. */
export abstract class Sink {
  readonly column: Column;
  readonly arrowType: ArrowType;
  #bits: Uint8Array | undefined = undefined;
  #nulls = 0;
  protected capacity = 0;

  constructor(column: Column, arrowType: ArrowType) {
    this.column = column;
    this.arrowType = arrowType;
  }

  writeNull(i: number): void {
    this.#bits ??= new Uint8Array((this.capacity + 7) >> 3).fill(0xff);
    this.#bits[i >> 3]! &= ~(1 << (i & 7));
    this.#nulls++;
    this.nullSlot(i);
  }

  grow(capacity: number, rows: number): void {
    this.capacity = capacity;
    const bits = this.#bits;
    if (bits !== undefined && bits.length < (capacity + 7) >> 3) {
      const next = new Uint8Array((capacity + 7) >> 3).fill(0xff);
      next.set(bits.subarray(0, (rows + 7) >> 3));
      this.#bits = next;
    }
    this.growTo(capacity, rows);
  }

  /** Drop every buffer without building. */
  clear(): void {
    this.#bits = undefined;
    this.#nulls = 0;
    this.capacity = 0;
    this.release();
  }

  finish(n: number): Data {
    let nullBitmap: Uint8Array | undefined;
    const nullCount = this.#nulls;
    if (this.#bits !== undefined && nullCount > 0) {
      nullBitmap = this.#bits.subarray(0, (n + 7) >> 3);
      if ((n & 7) !== 0) nullBitmap[nullBitmap.length - 1]! &= (1 << (n & 7)) - 1;
    }
    const data = makeColumnData({
      type: this.arrowType,
      length: n,
      nullCount: nullBitmap === undefined ? 0 : nullCount,
      nullBitmap,
      ...this.buffers(n),
    });
    this.#bits = undefined;
    this.#nulls = 0;
    this.capacity = 0;
    this.release();
    return data;
  }

  /** Read the non-null value at the cursor into slot i (the whole field is consumed first). */
  abstract read(c: RowCursor, i: number): void;
  protected nullSlot(_i: number): void {}
  protected abstract growTo(capacity: number, rows: number): void;
  protected abstract buffers(n: number): { data: ArrayBufferView; valueOffsets?: Int32Array };
  protected abstract release(): void;
}

function grown<T extends Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array>(
  src: T,
  make: (n: number) => T,
  size: number,
  keep: number,
): T {
  const out = make(size);
  out.set(src.subarray(0, keep) as ArrayLike<number>);
  return out;
}

class BoolSink extends Sink {
  #bits = new Uint8Array(0);
  read(c: RowCursor, i: number): void {
    c.need(1, "BOOLEAN");
    if (c.bytes[c.pos++] !== 0) this.#bits[i >> 3]! |= 1 << (i & 7);
  }
  protected growTo(capacity: number, rows: number): void {
    this.#bits = grown(this.#bits, (n) => new Uint8Array(n), (capacity + 7) >> 3, (rows + 7) >> 3);
  }
  protected buffers(n: number): { data: Uint8Array } {
    return { data: this.#bits.subarray(0, (n + 7) >> 3) };
  }
  protected release(): void {
    this.#bits = new Uint8Array(0);
  }
}

/** TINYINT / SMALLINT / INTEGER / FLOAT / DOUBLE: one typed-array slot per row. */
class NumberSink extends Sink {
  readonly #make: (n: number) => Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
  #values: Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    switch (column.type.root) {
      case "TINYINT":
        this.#make = (n) => new Int8Array(n);
        break;
      case "SMALLINT":
        this.#make = (n) => new Int16Array(n);
        break;
      case "INTEGER":
        this.#make = (n) => new Int32Array(n);
        break;
      case "FLOAT":
        this.#make = (n) => new Float32Array(n);
        break;
      default:
        this.#make = (n) => new Float64Array(n);
    }
    this.#values = this.#make(0);
  }

  read(c: RowCursor, i: number): void {
    switch (this.column.type.root) {
      case "TINYINT": {
        c.need(1, "TINYINT");
        this.#values[i] = (c.bytes[c.pos++]! << 24) >> 24;
        return;
      }
      case "SMALLINT": {
        c.need(2, "SMALLINT");
        const b = c.bytes;
        this.#values[i] = ((b[c.pos]! | (b[c.pos + 1]! << 8)) << 16) >> 16;
        c.pos += 2;
        return;
      }
      case "INTEGER":
        this.#values[i] = c.int();
        return;
      case "FLOAT":
        this.#values[i] = c.float();
        return;
      default:
        this.#values[i] = c.double();
    }
  }
  protected growTo(capacity: number, rows: number): void {
    this.#values = grown(this.#values, this.#make, capacity, rows);
  }
  protected buffers(n: number): { data: ArrayBufferView } {
    return { data: this.#values.subarray(0, n) };
  }
  protected release(): void {
    this.#values = this.#make(0);
  }
}

/** BIGINT: the varint's two 32-bit words go straight into the int64 slot. */
class BigIntSink extends Sink {
  #halves = new Int32Array(0);
  read(c: RowCursor, i: number): void {
    c.long();
    this.#halves[2 * i] = c.lo;
    this.#halves[2 * i + 1] = c.hi;
  }
  protected growTo(capacity: number, rows: number): void {
    this.#halves = grown(this.#halves, (n) => new Int32Array(n), 2 * capacity, 2 * rows);
  }
  protected buffers(n: number): { data: BigInt64Array } {
    return { data: new BigInt64Array(this.#halves.buffer, 0, n) };
  }
  protected release(): void {
    this.#halves = new Int32Array(0);
  }
}

/** STRING / CHAR(n) (Utf8) and BYTES (Binary): Int32 offsets and one growing byte buffer. */
class VarSink extends Sink {
  readonly #text: boolean;
  readonly #maxChars: number;
  #offsets = new Int32Array(1);
  #bytes = new Uint8Array(0);
  #pos = 0;
  #nextBytes = 1024;

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    const root = column.type.root;
    this.#text = root === "STRING" || root === "CHAR";
    this.#maxChars = root === "CHAR" ? (column.type.length ?? 1) : Number.POSITIVE_INFINITY;
  }

  #ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#bytes.length) return;
    if (need > MAX_BYTES) {
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `column '${this.column.name}': more than 2 GiB of data in one batch`,
      );
    }
    const next = new Uint8Array(Math.min(MAX_BYTES, Math.max(this.#bytes.length * 2, need, this.#nextBytes)));
    next.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = next;
  }

  read(c: RowCursor, i: number): void {
    const n = c.length(this.#text ? "string" : "bytes");
    const src = c.bytes;
    const start = c.pos;
    c.pos += n;
    this.#ensure(n);
    const out = this.#bytes;
    let at = this.#pos;
    let high = 0;
    if (n <= 64) {
      for (let k = start; k < start + n; k++) {
        const b = src[k]!;
        high |= b;
        out[at++] = b;
      }
    } else {
      out.set(src.subarray(start, start + n), at);
      at += n;
      if (this.#text) for (let k = start; k < start + n && high < 0x80; k++) high |= src[k]!;
    }
    if (this.#text && (high >= 0x80 || n > this.#maxChars)) at = this.#slowText(src, start, n);
    this.#pos = at;
    this.#offsets[i + 1] = at;
  }

  /** A non-ASCII or long CHAR value: the checks and bytes of the decoded-string path. */
  #slowText(src: Uint8Array, start: number, n: number): number {
    const view = src.subarray(start, start + n);
    const valid = isUtf8(view);
    if (valid && this.#maxChars === Number.POSITIVE_INFINITY) return this.#pos + n;
    const s = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("utf8");
    toCharString(s, this.#maxChars); // throws ValueMismatch past n code points
    if (valid) return this.#pos + n;
    const bytes = Buffer.from(s, "utf8");
    this.#ensure(bytes.byteLength);
    this.#bytes.set(bytes, this.#pos);
    return this.#pos + bytes.byteLength;
  }

  protected override nullSlot(i: number): void {
    this.#offsets[i + 1] = this.#pos;
  }
  protected growTo(capacity: number, rows: number): void {
    this.#offsets = grown(this.#offsets, (n) => new Int32Array(n), capacity + 1, rows + 1);
  }
  protected buffers(n: number): { data: Uint8Array; valueOffsets: Int32Array } {
    return { data: this.#bytes.subarray(0, this.#pos), valueOffsets: this.#offsets.subarray(0, n + 1) };
  }
  protected release(): void {
    this.#nextBytes = Math.max(1024, this.#pos + (this.#pos >> 2));
    this.#offsets = new Int32Array(1);
    this.#bytes = new Uint8Array(0);
    this.#pos = 0;
  }
}

/** BINARY(n): exactly n bytes per row. */
class FixedSink extends Sink {
  readonly #width: number;
  #bytes = new Uint8Array(0);

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    this.#width = column.type.length ?? 1;
  }

  read(c: RowCursor, i: number): void {
    const n = c.length("bytes");
    const view = c.bytes.subarray(c.pos, c.pos + n);
    c.pos += n;
    if (n !== this.#width) toByteArray(view, this.#width); // throws ValueMismatch
    this.#bytes.set(view, i * this.#width);
  }
  protected growTo(capacity: number, rows: number): void {
    const w = this.#width;
    this.#bytes = grown(this.#bytes, (n) => new Uint8Array(n), capacity * w, rows * w);
  }
  protected buffers(n: number): { data: Uint8Array } {
    return { data: this.#bytes.subarray(0, n * this.#width) };
  }
  protected release(): void {
    this.#bytes = new Uint8Array(0);
  }
}

/** DATE, TIME, TIMESTAMP, DECIMAL: decode the value, convert it with the shared Arrow builder. */
class DecodedSink extends Sink {
  readonly #builder: ArrowBatchBuilder;
  readonly #row: Record<string, unknown> = {};

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    this.#builder = new ArrowBatchBuilder({ columns: [column], primaryKey: [], highestFieldId: column.id });
  }

  read(c: RowCursor, _i: number): void {
    this.#append(this.#decode(c));
  }

  override writeNull(_i: number): void {
    this.#append(null);
  }

  #append(v: unknown): void {
    this.#row[this.column.name] = v;
    try {
      this.#builder.append(this.#row);
    } finally {
      this.#row[this.column.name] = undefined;
    }
  }

  #decode(c: RowCursor): unknown {
    const type = this.column.type;
    switch (type.root) {
      case "DATE":
        return formatDate(c.int());
      case "TIME_WITHOUT_TIME_ZONE":
        return formatTime(c.int(), type.precision ?? 0);
      case "DECIMAL": {
        const scale = type.scale ?? 0;
        if ((type.precision ?? 10) <= DECIMAL_COMPACT_PRECISION_MAX) {
          c.long();
          return formatDecimal((BigInt(c.hi) << 32n) | BigInt(c.lo), scale);
        }
        const n = c.length("bytes");
        if (n === 0) throw corruptRow("empty unscaled decimal bytes");
        const bytes = c.bytes.subarray(c.pos, c.pos + n);
        c.pos += n;
        return formatDecimal(unscaledFromBytes(bytes), scale);
      }
      default: {
        // TIMESTAMP(p) / TIMESTAMP_LTZ(p): as decodeCompactedRow with { timestamps: "bigint" }
        const precision = type.precision ?? 6;
        c.long();
        const epochMs = c.hi * TWO_32 + c.lo;
        const nanoOfMs = precision <= 3 ? 0 : c.int();
        if (nanoOfMs < 0 || nanoOfMs > 999_999)
          throw corruptRow(`nano-of-millisecond ${nanoOfMs} out of range`);
        return timestampPartsToUnits({ epochMs, nanoOfMs }, precision);
      }
    }
  }

  override finish(n: number): Data {
    const batch = this.#builder.build();
    const data = batch.data.children[0]!;
    if (data.length !== n) throw new FlussError(Errors.UNKNOWN_SERVER_ERROR, "column length mismatch");
    return data;
  }

  override clear(): void {
    this.#builder.reset();
  }

  protected growTo(): void {}
  protected buffers(): { data: ArrayBufferView } {
    return { data: new Uint8Array(0) };
  }
  protected release(): void {}
}

export function sinkFor(column: Column, arrowType: ArrowType): Sink {
  switch (column.type.root) {
    case "BOOLEAN":
      return new BoolSink(column, arrowType);
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "FLOAT":
    case "DOUBLE":
      return new NumberSink(column, arrowType);
    case "BIGINT":
      return new BigIntSink(column, arrowType);
    case "STRING":
    case "CHAR":
    case "BYTES":
      return new VarSink(column, arrowType);
    case "BINARY":
      return new FixedSink(column, arrowType);
    default:
      return new DecodedSink(column, arrowType);
  }
}
