// The payload of an upsert batch: key/value records already encoded (COMPACTED key and row; a
// missing row is a delete), serialised as one Fluss KV record batch for PutKv.

import { KvRecordBatchBuilder, kvRecordSize } from "@fluss-ts/common";
import { resequenceKvBatch } from "./resequence.ts";
import type { BatchPayload } from "./write-batch.ts";

export interface KvItem {
  /** COMPACTED encoding of the primary key (minus partition columns). */
  readonly key: Uint8Array;
  /** COMPACTED row, or null to delete the key. */
  readonly row: Uint8Array | null;
  /** Bucket chosen from the bucket key. */
  readonly bucket: number;
  /** Partition name of a partitioned table's row, else null. */
  readonly partition: string | null;
}

export class KvPayload implements BatchPayload<KvItem> {
  private readonly builder: KvRecordBatchBuilder;

  constructor(schemaId: number) {
    this.builder = new KvRecordBatchBuilder(schemaId);
  }

  add(item: KvItem): number {
    const before = this.builder.sizeInBytes;
    this.builder.append(item.key, item.row);
    return this.builder.sizeInBytes - before;
  }

  /** Exact: a KV record is its length field, key length, key and row. */
  bytesBound(item: KvItem): number {
    return kvRecordSize(item.key, item.row);
  }

  get count(): number {
    return this.builder.recordCount;
  }

  get sizeBytes(): number {
    return this.builder.sizeInBytes;
  }

  readonly resequence = resequenceKvBatch;

  encode(writerId: bigint, sequence: number): Uint8Array {
    return this.builder.build({ writerId, batchSequence: sequence });
  }
}
