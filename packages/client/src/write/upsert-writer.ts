// The upsert writer of a primary-key table: `upsert(row)` inserts or replaces the row of its key,
// `delete(row)` removes the row of the key it names; both buffer (waiting only when the write
// buffer is full) and `flush()` resolves once everything so far is acknowledged. A partial-update
// writer names target columns: its rows set only those, other columns keep their stored values.
// The batching, retry and idempotence rules are the shared BucketWriter's.

import type { TableInfo } from "@fluss-ts/common";
import type { ResolvedWriterOptions } from "../options.ts";
import { BucketWriter } from "./bucket-writer.ts";
import type { KvRowCodec, Row } from "./kv-codec.ts";
import type { KvItem } from "./kv-payload.ts";
import type { WriteContext } from "./write-context.ts";

export class UpsertWriter {
  private readonly core: BucketWriter<KvItem>;
  private readonly codec: KvRowCodec;

  constructor(ctx: WriteContext<KvItem>, table: TableInfo, codec: KvRowCodec, opts: ResolvedWriterOptions) {
    this.core = new BucketWriter(ctx, table, opts);
    this.codec = codec;
  }

  /** Insert or update the row of its primary key; throws SCHEMA_MISMATCH for a bad row. */
  async upsert(row: Row): Promise<void> {
    await this.core.write(this.codec.upsert(row));
  }

  /** Delete the row of the primary key `row` names (other columns are ignored). */
  async delete(row: Row): Promise<void> {
    await this.core.write(this.codec.delete(row));
  }

  flush(): Promise<void> {
    return this.core.flush();
  }

  close(): Promise<void> {
    return this.core.close();
  }

  get bufferedBytesNow(): number {
    return this.core.bufferedBytesNow;
  }
}
