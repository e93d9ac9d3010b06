// Copies of many small values in a few shared chunks, for a batch of lookups: a lookup's values
// leave the store as views of lmdb's reused read buffer, and copying each one into its own new
// array cost more than the lmdb get itself (measured 1.7 µs per 100-byte value against 1.5 µs for
// the get). Here the values of one request are copied back to back into chunks of at least
// `chunkBytesMin`; the caller gets views.
// Invariants: a returned view is never written again (a later copy goes past it or into a new
// chunk), so views stay valid for as long as anyone holds them; a chunk is only as large as the
// largest value needs.

import { assert } from "@fluss-ts/common";

export class ValueArena {
  private readonly chunkBytesMin: number;
  private chunk: Uint8Array = new Uint8Array(0);
  private used = 0;

  constructor(chunkBytesMin: number) {
    assert(Number.isInteger(chunkBytesMin) && chunkBytesMin > 0, "an arena chunk holds at least a byte");
    this.chunkBytesMin = chunkBytesMin;
  }

  /** A copy of `bytes` (a view into this arena). */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.byteLength;
    if (this.used + n > this.chunk.byteLength) {
      this.chunk = Buffer.allocUnsafe(Math.max(this.chunkBytesMin, n));
      this.used = 0;
    }
    const start = this.used;
    this.chunk.set(bytes, start);
    this.used = start + n;
    return this.chunk.subarray(start, this.used);
  }
}
