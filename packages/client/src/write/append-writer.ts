// The append writer of a log table: `append(row)` buffers a row (waiting only when the write
// buffer is full) and resolves with a receipt whose `acknowledged` gives the row's bucket and log
// offset once the cluster acknowledged it; `flush()` resolves once every row appended so far is
// acknowledged. Rows are checked against the schema as they are appended, so a bad row is refused
// at once with the column it breaks and nothing else is affected. The batching, retry and
// idempotence rules are the shared BucketWriter's. `await using` closes (flushes) the writer.

import type { TableInfo } from "@fluss-ts/common";
import type { ResolvedWriterOptions } from "../options.ts";
import type { AnyRow } from "../schema-types.ts";
import type { Row } from "./arrow-payload.ts";
import { BucketWriter } from "./bucket-writer.ts";
import type { WriteContext } from "./write-context.ts";
import { type AppendAck, appendAck, type WriteReceipt } from "./write-receipt.ts";

export class AppendWriter<I extends object = AnyRow> implements AsyncDisposable {
  private readonly core: BucketWriter<Row, AppendAck>;

  constructor(ctx: WriteContext<Row>, table: TableInfo, opts: ResolvedWriterOptions) {
    this.core = new BucketWriter(ctx, table, opts, appendAck);
  }

  /**
   * Buffer one row (an object keyed by column name). Resolves once it is buffered — at once
   * unless the write buffer is full — with a receipt: `(await writer.append(row)).acknowledged`
   * resolves with `{ bucket, partitionId, offset }` once the cluster acknowledged the row.
   * Rejects with SCHEMA_MISMATCH for a bad row and RECORD_TOO_LARGE_EXCEPTION for one larger than
   * `requestBytesMax` (neither affects other rows).
   */
  append(row: I): Promise<WriteReceipt<AppendAck>> {
    return this.core.write(row as unknown as Row);
  }

  /** Send everything buffered and resolve once every row appended so far is acknowledged. */
  flush(): Promise<void> {
    return this.core.flush();
  }

  /** Flush, then refuse further appends. */
  close(): Promise<void> {
    return this.core.close();
  }

  /** `await using writer = table.newAppendWriter()` closes (flushes) it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Bytes of rows held in memory until acknowledged. */
  get bufferedBytesNow(): number {
    return this.core.bufferedBytesNow;
  }

  /** Rows acknowledged so far (with acks 0: sent so far). */
  get acknowledgedCount(): number {
    return this.core.acknowledgedCount;
  }
}
