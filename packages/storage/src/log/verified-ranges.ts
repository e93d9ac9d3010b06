// Byte ranges of one segment file whose batches are known to be intact since the segment was
// opened: written from a buffer whose batches had passed their CRC check (appends), read whole and
// checked by a read, or re-verified by crash recovery. Reads skip the CRC check of a batch inside
// these ranges, so a projected read of checked data reads only the columns it keeps; the first
// read of unchecked data (after a restart) reads whole batches and checks them. What this trusts:
// bytes a process wrote or read back and checked do not change on disk while it runs. (Bit rot
// arising during a run, under pages evicted and read again, is caught by the next process.)
// Invariants: ranges are disjoint, sorted, non-empty, and at most RANGES_MAX (the smallest is
// forgotten when a new one would exceed it: forgetting only costs a check).

import { assert } from "@fluss-ts/common";

/** Disjoint ranges kept per segment: a tail being appended and read, plus a few readers elsewhere. */
export const RANGES_MAX = 16;

export class VerifiedRanges {
  /** Sorted disjoint [start, end) pairs: starts[i] < ends[i] <= starts[i + 1]. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  get count(): number {
    return this.starts.length;
  }

  /** True when [start, end) lies inside one verified range. */
  covers(start: number, end: number): boolean {
    for (let i = 0; i < this.starts.length; i++) {
      if (this.starts[i]! <= start && end <= this.ends[i]!) return true;
    }
    return false;
  }

  /** Record [start, end) as verified, merging with ranges it touches or overlaps. */
  add(start: number, end: number): void {
    assert(start >= 0 && start <= end, "a verified range is a byte range");
    if (start === end) return;
    let i = 0;
    while (i < this.starts.length && this.ends[i]! < start) i++;
    let s = start;
    let e = end;
    let j = i;
    while (j < this.starts.length && this.starts[j]! <= e) {
      s = Math.min(s, this.starts[j]!);
      e = Math.max(e, this.ends[j]!);
      j++;
    }
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
    if (this.starts.length > RANGES_MAX) this.dropSmallest();
  }

  /** Forget everything at or after byte `size` (the file was cut there). */
  truncate(size: number): void {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      if (this.starts[i]! >= size) {
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
      } else if (this.ends[i]! > size) {
        this.ends[i] = size;
      }
    }
  }

  private dropSmallest(): void {
    let smallest = 0;
    for (let i = 1; i < this.starts.length; i++) {
      if (this.ends[i]! - this.starts[i]! < this.ends[smallest]! - this.starts[smallest]!) smallest = i;
    }
    this.starts.splice(smallest, 1);
    this.ends.splice(smallest, 1);
  }
}
