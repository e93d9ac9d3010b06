// The changelog of a primary-key table as log batches: building the one ARROW batch a KV write
// produces (non-append-only, a change-type byte per record, the KV batch's writer id and
// sequence; an empty batch when the write changed nothing), and decoding log batches back into
// (offset, change type, row) for recovery.
// Records are added as COMPACTED row bytes (the incoming row, the stored one, or a merged row
// encoded for the store) and go straight into Arrow column buffers (CompactedArrowBuilder), so
// the hot path never builds JS rows. Decoding reads Arrow TIMESTAMP columns as bigints in the
// column's unit, so a replayed row re-encodes to exactly the stored bytes.
// Invariant: a decoded record's offset is its batch's base offset plus its index.

import {
  buildArrowLogBatch,
  ChangeType,
  type Column,
  CompactedArrowBuilder,
  decodeArrowLogBatch,
  type IpcCompression,
  readRows,
  type Schema,
  splitBatches,
} from "@fluss-ts/common";
import type { Row } from "./types.ts";

/** Collects the records of one write's changelog, in offset order; reused write after write. */
export class ChangelogBuilder {
  private readonly schema: Schema;
  private readonly arrow: CompactedArrowBuilder;
  private changeTypes = new Uint8Array(1024);
  private n = 0;

  constructor(schema: Schema) {
    this.schema = schema;
    this.arrow = new CompactedArrowBuilder(schema);
  }

  get count(): number {
    return this.n;
  }

  /** Start a new changelog (drops whatever a failed write left). */
  begin(): void {
    this.arrow.reset();
    this.n = 0;
  }

  /** One record: its change type and COMPACTED row (copied before add returns). */
  add(changeType: number, row: Uint8Array): void {
    this.arrow.append(row);
    if (this.n === this.changeTypes.length) {
      const next = new Uint8Array(this.n * 2);
      next.set(this.changeTypes);
      this.changeTypes = next;
    }
    this.changeTypes[this.n++] = changeType;
  }

  build(o: {
    schemaId: number;
    compression: IpcCompression;
    writerId: bigint;
    batchSequence: number;
  }): Uint8Array {
    const recordBatch = this.arrow.build();
    const n = this.n;
    this.n = 0;
    return buildArrowLogBatch({
      schema: this.schema,
      schemaId: o.schemaId,
      recordBatch,
      changeTypes: this.changeTypes.subarray(0, n),
      compression: o.compression,
      writerId: o.writerId,
      batchSequence: o.batchSequence,
    });
  }
}

export interface ChangelogRecord {
  readonly offset: bigint;
  readonly changeType: number;
  readonly row: Row;
}

export interface ChangelogBatch {
  readonly baseOffset: bigint;
  /** The offset after the batch (base + last offset delta + 1). */
  readonly nextOffset: bigint;
  readonly schemaId: number;
  readonly records: readonly ChangelogRecord[];
}

interface TimestampData {
  readonly values: BigInt64Array;
  readonly nullCount: number;
  readonly nullBitmap: Uint8Array | null | undefined;
  readonly offset: number;
}

function isTimestamp(c: Column): boolean {
  return c.type.root === "TIMESTAMP_WITHOUT_TIME_ZONE" || c.type.root === "TIMESTAMP_WITH_LOCAL_TIME_ZONE";
}

function rawTimestamp(data: TimestampData, i: number): bigint | null {
  if (data.nullCount > 0 && data.nullBitmap) {
    const bit = data.offset + i;
    if (((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 0) return null;
  }
  return data.values[i]!;
}

/** The records of one ARROW changelog batch as decoded rows (all columns of `schema`). */
function decodeOne(bytes: Uint8Array, schema: Schema): ChangelogBatch {
  const decoded = decodeArrowLogBatch(bytes, schema.columns);
  const h = decoded.header;
  const objects = readRows(decoded.recordBatch, schema.columns);
  const children = decoded.recordBatch.data.children as unknown as readonly TimestampData[];
  const records: ChangelogRecord[] = objects.map((obj, i) => ({
    offset: h.baseOffset + BigInt(i),
    changeType: decoded.changeTypes === null ? ChangeType.APPEND_ONLY : decoded.changeTypes[i]!,
    row: schema.columns.map((c, k) => (isTimestamp(c) ? rawTimestamp(children[k]!, i) : obj[c.name])),
  }));
  return {
    baseOffset: h.baseOffset,
    nextOffset: h.baseOffset + BigInt(h.lastOffsetDelta) + 1n,
    schemaId: h.schemaId,
    records,
  };
}

/** Decode the whole batches of a log read (a trailing partial batch is ignored). */
export function decodeChangelog(records: Uint8Array, schema: Schema): ChangelogBatch[] {
  return splitBatches(records, { verifyCrc: true, allowPartialTail: true }).map((s) =>
    decodeOne(s.bytes, schema),
  );
}
