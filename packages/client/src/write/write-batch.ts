// One batch of rows for one bucket, from the first row appended to the acknowledgement. While open,
// rows go straight into Arrow column buffers (checked against the schema as they arrive); at close
// they become an Arrow RecordBatch, serialised into a log batch once before the first send, then
// kept as bytes until acknowledged so a retry resends the very same bytes (same writer id and
// sequence: the server drops a duplicate).

import { ArrowBatchBuilder, assert, type FlussError, type Schema } from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";

export type BatchState = "open" | "ready" | "in-flight" | "done" | "failed";

export class WriteBatch {
  readonly bucket: number;
  readonly createdMs: number;
  private builder: ArrowBatchBuilder | undefined;
  /** The closed batch's rows, until encoded. */
  records: RecordBatch | undefined;
  sizeBytes = 0;
  state: BatchState = "open";
  /** Batch sequence for idempotence, assigned at close; -1 when not idempotent. */
  sequence = -1;
  bytes: Uint8Array | undefined;
  attempts = 0;
  /** Offset of the batch's first record, once acknowledged. */
  baseOffset = -1n;
  private settled = false;
  private resolveFn!: () => void;
  private rejectFn!: (err: FlussError) => void;
  readonly done: Promise<void>;

  constructor(schema: Schema, bucket: number, createdMs: number) {
    this.builder = new ArrowBatchBuilder(schema);
    this.bucket = bucket;
    this.createdMs = createdMs;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A failed batch is reported through the writer (flush/append); never as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Add a row; throws SCHEMA_MISMATCH (leaving the batch as it was) when it does not fit. */
  add(row: Record<string, unknown>): number {
    assert(this.state === "open" && this.builder !== undefined, "rows are only added to an open batch");
    const before = this.builder.sizeBytes;
    this.builder.append(row);
    const grown = this.builder.sizeBytes - before;
    this.sizeBytes += grown;
    return grown;
  }

  get rowCount(): number {
    return this.builder?.rowCount ?? this.records?.numRows ?? 0;
  }

  close(sequence: number): void {
    assert(this.state === "open" && this.builder !== undefined, "a batch closes once");
    this.records = this.builder.build();
    this.builder = undefined;
    this.sequence = sequence;
    this.state = "ready";
  }

  /** The serialised log batch; the Arrow rows are no longer needed. */
  encoded(bytes: Uint8Array): void {
    assert(this.state === "ready" && this.bytes === undefined, "a batch is encoded once, after closing");
    this.bytes = bytes;
    this.records = undefined;
  }

  succeed(baseOffset: bigint): void {
    if (this.settled) return;
    this.settled = true;
    this.baseOffset = baseOffset;
    this.state = "done";
    this.bytes = undefined;
    this.records = undefined;
    this.resolveFn();
  }

  fail(err: FlussError): void {
    if (this.settled) return;
    this.settled = true;
    this.state = "failed";
    this.bytes = undefined;
    this.records = undefined;
    this.builder = undefined;
    this.rejectFn(err);
  }
}
