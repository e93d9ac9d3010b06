// Column writers of the batch builder for the non-temporal types: each loops over the rows once,
// converts the column's value (accepting the input forms documented on buildRecordBatch) and
// writes it straight into the typed array Arrow will use, then wraps it with makeData.
// Hot paths (safe-integer BIGINT, DOUBLE, ASCII/UTF-8 strings) avoid per-value allocation:
// int64 numbers go in as two int32 halves, strings are encoded into one reused scratch buffer and
// copied once at the end. Invariants: nothing is written for a null slot except zeros (offsets
// repeat), and every refused value raises SCHEMA_MISMATCH before the batch exists.

import type { DataType as ArrowType, Data } from "apache-arrow";
import { Errors, FlussError } from "../errors.ts";
import { makeColumnData } from "./arrow-types.ts";
import { type ColumnInput, INT64_MAX, INT64_MIN, setInt64 } from "./column-input.ts";
import { decodeBase64, digitCount, parseDecimalText, pow10n, writeI128 } from "./values.ts";

const INTEGER_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

function finish(c: ColumnInput, type: ArrowType, data: ArrayBufferView, valueOffsets?: Int32Array): Data {
  const v = c.finish();
  return makeColumnData({ type, length: c.n, ...v, data, ...(valueOffsets ? { valueOffsets } : {}) });
}

export function writeBool(c: ColumnInput, type: ArrowType): Data {
  const { rows, name, n } = c;
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === true) bits[i >> 3]! |= 1 << (i & 7);
    else if (v === null || v === undefined) c.nullAt(i);
    else if (v !== false) throw c.fail(i, "a boolean", v);
  }
  return finish(c, type, bits);
}

type SmallIntArray = Int8Array | Int16Array | Int32Array;

/** TINYINT / SMALLINT / INTEGER: integer number, bigint or integer string, range-checked. */
export function writeSmallInt(
  c: ColumnInput,
  type: ArrowType,
  out: SmallIntArray,
  min: number,
  max: number,
): Data {
  const { rows, name, n } = c;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) out[i] = v;
    else if (v === null || v === undefined) c.nullAt(i);
    else out[i] = smallIntSlow(c, i, v, min, max);
  }
  return finish(c, type, out);
}

function smallIntSlow(c: ColumnInput, i: number, v: unknown, min: number, max: number): number {
  let x: number | undefined;
  if (typeof v === "number" && Number.isInteger(v)) x = v;
  else if (typeof v === "bigint") x = v >= BigInt(min) && v <= BigInt(max) ? Number(v) : Number.NaN;
  else if (typeof v === "string" && INTEGER_RE.test(v.trim())) x = Number(v.trim());
  if (x === undefined) throw c.fail(i, "an integer", v);
  if (!(x >= min && x <= max)) throw c.fail(i, `an integer in [${min}, ${max}]`, v, "out of range");
  return x;
}

/** BIGINT: bigint, safe-integer number or integer string. */
export function writeBigInt(c: ColumnInput, type: ArrowType): Data {
  const { rows, name, n } = c;
  const out = new BigInt64Array(n);
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (typeof v === "number" && Number.isSafeInteger(v)) setInt64(halves, i, v);
    else if (v === null || v === undefined) c.nullAt(i);
    else out[i] = bigIntSlow(c, i, v);
  }
  return finish(c, type, out);
}

function bigIntSlow(c: ColumnInput, i: number, v: unknown): bigint {
  let x: bigint | undefined;
  if (typeof v === "bigint") x = v;
  else if (typeof v === "string" && INTEGER_RE.test(v.trim())) x = BigInt(v.trim());
  else if (typeof v === "number" && Number.isInteger(v)) {
    throw c.fail(
      i,
      "a bigint or a safe integer",
      v,
      "beyond 2^53 a number loses digits; pass a bigint or a string",
    );
  }
  if (x === undefined) throw c.fail(i, "an integer (bigint, number or string)", v);
  if (x < INT64_MIN || x > INT64_MAX) throw c.fail(i, "a 64-bit integer", v, "out of range");
  return x;
}

/** FLOAT / DOUBLE: number or numeric string. */
export function writeFloat(c: ColumnInput, type: ArrowType, out: Float32Array | Float64Array): Data {
  const { rows, name, n } = c;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (typeof v === "number") out[i] = v;
    else if (v === null || v === undefined) c.nullAt(i);
    else if (typeof v === "string" && FLOAT_RE.test(v.trim())) out[i] = Number(v.trim());
    else throw c.fail(i, "a number", v);
  }
  return finish(c, type, out);
}

/** DECIMAL(p, s): decimal string, number or bigint; stored as 128-bit unscaled values. */
export function writeDecimal(c: ColumnInput, type: ArrowType, precision: number, scale: number): Data {
  const { rows, name, n } = c;
  const out = new Uint32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) c.nullAt(i);
    else writeI128(out, 4 * i, unscaledOf(c, i, v, precision, scale));
  }
  return finish(c, type, out);
}

function unscaledOf(c: ColumnInput, i: number, v: unknown, precision: number, scale: number): bigint {
  const expected = `a decimal (string, number or bigint) fitting DECIMAL(${precision}, ${scale})`;
  let unscaled: bigint;
  if (typeof v === "bigint") unscaled = v * pow10n(scale);
  else if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "string") {
    try {
      unscaled = parseDecimalText(String(v), scale);
    } catch (err) {
      throw c.fail(i, expected, v, (err as Error).message);
    }
  } else throw c.fail(i, expected, v);
  if (digitCount(unscaled) > precision) {
    throw c.fail(i, expected, v, `more than ${precision} significant digits`);
  }
  return unscaled;
}

// ---- variable-width: STRING / CHAR / BYTES, and BINARY(n) ------------------------------------

let scratch = Buffer.allocUnsafe(1 << 16);

function ensureScratch(pos: number, extra: number): void {
  if (pos + extra <= scratch.length) return;
  const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + extra));
  scratch.copy(next, 0, 0, pos);
  scratch = next;
}

function takeScratch(pos: number): Uint8Array {
  if (pos > 0x7fffffff) throw new FlussError(Errors.RECORD_TOO_LARGE_EXCEPTION, "column data exceeds 2 GiB");
  const out = Buffer.allocUnsafe(pos);
  scratch.copy(out, 0, 0, pos);
  return out;
}

function codePoints(s: string): number {
  let count = 0;
  for (let j = 0; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code >= 0xd800 && code <= 0xdbff && j + 1 < s.length) {
      const next = s.charCodeAt(j + 1);
      if (next >= 0xdc00 && next <= 0xdfff) j++;
    }
    count++;
  }
  return count;
}

/** STRING and CHAR(n) (length ≤ n characters; no padding). */
export function writeUtf8(c: ColumnInput, type: ArrowType, maxChars: number): Data {
  const { rows, name, n } = c;
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (typeof v === "string") {
      if (v.length > maxChars && codePoints(v) > maxChars) {
        throw c.fail(i, `at most ${maxChars} characters`, v, `${codePoints(v)} characters`);
      }
      if (pos + v.length * 3 > scratch.length) ensureScratch(pos, v.length * 3);
      pos += scratch.write(v, pos);
    } else if (v === null || v === undefined) c.nullAt(i);
    else throw c.fail(i, "a string", v);
    offsets[i + 1] = pos;
  }
  return finish(c, type, takeScratch(pos), offsets);
}

function bytesOf(c: ColumnInput, i: number, v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") {
    const bytes = decodeBase64(v);
    if (bytes !== undefined) return bytes;
    throw c.fail(i, what, v, "not valid base64");
  }
  throw c.fail(i, what, v);
}

/** BYTES: Uint8Array or base64 string. */
export function writeBinary(c: ColumnInput, type: ArrowType): Data {
  const { rows, name, n } = c;
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) c.nullAt(i);
    else {
      const bytes = bytesOf(c, i, v, "bytes (Uint8Array or base64 string)");
      ensureScratch(pos, bytes.byteLength);
      scratch.set(bytes, pos);
      pos += bytes.byteLength;
    }
    offsets[i + 1] = pos;
  }
  return finish(c, type, takeScratch(pos), offsets);
}

/** BINARY(n): Uint8Array or base64 string of exactly n bytes. */
export function writeFixedBinary(c: ColumnInput, type: ArrowType, width: number): Data {
  const { rows, name, n } = c;
  const out = new Uint8Array(n * width);
  const what = `exactly ${width} bytes (Uint8Array or base64 string)`;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) {
      c.nullAt(i);
      continue;
    }
    const bytes = bytesOf(c, i, v, what);
    if (bytes.byteLength !== width) throw c.fail(i, what, v, `${bytes.byteLength} bytes`);
    out.set(bytes, i * width);
  }
  return finish(c, type, out);
}
