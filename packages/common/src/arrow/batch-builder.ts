// Build Arrow RecordBatches from JS row objects (column name → value) for a fluss schema.
// `ArrowBatchBuilder` is incremental and row-major (the client writer's hot path): `append`
// validates one row and writes each value straight into growable column buffers (see
// column-builder.ts, var-column-builders.ts, temporal-column-builders.ts); `build` hands the
// buffers out as a RecordBatch and leaves the builder empty and reusable. `buildRecordBatch` is
// the one-shot form over an array of rows.
// Invariants: a key that is not a column name, a value of the wrong form, a null in a NOT NULL
// column each raise SCHEMA_MISMATCH naming the column (and the row's index in the batch); a
// missing key is a null. `append` is all-or-nothing: a refused row leaves the builder exactly as
// it was. A built batch's schema is toArrowSchema(schema) (the cached instance) and is never
// written to again (the next row goes into fresh buffers).

import {
  type Schema as ArrowSchema,
  type DataType as ArrowType,
  type Data,
  makeData,
  RecordBatch,
} from "apache-arrow";
import { Errors, FlussError, invalidArgument } from "../errors.ts";
import type { Column, Schema } from "../schema.ts";
import { describeValue, mismatchError, ValueMismatch } from "../values/mismatch.ts";
import { structTypeOf, toArrowSchema } from "./arrow-types.ts";
import {
  BigIntBuilder,
  BoolBuilder,
  type ColumnBuilder,
  DecimalBuilder,
  FloatBuilder,
  IntBuilder,
} from "./column-builder.ts";
import { DateBuilder, TimeBuilder, TimestampBuilder } from "./temporal-column-builders.ts";
import { BinaryBuilder, FixedBinaryBuilder, Utf8Builder } from "./var-column-builders.ts";

/** An input row: column name → value. */
export type InputRow = Readonly<Record<string, unknown>>;

const MIN_CAPACITY = 64;

function columnBuilderFor(column: Column, type: ArrowType): ColumnBuilder {
  const t = column.type;
  switch (t.root) {
    case "BOOLEAN":
      return new BoolBuilder(column, type);
    case "TINYINT":
      return new IntBuilder(column, type, (n) => new Int8Array(n), -128, 127);
    case "SMALLINT":
      return new IntBuilder(column, type, (n) => new Int16Array(n), -32768, 32767);
    case "INTEGER":
      return new IntBuilder(column, type, (n) => new Int32Array(n), -2147483648, 2147483647);
    case "BIGINT":
      return new BigIntBuilder(column, type);
    case "FLOAT":
      return new FloatBuilder(column, type, (n) => new Float32Array(n));
    case "DOUBLE":
      return new FloatBuilder(column, type, (n) => new Float64Array(n));
    case "DECIMAL":
      return new DecimalBuilder(column, type);
    case "STRING":
      return new Utf8Builder(column, type, Number.POSITIVE_INFINITY);
    case "CHAR":
      return new Utf8Builder(column, type, t.length ?? 1);
    case "BYTES":
      return new BinaryBuilder(column, type);
    case "BINARY":
      return new FixedBinaryBuilder(column, type);
    case "DATE":
      return new DateBuilder(column, type);
    case "TIME_WITHOUT_TIME_ZONE":
      return new TimeBuilder(column, type);
    case "TIMESTAMP_WITHOUT_TIME_ZONE":
    case "TIMESTAMP_WITH_LOCAL_TIME_ZONE":
      return new TimestampBuilder(column, type);
  }
}

/**
 * Incremental builder of the RecordBatch of one log batch. Accepted values per column type:
 * - BOOLEAN: boolean
 * - TINYINT / SMALLINT / INTEGER: integer number, bigint or integer string (range-checked)
 * - BIGINT: bigint, safe-integer number or integer string
 * - FLOAT / DOUBLE: number or numeric string
 * - DECIMAL(p, s): string ("123.45"), number or bigint; at most s fraction digits, p digits
 * - STRING: string; CHAR(n): string of at most n characters
 * - BYTES: Uint8Array or base64 string; BINARY(n): the same, exactly n bytes
 * - DATE: "YYYY-MM-DD", Date or days since epoch
 * - TIME(p): "HH:MM:SS[.fffffffff]" or milliseconds of the day
 * - TIMESTAMP(p) / TIMESTAMP_LTZ(p): Date, ISO-8601 string, epoch ms number or bigint in the
 *   column's unit (second / milli / micro / nano by precision)
 * null or a missing key is null (refused for NOT NULL columns). The row formats (COMPACTED,
 * INDEXED) accept exactly the same values: the converters are shared (../values/). Only
 * TIMESTAMP(7..9) has a narrower range here: Arrow holds int64 nanoseconds (years 1677 to 2262).
 * A builder serves one caller at a time (not reentrant); `sizeBytes` is cheap enough (~20 ns for
 * 5 columns) to check after every append, e.g. to close a batch at ~2 MiB.
 */
export class ArrowBatchBuilder {
  readonly schema: Schema;
  readonly #columns: readonly ColumnBuilder[];
  readonly #known: Readonly<Record<string, true>>;
  /** Keys of recent rows, by position, already checked to be column names. */
  readonly #checkedKeys: (string | undefined)[];
  #rows = 0;
  #capacity = 0;
  #nextCapacity = MIN_CAPACITY;

  constructor(schema: Schema) {
    this.schema = schema;
    const fields = toArrowSchema(schema).fields;
    this.#columns = schema.columns.map((c, i) => columnBuilderFor(c, fields[i]!.type));
    const known: Record<string, true> = Object.create(null);
    for (const c of schema.columns) known[c.name] = true;
    this.#known = known;
    this.#checkedKeys = new Array<string | undefined>(schema.columns.length).fill(undefined);
  }

  /** Rows appended since the last build / reset. */
  get rowCount(): number {
    return this.#rows;
  }

  /**
   * Bytes the column buffers of the appended rows take, exactly the body of their uncompressed
   * IPC message (each buffer padded to 8 bytes; a validity bitmap only for columns with nulls).
   */
  get sizeBytes(): number {
    let n = 0;
    for (const c of this.#columns) n += c.sizeBytes(this.#rows);
    return n;
  }

  /** Validate `row` and append it; on SCHEMA_MISMATCH the builder is left unchanged. */
  append(row: InputRow): void {
    const i = this.#rows;
    this.#checkKeys(row, i);
    if (i === this.#capacity) this.#grow();
    const columns = this.#columns;
    let c = 0;
    try {
      for (; c < columns.length; c++) {
        const col = columns[c]!;
        const v = row[col.name];
        if (v === null || v === undefined) col.writeNull(i);
        else col.write(v, i);
      }
    } catch (err) {
      for (let k = 0; k <= c && k < columns.length; k++) columns[k]!.truncate(i);
      if (!(err instanceof ValueMismatch)) throw err;
      throw mismatchError(columns[c]!.name, columns[c]!.column.type, err, i);
    }
    this.#rows = i + 1;
  }

  /** Make room for `rows` more rows now (a hint: append grows the buffers anyway). */
  reserve(rows: number): void {
    if (!Number.isSafeInteger(rows) || rows < 0) {
      throw invalidArgument(`reserve takes a non-negative integer row count, got ${rows}`);
    }
    const capacity = this.#rows + rows;
    if (capacity <= this.#capacity) return;
    for (const c of this.#columns) c.reserve(capacity, this.#rows);
    this.#capacity = capacity;
  }

  /** The appended rows as a RecordBatch; the builder is then empty (and writes fresh buffers). */
  build(): RecordBatch {
    const n = this.#rows;
    const arrowSchema = toArrowSchema(this.schema);
    const children: Data[] = this.#columns.map((c) => c.finish(n));
    this.#restart(n);
    const data = makeData({ type: structTypeOf(arrowSchema), length: n, nullCount: 0, children });
    const batch = new RecordBatch(arrowSchema, data);
    // apache-arrow's constructor clones the schema (and its fields); keep the cached instance so
    // batches of one table compare schemas by identity. Lengths always agree, nothing else changes.
    const writable = batch as { schema: ArrowSchema; data: typeof data };
    writable.schema = arrowSchema;
    writable.data = data;
    return batch;
  }

  /** Drop the appended rows without building. */
  reset(): void {
    for (const c of this.#columns) c.reset();
    this.#restart(this.#rows);
  }

  #restart(rows: number): void {
    this.#nextCapacity = Math.max(MIN_CAPACITY, rows + (rows >> 2));
    this.#rows = 0;
    this.#capacity = 0;
  }

  #grow(): void {
    const capacity = this.#capacity === 0 ? this.#nextCapacity : this.#capacity * 2;
    for (const c of this.#columns) c.reserve(capacity, this.#rows);
    this.#capacity = capacity;
  }

  /** Every key of `row` must be a column name (keys seen at the same position before pass fast). */
  #checkKeys(row: InputRow, i: number): void {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new FlussError(Errors.SCHEMA_MISMATCH, `row ${i}: expected an object, got ${describeValue(row)}`);
    }
    const checked = this.#checkedKeys;
    let j = 0;
    for (const k in row) {
      if (checked[j] !== k) {
        if (this.#known[k] !== true) throw this.#unknownColumn(k, i);
        if (j < checked.length) checked[j] = k;
      }
      j++;
    }
  }

  #unknownColumn(key: string, i: number): FlussError {
    const names = this.schema.columns.map((c) => c.name).join(", ");
    return new FlussError(Errors.SCHEMA_MISMATCH, `row ${i}: unknown column '${key}' (columns: ${names})`);
  }
}

interface OneShot {
  readonly builder: ArrowBatchBuilder;
  busy: boolean;
}

// One builder per schema for buildRecordBatch, so its buffer sizes adapt to the batches built
// (no regrowth from scratch on every call). `busy` guards against reentry (a getter on a row
// calling buildRecordBatch again): the inner call then uses a builder of its own.
const oneShots = new WeakMap<Schema, OneShot>();

/** A RecordBatch holding `rows` for `schema` (values as ArrowBatchBuilder accepts them). */
export function buildRecordBatch(schema: Schema, rows: readonly InputRow[]): RecordBatch {
  let shot = oneShots.get(schema);
  if (shot === undefined || shot.busy) {
    shot = { builder: new ArrowBatchBuilder(schema), busy: false };
    if (!oneShots.has(schema)) oneShots.set(schema, shot);
  }
  const { builder } = shot;
  shot.busy = true;
  try {
    builder.reserve(rows.length);
    for (let i = 0; i < rows.length; i++) builder.append(rows[i]!);
    return builder.build();
  } catch (err) {
    builder.reset();
    throw err;
  } finally {
    shot.busy = false;
  }
}
