// The payload of an append batch: rows written straight into Arrow column buffers, serialised as
// one Fluss log batch (Arrow IPC body, compressed per the table's options; with column statistics
// per `table.statistics.columns`, so readers' filters can skip it).
// bytesBound(row) is an upper bound of the bytes a row adds to the column buffers (its sizeBytes
// growth), computed without encoding: per column at most 16 value bytes plus 16 for a validity
// byte, offsets and padding to 8 bytes, plus BINARY(n)'s n bytes, plus the value bytes of STRING /
// CHAR (3 per UTF-16 unit for short strings, the exact UTF-8 length for long ones) and BYTES
// (the array's length, or the base64 text's length, more than it decodes to).

import {
  ArrowBatchBuilder,
  buildArrowLogBatch,
  Errors,
  FlussError,
  type IpcCompression,
  isFlussError,
  type Schema,
} from "@fluss-ts/common";
import { resequenceLogBatch } from "./resequence.ts";
import type { BatchPayload } from "./write-batch.ts";

export type Row = Readonly<Record<string, unknown>>;

/** Per column: widest fixed value (DECIMAL, 16 bytes) plus validity, offsets and padding slack. */
const COLUMN_BYTES_BOUND = 32;
/** Strings up to this many UTF-16 units are bounded by 3 bytes per unit, longer ones measured. */
const STRING_UNITS_ESTIMATED_MAX = 1024;

interface VarColumn {
  readonly name: string;
  readonly text: boolean;
}

export class ArrowPayload implements BatchPayload<Row> {
  private readonly builder: ArrowBatchBuilder;
  private readonly schemaId: number;
  private readonly compression: IpcCompression;
  private readonly statistics: string | null;
  /** Bytes every row may add whatever its values (see COLUMN_BYTES_BOUND). */
  private readonly fixedBytesBound: number;
  private readonly varColumns: readonly VarColumn[];

  constructor(schema: Schema, schemaId: number, compression: IpcCompression, statistics: string | null) {
    this.builder = new ArrowBatchBuilder(schema);
    this.schemaId = schemaId;
    this.compression = compression;
    this.statistics = statistics;
    let fixed = 0;
    const vars: VarColumn[] = [];
    for (const c of schema.columns) {
      fixed += COLUMN_BYTES_BOUND;
      const root = c.type.root;
      if (root === "BINARY") fixed += c.type.length ?? 1;
      else if (root === "STRING" || root === "CHAR") vars.push({ name: c.name, text: true });
      else if (root === "BYTES") vars.push({ name: c.name, text: false });
    }
    this.fixedBytesBound = fixed;
    this.varColumns = vars;
  }

  add(row: Row): number {
    const before = this.builder.sizeBytes;
    try {
      this.builder.append(row);
    } catch (err) {
      throw withoutRowIndex(err);
    }
    return this.builder.sizeBytes - before;
  }

  bytesBound(row: Row): number {
    let n = this.fixedBytesBound;
    for (const c of this.varColumns) {
      const v = row[c.name];
      if (typeof v === "string") {
        n +=
          c.text && v.length > STRING_UNITS_ESTIMATED_MAX
            ? Buffer.byteLength(v, "utf8")
            : c.text
              ? 3 * v.length
              : v.length;
      } else if (v instanceof Uint8Array) n += v.byteLength;
    }
    return n;
  }

  get count(): number {
    return this.builder.rowCount;
  }

  get sizeBytes(): number {
    return this.builder.sizeBytes;
  }

  readonly resequence = resequenceLogBatch;

  encode(writerId: bigint, sequence: number): Uint8Array {
    return buildArrowLogBatch({
      schema: this.builder.schema,
      schemaId: this.schemaId,
      recordBatch: this.builder.build(),
      compression: this.compression,
      ...(this.statistics !== null ? { statistics: this.statistics } : {}),
      writerId,
      batchSequence: sequence,
    });
  }
}

/**
 * The batch builder names a bad row by its index in the batch ("column 'c' (T) row 17: ...",
 * "row 17: unknown column ..."); in a writer that index means nothing to the caller (whose row it
 * is, is clear from the call that failed), so it is dropped.
 */
function withoutRowIndex(err: unknown): unknown {
  if (!isFlussError(err) || !err.is(Errors.SCHEMA_MISMATCH)) return err;
  const message = err.message
    .replace(/^(column '(?:[^']|'')*' \((?:[^()]|\([^()]*\))*\)) row \d+:/, "$1:")
    .replace(/^row \d+: /, "");
  return message === err.message ? err : new FlussError(Errors.SCHEMA_MISMATCH, message);
}
