// A hash map from byte keys to objects that carry their key and its hash (the pre-write buffer's
// newest entry per key), without turning keys into strings: open addressing with linear probing
// over a power-of-two table, the 32-bit hashes kept in a typed array so most probes never touch
// an entry, and backward-shift deletion (no tombstones). Load factor at most 1/2.
// Invariants: every stored item's `hash` is hashKey(item.key); at most one item per key; `size`
// counts the items.

import { fmix32 } from "@fluss-ts/common";

/** 32-bit hash of a byte key (murmur3 mixing, 4 bytes at a time); never 0. */
export function hashKey(key: Uint8Array): number {
  const n = key.length;
  let h = 0x9747b28c ^ n;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n - i;
  if (rest > 0) {
    let k = key[i]!;
    if (rest > 1) k ^= key[i + 1]! << 8;
    if (rest > 2) k ^= key[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h) | 1;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface Keyed {
  readonly key: Uint8Array;
  readonly hash: number;
}

const INITIAL_CAPACITY = 1024;

export class KeyIndex<T extends Keyed> {
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private items = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The item stored under `key` (whose hash is `hash`), or undefined. */
  get(key: Uint8Array, hash: number): T | undefined {
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = hashes[i]!;
      if (h === 0) return undefined;
      if (h === hash) {
        const item = this.items[i]!;
        if (sameKey(item.key, key)) return item;
      }
    }
  }

  /** Every stored item, in no particular order (the index must not change during the walk). */
  *values(): Generator<T> {
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item !== undefined) yield item;
    }
  }

  /** Store `item` under its key; returns the item it replaced, or undefined (one probe run). */
  set(item: T): T | undefined {
    const hash = item.hash;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const h = hashes[i]!;
      if (h === 0) {
        hashes[i] = hash;
        this.items[i] = item;
        if (++this.count * 2 > mask) this.grow();
        return undefined;
      }
      if (h === hash) {
        const old = this.items[i]!;
        if (sameKey(old.key, item.key)) {
          this.items[i] = item;
          return old;
        }
      }
    }
  }

  /** Remove `item` if it is the one stored under its key; returns whether it was. */
  delete(item: T): boolean {
    const hashes = this.hashes;
    const items = this.items;
    const mask = this.mask;
    let i = item.hash & mask;
    for (; ; i = (i + 1) & mask) {
      const h = hashes[i]!;
      if (h === 0) return false;
      if (items[i] === item) break;
    }
    // Backward-shift deletion: move later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const h = hashes[j]!;
      if (h === 0) break;
      const home = h & mask;
      // j's item may move to the hole when its home is not cyclically within (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        hashes[hole] = h;
        items[hole] = items[j];
        hole = j;
      }
    }
    hashes[hole] = 0;
    items[hole] = undefined;
    this.count--;
    return true;
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldItems = this.items;
    const capacity = oldHashes.length * 2;
    this.hashes = new Int32Array(capacity);
    this.items = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (let i = 0; i < oldHashes.length; i++) {
      const h = oldHashes[i]!;
      if (h === 0) continue;
      let j = h & this.mask;
      while (this.hashes[j] !== 0) j = (j + 1) & this.mask;
      this.hashes[j] = h;
      this.items[j] = oldItems[i];
    }
  }
}
