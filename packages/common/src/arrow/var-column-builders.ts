// Growable column buffers for STRING / CHAR(n) and BYTES (Int32 offsets + one growing byte
// buffer) and BINARY(n) (n bytes per row), for the Arrow batch builder. Strings are UTF-8 encoded
// straight into the byte buffer (Buffer#write: measured faster than TextEncoder.encodeInto, which
// needs a subarray per value); the buffer doubles when a value might not fit (3 bytes per UTF-16
// unit is the worst case).
// Invariants: offsets[0] = 0 and offsets[i + 1] = end of row i; a null row repeats the previous
// offset; `truncate(i)` rewinds the byte position to offsets[i]; the byte length of a column
// stays below 2 GiB (Arrow's Int32 offsets), else RECORD_TOO_LARGE_EXCEPTION. See
// column-builder.ts for the slot invariants every column keeps.

import type { DataType as ArrowType } from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import type { Column } from "../schema.ts";
import { toByteArray, toCharString } from "../values/text.ts";
import { ColumnBuilder, grown } from "./column-builder.ts";
import { pad8 } from "./ipc.ts";

const MAX_BYTES = 0x7fffffff;
const MIN_DATA_BYTES = 1024;

/** Offsets + bytes, shared by STRING / CHAR and BYTES. */
abstract class VarBuilder extends ColumnBuilder {
  protected offsets = new Int32Array(1);
  protected bytes: Buffer = Buffer.alloc(0);
  protected pos = 0;
  #nextDataBytes = MIN_DATA_BYTES;

  override writeNull(i: number): void {
    this.validity.setNull(i);
    this.offsets[i + 1] = this.pos;
  }

  /** Make room for `extra` more bytes at `pos`. */
  protected ensureBytes(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.bytes.length) return;
    if (need > MAX_BYTES) {
      throw new FlussError(
        Errors.RECORD_TOO_LARGE_EXCEPTION,
        `column '${this.name}': more than 2 GiB of data in one batch`,
      );
    }
    const size = Math.min(MAX_BYTES, Math.max(this.bytes.length * 2, need, this.#nextDataBytes));
    const next = Buffer.allocUnsafeSlow(size);
    this.bytes.copy(next, 0, 0, this.pos);
    this.bytes = next;
  }

  protected clearSlot(i: number): void {
    this.pos = this.offsets[i]!;
    this.offsets[i + 1] = 0;
  }
  protected growTo(capacity: number, rows: number): void {
    this.offsets = grown(this.offsets, (s) => new Int32Array(s), capacity + 1, rows + 1);
  }
  protected bodyBytes(n: number): number {
    return pad8(4 * (n + 1)) + pad8(this.pos);
  }
  protected buffers(n: number): { data: Uint8Array; valueOffsets: Int32Array } {
    return { data: this.bytes.subarray(0, this.pos), valueOffsets: this.offsets.subarray(0, n + 1) };
  }
  protected release(): void {
    this.#nextDataBytes = Math.max(MIN_DATA_BYTES, this.pos + (this.pos >> 2));
    this.offsets = new Int32Array(1);
    this.bytes = Buffer.alloc(0);
    this.pos = 0;
  }
}

/** STRING (maxChars = Infinity) and CHAR(n) (at most n characters; no padding). */
export class Utf8Builder extends VarBuilder {
  readonly #maxChars: number;

  constructor(column: Column, arrowType: ArrowType, maxChars: number) {
    super(column, arrowType);
    this.#maxChars = maxChars;
  }

  write(v: unknown, i: number): void {
    const s = typeof v === "string" && v.length <= this.#maxChars ? v : toCharString(v, this.#maxChars);
    const worst = 3 * s.length;
    if (this.pos + worst > this.bytes.length) {
      this.ensureBytes(this.pos + worst > MAX_BYTES ? Buffer.byteLength(s) : worst);
    }
    this.pos += this.bytes.write(s, this.pos);
    this.offsets[i + 1] = this.pos;
  }
}

/** BYTES: Uint8Array or base64 string. */
export class BinaryBuilder extends VarBuilder {
  write(v: unknown, i: number): void {
    const bytes = toByteArray(v);
    this.ensureBytes(bytes.byteLength);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.byteLength;
    this.offsets[i + 1] = this.pos;
  }
}

/** BINARY(n): Uint8Array or base64 string of exactly n bytes, n bytes per row. */
export class FixedBinaryBuilder extends ColumnBuilder {
  readonly #width: number;
  #bytes = new Uint8Array(0);

  constructor(column: Column, arrowType: ArrowType) {
    super(column, arrowType);
    this.#width = column.type.length ?? 1;
  }

  write(v: unknown, i: number): void {
    this.#bytes.set(toByteArray(v, this.#width), i * this.#width);
  }
  protected clearSlot(i: number): void {
    this.#bytes.fill(0, i * this.#width, (i + 1) * this.#width);
  }
  protected growTo(capacity: number, rows: number): void {
    const width = this.#width;
    this.#bytes = grown(this.#bytes, (s) => new Uint8Array(s), capacity * width, rows * width);
  }
  protected bodyBytes(n: number): number {
    return pad8(n * this.#width);
  }
  protected buffers(n: number): { data: Uint8Array } {
    return { data: this.#bytes.subarray(0, n * this.#width) };
  }
  protected release(): void {
    this.#bytes = new Uint8Array(0);
  }
}
