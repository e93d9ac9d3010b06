// Fluss's default bucketing: the expected buckets of Fluss's BucketingFunctionTest, plus hashes and
// buckets produced by running Fluss's FlussBucketingFunction / MurmurHashUtils (Fluss main, Java 17)
// on keys whose tails exercise the sign-extended single-byte tail mixing.

import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import { bucketForKey, murmurHashBytes, murmurMix } from "../../src/row/bucketing.ts";
import { encodeKey } from "../../src/row/key-encoder.ts";
import { expectFlussError, fromHex, types } from "./helpers.ts";

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("bucketForKey", () => {
  it("gives the buckets of Fluss's BucketingFunctionTest", () => {
    expect(bucketForKey(new Uint8Array([0, 10]), 7)).toBe(1);
    expect(bucketForKey(new Uint8Array([0, 10, 10, 10]), 12)).toBe(0);
    expect(bucketForKey(utf8("2bb87d68-baf9-4e64-90f9-f80910419fa6"), 16)).toBe(6);
    expect(bucketForKey(utf8("The quick brown fox jumps over the lazy dog"), 8)).toBe(6);
  });

  // [key hex, MurmurHashUtils.hashBytes, buckets for counts 1, 3, 7, 10, 16, 128, 1000] from Fluss.
  const COUNTS = [1, 3, 7, 10, 16, 128, 1000];
  const FLUSS: Array<[string, number, number[]]> = [
    ["000a", 1530214680, [0, 1, 1, 6, 4, 100, 956]],
    ["000a0a0a", 1248044039, [0, 0, 2, 6, 4, 68, 516]],
    [
      Buffer.from("2bb87d68-baf9-4e64-90f9-f80910419fa6").toString("hex"),
      -1627959308,
      [0, 2, 6, 2, 6, 102, 422],
    ],
    [
      Buffer.from("The quick brown fox jumps over the lazy dog").toString("hex"),
      466024576,
      [0, 2, 5, 2, 6, 118, 742],
    ],
    ["80", 775851899, [0, 1, 6, 6, 14, 94, 766]],
    ["fffe81", -1998604542, [0, 0, 2, 1, 3, 19, 691]],
    ["0102030490", -317302109, [0, 0, 1, 9, 3, 99, 299]],
    ["deadbeefcafe", 644760642, [0, 0, 0, 9, 3, 35, 939]],
    ["010302", -40728307, [0, 0, 5, 1, 5, 101, 541]],
    ["07757365722d3432ffffffff0fcb89ec8ff723", 380215107, [0, 0, 0, 1, 7, 39, 311]],
    ["9601c69a0195a9f1a6df31882700", -411397675, [0, 0, 2, 5, 7, 55, 455]],
  ];

  it("matches Fluss's hash and buckets, including tails with high bytes", () => {
    for (const [key, hash, buckets] of FLUSS) {
      expect(murmurHashBytes(fromHex(key)), key).toBe(hash);
      expect(
        COUNTS.map((c) => bucketForKey(fromHex(key), c)),
        key,
      ).toEqual(buckets);
    }
  });

  it("matches Fluss for encoded INT and STRING keys", () => {
    const ints = Array.from({ length: 16 }, (_, i) => bucketForKey(encodeKey(types("INT"), [i]), 5));
    expect(ints).toEqual([2, 0, 2, 4, 0, 1, 4, 1, 1, 3, 3, 2, 0, 1, 0, 4]);
    const strings = Array.from({ length: 16 }, (_, i) =>
      bucketForKey(encodeKey(types("STRING"), [`k${i}`]), 8),
    );
    expect(strings).toEqual([1, 6, 1, 4, 4, 3, 1, 0, 5, 6, 4, 1, 6, 7, 4, 1]);
  });

  it("never returns a negative bucket and maps Integer.MIN_VALUE to 0", () => {
    for (let code = -5000; code < 5000; code += 7) expect(murmurMix(code)).toBeGreaterThanOrEqual(0);
  });

  it("refuses empty keys and bad bucket counts", () => {
    expectFlussError(() => bucketForKey(new Uint8Array(0), 3), Errors.INVALID_ARGUMENT, /empty/);
    expectFlussError(() => bucketForKey(new Uint8Array([1]), 0), Errors.INVALID_ARGUMENT, /bucket count/);
    expectFlussError(() => bucketForKey(new Uint8Array([1]), 1.5), Errors.INVALID_ARGUMENT, /bucket count/);
  });
});
