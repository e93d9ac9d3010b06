// The append writer of a log table: `append(row)` buffers a row (waiting only when the write
// buffer is full), `flush()` resolves once every row appended so far is acknowledged. Rows are
// checked against the schema as they are appended, so a bad row is refused at once with the
// column it breaks and nothing else is affected. The batching, retry and idempotence rules are
// the shared BucketWriter's.

import type { TableInfo } from "@fluss-ts/common";
import type { ResolvedWriterOptions } from "../options.ts";
import type { Row } from "./arrow-payload.ts";
import { BucketWriter } from "./bucket-writer.ts";
import type { WriteContext } from "./write-context.ts";

export class AppendWriter {
  private readonly core: BucketWriter<Row>;

  constructor(ctx: WriteContext<Row>, table: TableInfo, opts: ResolvedWriterOptions) {
    this.core = new BucketWriter(ctx, table, opts);
  }

  /** Buffer one row (an object keyed by column name); throws SCHEMA_MISMATCH for a bad row. */
  append(row: Row): Promise<void> {
    return this.core.write(row);
  }

  flush(): Promise<void> {
    return this.core.flush();
  }

  close(): Promise<void> {
    return this.core.close();
  }

  /** Bytes of rows held in memory until acknowledged. */
  get bufferedBytesNow(): number {
    return this.core.bufferedBytesNow;
  }
}
