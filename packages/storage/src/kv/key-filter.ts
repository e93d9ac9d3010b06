// A blocked Bloom filter over the keys of a KV store, so the write path can skip the store lookup
// of a key that is certainly absent (a new key: most of an insert-heavy load). Each key sets 8
// bits inside one 512-bit block chosen by its hash (one cache line per test); sized at 16 bits
// per key of capacity, the false-positive rate stays below 0.5% up to capacity.
// Keys are never removed (a deleted key only costs a lookup). KvStore keeps a list of these,
// adding a bigger one when the newest is full, and knows when they cover every stored key.

const WORDS_PER_BLOCK = 16;
const BITS_PER_KEY = 16;
const PROBES = 8;

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
