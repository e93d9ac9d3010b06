// The upsert writer of a primary-key table: `upsert(row)` inserts or replaces the row of its key,
// `delete(row)` removes the row of the key it names; both buffer (waiting only when the write
// buffer is full) and resolve with a receipt whose `acknowledged` gives the bucket's changelog end
// once the cluster applied the write; `flush()` resolves once everything so far is acknowledged.
// A partial-update writer names target columns: its rows set only those, other columns keep their
// stored values. The batching, retry and idempotence rules are the shared BucketWriter's.
// `await using` closes (flushes) the writer.

import type { TableInfo } from "@fluss-ts/common";
import type { ResolvedWriterOptions } from "../options.ts";
import type { AnyRow } from "../schema-types.ts";
import { BucketWriter } from "./bucket-writer.ts";
import type { KvRowCodec, Row } from "./kv-codec.ts";
import type { KvItem } from "./kv-payload.ts";
import type { WriteContext } from "./write-context.ts";
import { type UpsertAck, upsertAck, type WriteReceipt } from "./write-receipt.ts";

export class UpsertWriter<I extends object = AnyRow> implements AsyncDisposable {
  private readonly core: BucketWriter<KvItem, UpsertAck>;
  private readonly codec: KvRowCodec;

  constructor(ctx: WriteContext<KvItem>, table: TableInfo, codec: KvRowCodec, opts: ResolvedWriterOptions) {
    this.core = new BucketWriter(ctx, table, opts, upsertAck);
    this.codec = codec;
  }

  /**
   * Insert or update the row of its primary key. Resolves once buffered with a receipt
   * (`acknowledged`: `{ bucket, partitionId, logEndOffset }`); rejects with SCHEMA_MISMATCH for a
   * bad row.
   */
  async upsert(row: I): Promise<WriteReceipt<UpsertAck>> {
    return this.core.write(this.codec.upsert(row as unknown as Row));
  }

  /** Delete the row of the primary key `row` names (other columns are ignored); like `upsert`. */
  async delete(row: Partial<I>): Promise<WriteReceipt<UpsertAck>> {
    return this.core.write(this.codec.delete(row as unknown as Row));
  }

  /** Send everything buffered and resolve once every write so far is acknowledged. */
  flush(): Promise<void> {
    return this.core.flush();
  }

  /** Flush, then refuse further writes. */
  close(): Promise<void> {
    return this.core.close();
  }

  /** `await using writer = table.newUpsertWriter()` closes (flushes) it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get bufferedBytesNow(): number {
    return this.core.bufferedBytesNow;
  }

  /** Writes (upserts and deletes) acknowledged so far (with acks 0: sent so far). */
  get acknowledgedCount(): number {
    return this.core.acknowledgedCount;
  }
}
