// One batch of rows for one bucket, from the first row appended to the acknowledgement. Rows are
// held as objects while the batch is open (already checked against the schema), serialised into
// a log batch once before its first send, then kept as bytes until acknowledged so a retry resends the
// very same bytes (same writer id and sequence: the server drops a duplicate).

import { assert, type FlussError } from "@fluss-ts/common";

export type BatchState = "open" | "ready" | "in-flight" | "done" | "failed";

export class WriteBatch {
  readonly bucket: number;
  readonly createdMs: number;
  readonly rows: Record<string, unknown>[] = [];
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

  constructor(bucket: number, createdMs: number) {
    this.bucket = bucket;
    this.createdMs = createdMs;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A failed batch is reported through the writer (flush/append); never as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  add(row: Record<string, unknown>, sizeBytes: number): void {
    assert(this.state === "open", "rows are only added to an open batch");
    this.rows.push(row);
    this.sizeBytes += sizeBytes;
  }

  close(sequence: number): void {
    assert(this.state === "open", "a batch closes once");
    this.sequence = sequence;
    this.state = "ready";
  }

  /** The serialised log batch; the rows are no longer needed. */
  encoded(bytes: Uint8Array): void {
    assert(this.state === "ready" && this.bytes === undefined, "a batch is encoded once, after closing");
    this.bytes = bytes;
    this.rows.length = 0;
  }

  succeed(baseOffset: bigint): void {
    if (this.settled) return;
    this.settled = true;
    this.baseOffset = baseOffset;
    this.state = "done";
    this.bytes = undefined;
    this.resolveFn();
  }

  fail(err: FlussError): void {
    if (this.settled) return;
    this.settled = true;
    this.state = "failed";
    this.bytes = undefined;
    this.rejectFn(err);
  }
}

/** Rough in-memory size of a row, for batch sizing and the write buffer (not exact, cheap). */
export function estimateRowBytes(row: Record<string, unknown>): number {
  let n = 16;
  for (const key in row) {
    const v = row[key];
    if (typeof v === "string") n += v.length + 8;
    else if (v instanceof Uint8Array) n += v.byteLength + 8;
    else n += 9;
  }
  return n;
}
