// Auto-increment ids for KV tablets: ranges reserved from the coordinator (never reused, also
// across restarts), handed out synchronously. A range is refilled in the background once it runs
// low; if it runs out before the refill lands, the write fails with a retriable backpressure error
// instead of blocking the tablet.

import { Errors, FlussError } from "@fluss-ts/common";
import type { IdAllocator } from "@fluss-ts/storage";

export interface IdRangeSource {
  allocateIdRange(tableId: bigint, column: string, count: number): Promise<bigint>;
}

/** Fluss table.auto-increment.cache-size. */
export const ID_RANGE_SIZE = 100_000;

interface Range {
  next: bigint;
  end: bigint;
  refill: Promise<void> | undefined;
  queued: { first: bigint } | undefined;
}

export class RangeIdAllocator implements IdAllocator {
  private readonly source: IdRangeSource;
  private readonly tableId: bigint;
  private readonly rangeSize: number;
  private readonly ranges = new Map<string, Range>();

  constructor(source: IdRangeSource, tableId: bigint, rangeSize = ID_RANGE_SIZE) {
    this.source = source;
    this.tableId = tableId;
    this.rangeSize = rangeSize;
  }

  /** Reserve a first range for each column before the tablet serves writes. */
  async prepare(columns: readonly string[]): Promise<void> {
    for (const c of columns) {
      const first = await this.source.allocateIdRange(this.tableId, c, this.rangeSize);
      this.ranges.set(c, {
        next: first,
        end: first + BigInt(this.rangeSize),
        refill: undefined,
        queued: undefined,
      });
    }
  }

  next(column: string): bigint {
    const r = this.ranges.get(column);
    if (!r) throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `no id range prepared for column '${column}'`);
    if (r.next >= r.end && r.queued) {
      r.next = r.queued.first;
      r.end = r.queued.first + BigInt(this.rangeSize);
      r.queued = undefined;
    }
    if (r.next >= r.end) {
      this.refill(column, r);
      throw new FlussError(
        Errors.STORAGE_BACKPRESSURE_EXCEPTION,
        `auto-increment ids of '${column}' are being refilled`,
      );
    }
    const id = r.next++;
    if (r.end - r.next < BigInt(this.rangeSize / 5)) this.refill(column, r);
    return id;
  }

  private refill(column: string, r: Range): void {
    if (r.refill || r.queued) return;
    r.refill = this.source
      .allocateIdRange(this.tableId, column, this.rangeSize)
      .then((first) => {
        r.queued = { first };
      })
      .catch(() => undefined)
      .finally(() => {
        r.refill = undefined;
      });
  }
}
