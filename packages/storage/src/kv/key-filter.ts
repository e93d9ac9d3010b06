// A blocked Bloom filter over the keys of a KV store, so the write path can skip the store lookup
// of a key that is certainly absent (a new key: most of an insert-heavy load). Each key sets 8
// bits inside one 512-bit block chosen by its hash (one cache line per test); sized at 16 bits
// per key of capacity, the false-positive rate stays below 0.5% up to capacity.
// Keys are never removed (a deleted key only costs a lookup).
// KeyFilters is the set a writable KvStore keeps: filled with every key it writes and, for the
// keys already stored at open, by a scan in chunks (the first at once, the rest on later turns of
// the event loop); once the scan is done, mayContain(hash) === false proves a key absent. When the
// newest filter reaches its capacity a filter four times as big is added for the keys that follow
// (a scalable Bloom filter: no rescans).

/** Smallest key filter (keys: 16 KiB); the first is sized for twice the keys found at open. */
const FILTER_CAPACITY_MIN = 1 << 13;
/** Capacity of each added filter relative to the newest one. */
const FILTER_GROWTH = 4;
/** Keys the open-time scan reads per turn of the event loop. */
const FILTER_SCAN_KEYS = 50_000;
const WORDS_PER_BLOCK = 16;
const BITS_PER_KEY = 16;
const PROBES = 8;

import { hashKey } from "./key-index.ts";

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h;
}

export class KeyFilter {
  /** Keys the filter is sized for. */
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly blockMask: number;
  private count = 0;

  constructor(capacity: number) {
    let blocks = 1;
    while (blocks * WORDS_PER_BLOCK * 32 < capacity * BITS_PER_KEY) blocks *= 2;
    this.capacity = capacity;
    this.blockMask = blocks - 1;
    this.words = new Int32Array(blocks * WORDS_PER_BLOCK);
  }

  /** Keys added that were not (maybe) present before. */
  get added(): number {
    return this.count;
  }

  /** Add the key whose hashKey is `hash`. */
  add(hash: number): void {
    const words = this.words;
    const base = (mix(hash) & this.blockMask) * WORDS_PER_BLOCK;
    let a = hash;
    const b = mix(hash ^ 0x5bd1e995) | 1;
    let fresh = false;
    for (let i = 0; i < PROBES; i++) {
      const bit = (a >>> 23) & 511;
      const w = base + (bit >>> 5);
      const m = 1 << (bit & 31);
      if ((words[w]! & m) === 0) {
        words[w]! |= m;
        fresh = true;
      }
      a = (a + b) | 0;
    }
    if (fresh) this.count++;
  }

  /** False only when the key whose hashKey is `hash` was never added. */
  mayContain(hash: number): boolean {
    const words = this.words;
    const base = (mix(hash) & this.blockMask) * WORDS_PER_BLOCK;
    let a = hash;
    const b = mix(hash ^ 0x5bd1e995) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (a >>> 23) & 511;
      if ((words[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false;
      a = (a + b) | 0;
    }
    return true;
  }
}

/** The stored keys after `start` (all when undefined), at most `limit`, in key order. */
export type KeyScan = (start: Uint8Array | undefined, limit: number) => Iterable<Uint8Array>;

export class KeyFilters {
  /** Filters, oldest first (new keys go to the last); empty once the scan failed (no filtering). */
  private filters: KeyFilter[];
  /** True once the open-time scan put every stored key in the filters. */
  private ready = false;
  private stopped = false;

  /** Filters for a store holding about `keys` keys, which `scan` reads in chunks. */
  constructor(keys: number, scan: KeyScan) {
    this.filters = [new KeyFilter(Math.max(FILTER_CAPACITY_MIN, 2 * keys))];
    let start: Uint8Array | undefined;
    const step = (): void => {
      if (this.stopped || this.filters.length === 0) return;
      let n = 0;
      try {
        for (const key of scan(start, FILTER_SCAN_KEYS)) {
          this.add(hashKey(key));
          start = key;
          n++;
        }
      } catch {
        this.filters = []; // no filters: lookups simply go to the store
        return;
      }
      if (n < FILTER_SCAN_KEYS) this.ready = true;
      else setImmediate(step).unref();
    };
    step();
  }

  private contain(hash: number): boolean {
    const filters = this.filters;
    for (let i = filters.length - 1; i >= 0; i--) if (filters[i]!.mayContain(hash)) return true;
    return false;
  }

  /** Record a stored key (one the filters may hold already is left alone). */
  add(hash: number): void {
    const filters = this.filters;
    if (filters.length === 0 || (this.ready && this.contain(hash))) return;
    this.addAbsent(hash);
  }

  /**
   * Record a key no filter holds (mayContain(hash) was false for it and nothing recorded it
   * since): straight into the newest filter, without testing the older ones (one cache miss
   * each: most of add()'s cost on an insert-heavy load once there are several filters).
   */
  addAbsent(hash: number): void {
    const filters = this.filters;
    if (filters.length === 0) return;
    let newest = filters[filters.length - 1]!;
    if (newest.added >= newest.capacity) {
      newest = new KeyFilter(FILTER_GROWTH * newest.capacity);
      filters.push(newest);
    }
    newest.add(hash);
  }

  /** False only when the key whose hashKey is `hash` is certainly not stored. */
  mayContain(hash: number): boolean {
    return !this.ready || this.filters.length === 0 || this.contain(hash);
  }

  /** Stop the open-time scan (the store closes). */
  stop(): void {
    this.stopped = true;
  }
}
