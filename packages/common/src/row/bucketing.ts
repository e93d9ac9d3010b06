// Fluss's default bucket assignment (FlussBucketingFunction): bucket = mix(murmur3(key)) % count,
// over the compacted bucket-key bytes (key-encoder.ts). Must match Fluss bit for bit, or a Java
// client and fluss-ts would send the same key to different buckets.
//
// Hash (MurmurHashUtils.hashUnsafeBytes, seed 42): MurmurHash3 x86_32 over the little-endian 4-byte
// words of the aligned prefix; then — unlike standard murmur3 — EACH remaining tail byte is mixed
// on its own as a full block (k1 = the byte sign-extended to 32 bits, mixK1, mixH1); finally
// h ^= length and the fmix32 avalanche.
// Bucket (MathUtils.murmurHash): the hash goes through one more block mix (mixK1, mixH1 with the
// constants above), ^= 4, fmix32, then abs (Integer.MIN_VALUE → 0), and % bucketCount.
// Invariants: all arithmetic is 32-bit (Math.imul, >>> and | 0); a key must not be empty.

import { Errors, FlussError } from "../errors.ts";

export const MURMUR_SEED = 42;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH1(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The murmur3 32-bit finalizer (Fluss MathUtils.bitMix / MurmurHashUtils.fmix). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Fluss MurmurHashUtils.hashBytes / hashUnsafeBytes: a signed 32-bit hash. */
export function murmurHashBytes(bytes: Uint8Array, seed = MURMUR_SEED): number {
  const n = bytes.length;
  const aligned = n - (n & 3);
  let h = seed | 0;
  for (let i = 0; i < aligned; i += 4) {
    const word = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixH1(h, mixK1(word));
  }
  for (let i = aligned; i < n; i++) {
    h = mixH1(h, mixK1((bytes[i]! << 24) >> 24));
  }
  return fmix32(h ^ n);
}

/** Fluss MathUtils.murmurHash: re-mix a hash code into a non-negative int. */
export function murmurMix(code: number): number {
  let h = mixK1(code | 0);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h = fmix32(h ^ 4);
  if (h >= 0) return h;
  return h === -2147483648 ? 0 : -h;
}

/** The bucket (0..bucketCount-1) of encoded bucket-key bytes, as Fluss's default bucketing. */
export function bucketForKey(keyBytes: Uint8Array, bucketCount: number): number {
  if (keyBytes.length === 0) throw new FlussError(Errors.INVALID_ARGUMENT, "a bucket key must not be empty");
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 2147483647) {
    throw new FlussError(Errors.INVALID_ARGUMENT, `bucket count must be a positive int, got ${bucketCount}`);
  }
  return murmurMix(murmurHashBytes(keyBytes)) % bucketCount;
}
