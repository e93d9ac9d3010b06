// Arrow columns straight from COMPACTED rows: `CompactedArrowBuilder` appends whole compacted rows
// (all columns of a schema) and builds the RecordBatch that ArrowBatchBuilder would build from the
// same rows decoded with `{ timestamps: "bigint" }` — without the JS values in between on the hot
// types: integers (BIGINT as two int32 words, no bigint), floats, booleans, STRING / CHAR / BYTES /
// BINARY bytes copied as they are. DATE, TIME, TIMESTAMP and DECIMAL columns decode their value
// and hand it to a one-column ArrowBatchBuilder, so their conversions stay the shared ones.
// Equivalence with decode + ArrowBatchBuilder: a STRING that is not valid UTF-8 is decoded and
// re-encoded (U+FFFD replacements, as the JS string round trip does); CHAR(n) refuses more than n
// code points and BINARY(n) any other length, with the builder's messages. Conversion failures
// (SCHEMA_MISMATCH) are deferred: the first one, in row-major order, is thrown by build(), as the
// row-object path only fails when the batch is built; malformed bytes (CORRUPT_RECORD_EXCEPTION)
// are thrown by append at once.
// Invariants: a built batch's schema is toArrowSchema(schema) (the cached instance); build() leaves
// the builder empty; the built buffers are never written again.

import { type Schema as ArrowSchema, type Data, makeData, RecordBatch } from "apache-arrow";
import { structTypeOf, toArrowSchema } from "../arrow/arrow-types.ts";
import { Errors, type FlussError, isFlussError } from "../errors.ts";
import type { Schema } from "../schema.ts";
import { mismatchError, ValueMismatch } from "../values/mismatch.ts";
import { type Sink, sinkFor } from "./compacted-arrow-sinks.ts";
import { RowCursor } from "./compacted-scan.ts";

const MIN_CAPACITY = 64;

/** Builds the RecordBatch of a list of COMPACTED rows of one schema; see the file comment. */
export class CompactedArrowBuilder {
  readonly schema: Schema;
  readonly #sinks: readonly Sink[];
  readonly #cursor = new RowCursor();
  #rows = 0;
  #capacity = 0;
  #nextCapacity = MIN_CAPACITY;
  #failure: FlussError | null = null;

  constructor(schema: Schema) {
    this.schema = schema;
    const fields = toArrowSchema(schema).fields;
    this.#sinks = schema.columns.map((c, i) => sinkFor(c, fields[i]!.type));
  }

  get rowCount(): number {
    return this.#rows;
  }

  /** Append one COMPACTED row (a view is fine: its bytes are copied before append returns). */
  append(row: Uint8Array): void {
    const c = this.#cursor;
    const sinks = this.#sinks;
    const n = sinks.length;
    c.start(row, n);
    if (this.#failure !== null) {
      this.#skipFrom(0);
      return;
    }
    const i = this.#rows;
    if (i === this.#capacity) this.#grow();
    for (let k = 0; k < n; k++) {
      const sink = sinks[k]!;
      if (sink.column.type.nullable && c.isNullAt(k)) {
        sink.writeNull(i);
        continue;
      }
      try {
        sink.read(c, i);
      } catch (err) {
        if (err instanceof ValueMismatch)
          this.#failure = mismatchError(sink.column.name, sink.column.type, err, i);
        else if (isFlussError(err) && err.is(Errors.SCHEMA_MISMATCH)) this.#failure = err;
        else throw err;
        this.#skipFrom(k + 1);
        return;
      }
    }
    c.finish(n);
    this.#rows = i + 1;
  }

  /** After a deferred failure rows are only validated. */
  #skipFrom(k: number): void {
    const c = this.#cursor;
    const sinks = this.#sinks;
    for (; k < sinks.length; k++) {
      const type = sinks[k]!.column.type;
      if (!(type.nullable && c.isNullAt(k))) c.skip(type);
    }
    c.finish(sinks.length);
  }

  #grow(): void {
    const capacity = this.#capacity === 0 ? this.#nextCapacity : this.#capacity * 2;
    for (const s of this.#sinks) s.grow(capacity, this.#rows);
    this.#capacity = capacity;
  }

  /** The appended rows as a RecordBatch (or the first deferred SCHEMA_MISMATCH); then empty. */
  build(): RecordBatch {
    const failure = this.#failure;
    if (failure !== null) {
      this.reset();
      throw failure;
    }
    const n = this.#rows;
    const arrowSchema = toArrowSchema(this.schema);
    const children: Data[] = this.#sinks.map((s) => s.finish(n));
    this.#restart(n);
    const data = makeData({ type: structTypeOf(arrowSchema), length: n, nullCount: 0, children });
    const batch = new RecordBatch(arrowSchema, data);
    // As ArrowBatchBuilder.build: keep the cached schema instance (RecordBatch clones it).
    const writable = batch as { schema: ArrowSchema; data: typeof data };
    writable.schema = arrowSchema;
    writable.data = data;
    return batch;
  }

  /** Drop the appended rows (and any deferred failure). */
  reset(): void {
    for (const s of this.#sinks) s.clear();
    this.#failure = null;
    this.#restart(this.#rows);
  }

  #restart(rows: number): void {
    this.#nextCapacity = Math.max(MIN_CAPACITY, rows + (rows >> 2));
    this.#rows = 0;
    this.#capacity = 0;
  }
}
