// A snapshot scan of a primary-key table: the current row of every key, bucket by bucket (of each
// chosen partition, for a partitioned table), read in bounded batches from a consistent view of
// each bucket's KV store (ScanKv). Each bucket's view corresponds to a changelog offset
// (`logOffsets`, and `positions()` for a log scan), so a reader can continue with the changelog
// from exactly there: `table.newLogScanner({ from: snapshot.positions() })`.
// One server-side scanner is open at a time; breaking out of the loop, `close()` or `await using`
// closes it on the server. The targets (partitions and buckets) are resolved when iteration starts.

import { readValueRecordBatch } from "@fluss-ts/common";
import type { AnyRow } from "../schema-types.ts";
import type { BucketPosition, ScanPositions } from "./positions.ts";

/** One bucket to scan: of the table, or of one of its partitions. */
export interface SnapshotTarget {
  readonly partitionId: bigint | null;
  /** The partition's name, for a partitioned table; null otherwise. */
  readonly partition: string | null;
  readonly bucket: number;
}

export interface ScanKvCall {
  open(target: SnapshotTarget, limit: bigint | null): Promise<ScanKvPage>;
  next(target: SnapshotTarget, scannerId: Uint8Array, callSeq: number): Promise<ScanKvPage>;
  close(target: SnapshotTarget, scannerId: Uint8Array): Promise<void>;
}

export interface ScanKvPage {
  scannerId: Uint8Array;
  records: Uint8Array;
  hasMore: boolean;
  logOffset: bigint | null;
}

export type Row = Record<string, unknown>;

export class SnapshotScanner<R extends object = AnyRow> implements AsyncIterable<R>, AsyncDisposable {
  private readonly call: ScanKvCall;
  private readonly targets: () => Promise<readonly SnapshotTarget[]>;
  private readonly decode: (value: Uint8Array) => Row;
  private readonly limit: bigint | null;
  private closed = false;
  /** The server-side scanner open now, if any (closed by `close()`). */
  private open: { target: SnapshotTarget; scannerId: Uint8Array } | undefined;
  private readonly table: { readonly path: string; readonly tableId: bigint };
  private readonly opened: BucketPosition[] = [];
  /**
   * Changelog offset each scanned bucket's view corresponds to (filled as buckets are opened), by
   * bucket. A scan of several partitions has a bucket number once per partition: use `positions()`.
   */
  readonly logOffsets = new Map<number, bigint>();

  constructor(
    table: { readonly path: string; readonly tableId: bigint },
    call: ScanKvCall,
    targets: () => Promise<readonly SnapshotTarget[]>,
    decode: (v: Uint8Array) => Row,
    limit: bigint | null,
  ) {
    this.table = table;
    this.call = call;
    this.targets = targets;
    this.decode = decode;
    this.limit = limit;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<R> {
    for (const target of await this.targets()) {
      if (this.closed) return;
      let page = await this.call.open(target, this.limit);
      if (page.logOffset !== null) {
        this.logOffsets.set(target.bucket, page.logOffset);
        this.opened.push({
          partition: target.partition,
          partitionId: target.partitionId === null ? null : String(target.partitionId),
          bucket: target.bucket,
          offset: String(page.logOffset),
        });
      }
      let seq = 1;
      try {
        for (;;) {
          this.open = page.hasMore ? { target, scannerId: page.scannerId } : undefined;
          for (const v of readValueRecordBatch(page.records)) {
            if (this.closed) return;
            yield this.decode(v) as R;
          }
          if (!page.hasMore || this.closed) break;
          page = await this.call.next(target, page.scannerId, seq++);
        }
      } finally {
        // Still open unless close() closed it already.
        const open = this.open;
        this.open = undefined;
        if (open) await this.call.close(open.target, open.scannerId).catch(() => undefined);
      }
    }
  }

  /**
   * The changelog offsets of the buckets scanned so far, as positions a log scan can start from
   * (`newLogScanner({ from })`) to read every change made after this snapshot.
   */
  positions(): ScanPositions {
    return {
      version: 1,
      table: this.table.path,
      tableId: String(this.table.tableId),
      buckets: [...this.opened],
    };
  }

  /** Stop: a running iteration ends after the row it is at; the open server-side scanner is closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = this.open;
    this.open = undefined;
    if (open) await this.call.close(open.target, open.scannerId).catch(() => undefined);
  }

  /** `await using scanner = table.newSnapshotScanner()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
