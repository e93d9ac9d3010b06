// A snapshot scan of a primary-key table: the current row of every key, bucket by bucket, read in
// bounded batches from a consistent view of each bucket's KV store (ScanKv). Each bucket's view
// corresponds to a changelog offset (`logOffsets`), so a reader can continue with the changelog
// from exactly there.

import { readValueRecordBatch } from "@fluss-ts/common";

export interface ScanKvCall {
  open(bucket: number, limit: bigint | null): Promise<ScanKvPage>;
  next(bucket: number, scannerId: Uint8Array, callSeq: number): Promise<ScanKvPage>;
  close(bucket: number, scannerId: Uint8Array): Promise<void>;
}

export interface ScanKvPage {
  scannerId: Uint8Array;
  records: Uint8Array;
  hasMore: boolean;
  logOffset: bigint | null;
}

export type Row = Record<string, unknown>;

export class SnapshotScanner implements AsyncIterable<Row> {
  private readonly call: ScanKvCall;
  private readonly buckets: readonly number[];
  private readonly decode: (value: Uint8Array) => Row;
  private readonly limit: bigint | null;
  /** Changelog offset each scanned bucket's view corresponds to (filled as buckets are opened). */
  readonly logOffsets = new Map<number, bigint>();

  constructor(
    call: ScanKvCall,
    buckets: readonly number[],
    decode: (v: Uint8Array) => Row,
    limit: bigint | null,
  ) {
    this.call = call;
    this.buckets = buckets;
    this.decode = decode;
    this.limit = limit;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Row> {
    for (const bucket of this.buckets) {
      let page = await this.call.open(bucket, this.limit);
      if (page.logOffset !== null) this.logOffsets.set(bucket, page.logOffset);
      let seq = 1;
      try {
        for (;;) {
          for (const v of readValueRecordBatch(page.records)) yield this.decode(v);
          if (!page.hasMore) break;
          page = await this.call.next(bucket, page.scannerId, seq++);
        }
      } finally {
        if (page.hasMore) await this.call.close(bucket, page.scannerId).catch(() => undefined);
      }
    }
  }
}
