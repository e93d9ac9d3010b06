// Arrow batches between the Fluss log and the lake files. `toLakeBatch` turns a scanned log batch
// (Fluss's Arrow types) into a lake batch (the Iceberg-compatible types of lake-schema.ts plus the
// system columns `__bucket`, `__offset` = base offset + row, `__timestamp` = the batch's commit
// time in microseconds); `toFlussBatch` turns lake data back into Fluss's Arrow types, so lake rows
// and log rows reach a reader in one form. Columns whose types already agree are shared, not
// copied; integer widening and time-unit changes copy one typed array.
// Invariant: toFlussBatch(toLakeBatch(b)) holds the same values as b for every type whose lake
// form is lossless (all but TIME/TIMESTAMP finer than microseconds, which are cut).

import { type Column, toArrowType } from "@fluss-ts/common";
import {
  type Schema as ArrowSchema,
  type DataType as ArrowType,
  type Data,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Struct,
  TimestampMicrosecond,
  Type,
} from "apache-arrow";
import type { LakeLayout } from "./iceberg/lake-schema.ts";
import { lakeColumnsError } from "./lake-errors.ts";

/** Units of a time or timestamp Arrow type per second. */
function unitsPerSecond(t: ArrowType): number {
  const unit = (t as unknown as { unit: number }).unit;
  return [1, 1e3, 1e6, 1e9][unit] ?? 1;
}

function validityCopy(d: Data): Uint8Array | undefined {
  if (d.nullCount === 0 || !d.nullBitmap) return undefined;
  if (d.offset === 0) return d.nullBitmap;
  const out = new Uint8Array(Math.ceil(d.length / 8));
  for (let i = 0; i < d.length; i++) if (d.getValid(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** One column's data converted from its Arrow type to `to` (only integer widths and time units change). */
export function convertData(d: Data, to: ArrowType): Data {
  const from = d.type as ArrowType;
  if (sameArrowType(from, to)) return d;
  const n = d.length;
  const nullBitmap = validityCopy(d);
  const src = d.values as ArrayLike<number | bigint>;
  const base = d.offset;
  const common = { type: to, length: n, nullCount: d.nullCount, nullBitmap };
  if (to.typeId === Type.Int && from.typeId === Type.Int) {
    const bits = (to as unknown as { bitWidth: number }).bitWidth;
    const out = bits === 8 ? new Int8Array(n) : bits === 16 ? new Int16Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(src[base + i]);
    return makeData({ ...common, type: to as Int32, data: out as Int32Array });
  }
  if ((to.typeId === Type.Timestamp || to.typeId === Type.Time) && from.typeId === to.typeId) {
    const f = unitsPerSecond(from);
    const t = unitsPerSecond(to);
    const toBits = to.typeId === Type.Time ? (to as unknown as { bitWidth: number }).bitWidth : 64;
    if (toBits === 64) {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = rescale(BigInt(src[base + i]!), f, t);
      return makeData({ ...common, type: to as TimestampMicrosecond, data: out });
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(rescale(BigInt(src[base + i]!), f, t));
    return makeData({ ...common, type: to as Int32, data: out } as never);
  }
  throw lakeColumnsError(`cannot convert Arrow ${String(from)} to ${String(to)}`);
}

function rescale(v: bigint, fromPerSec: number, toPerSec: number): bigint {
  if (fromPerSec === toPerSec) return v;
  if (toPerSec > fromPerSec) return v * BigInt(toPerSec / fromPerSec);
  const div = BigInt(fromPerSec / toPerSec);
  const q = v / div;
  return v < 0n && q * div !== v ? q - 1n : q; // floor
}

function sameArrowType(a: ArrowType, b: ArrowType): boolean {
  if (a.typeId !== b.typeId) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k of ["bitWidth", "unit", "precision", "scale", "byteWidth"]) if (x[k] !== y[k]) return false;
  return (x.timezone ?? null) === (y.timezone ?? null) || a.typeId !== Type.Timestamp;
}

function batchOf(schema: ArrowSchema, children: Data[], length: number): RecordBatch {
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }),
  );
}

/** A scanned log batch (all columns of the Fluss schema, in order) as a lake batch. */
export function toLakeBatch(
  layout: LakeLayout,
  batch: RecordBatch,
  bucket: number,
  baseOffset: bigint,
  commitTimestampMs: number,
  offsetsDense = true,
): RecordBatch {
  const n = batch.numRows;
  const children: Data[] = layout.dataColumns.map((c, i) =>
    convertData(batch.data.children[i]!, c.arrowType),
  );
  const buckets = new Int32Array(n).fill(bucket);
  const offsets = new BigInt64Array(n);
  // Log records have consecutive offsets; rows of a KV snapshot all carry the same stand-in.
  for (let i = 0; i < n; i++) offsets[i] = offsetsDense ? baseOffset + BigInt(i) : baseOffset;
  const ts = new BigInt64Array(n).fill(BigInt(commitTimestampMs) * 1000n);
  children.push(
    makeData({ type: new Int32(), length: n, nullCount: 0, data: buckets }),
    makeData({ type: new Int64(), length: n, nullCount: 0, data: offsets }),
    makeData({ type: new TimestampMicrosecond("UTC"), length: n, nullCount: 0, data: ts }),
  );
  return batchOf(layout.arrowSchema, children, n);
}

/**
 * Lake data (some of the lake columns, by name) in Fluss's Arrow types for `columns`; system
 * columns are not part of the result.
 */
export function toFlussBatch(
  lake: RecordBatch,
  columns: readonly Column[],
  schema: ArrowSchema,
): RecordBatch {
  const children = columns.map((c) => {
    const idx = lake.schema.fields.findIndex((f) => f.name === c.name);
    if (idx < 0) throw lakeColumnsError(`lake file has no column '${c.name}'`);
    return convertData(lake.data.children[idx]!, toArrowType(c.type));
  });
  return batchOf(schema, children, lake.numRows);
}
