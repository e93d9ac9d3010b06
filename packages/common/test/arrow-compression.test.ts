// The LZ4 frame codec (64 KiB independent blocks, as Fluss's Java writer) and the buffer codecs.

import { randomBytes } from "node:crypto";
import { compressFrameSync, decompressFrameSync } from "lz4-napi";
import { describe, expect, it } from "vitest";
import { compressBuffer, decompressBuffer } from "../src/arrow/compression.ts";
import { compressLz4Frame, decompressLz4Frame, xxh32Short } from "../src/arrow/lz4-frame.ts";
import { Errors, isFlussError } from "../src/index.ts";

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7) % 251 < 40 ? i & 0xff : 65 + (i % 13);
  return out;
}

describe("xxHash32 (frame header checksum)", () => {
  it("matches reference values", () => {
    expect(xxh32Short(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32Short(new TextEncoder().encode("a"))).toBe(0x550d7456);
    expect(xxh32Short(new TextEncoder().encode("abc"))).toBe(0x32d153ff);
  });
});

describe("LZ4 frames", () => {
  it("writes version 1, independent blocks, 64 KiB maximum, no checksums", () => {
    const frame = compressLz4Frame(sample(1000));
    expect([...frame.subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    expect(frame[6]).toBe((xxh32Short(Uint8Array.of(0x60, 0x40)) >>> 8) & 0xff);
    expect([...frame.subarray(frame.byteLength - 4)]).toEqual([0, 0, 0, 0]);
  });

  for (const [label, data] of [
    ["small", sample(100)],
    ["several blocks", sample(300_000)],
    ["incompressible (raw blocks)", new Uint8Array(randomBytes(150_000))],
  ] as const) {
    it(`round-trips ${label} data, readable by lz4-napi's frame decoder (which checks the header)`, () => {
      const frame = compressLz4Frame(data);
      expect(same(decompressLz4Frame(frame, data.byteLength), data)).toBe(true);
      expect(same(decompressFrameSync(Buffer.from(frame)), data)).toBe(true);
    });
  }

  it("reads frames written by lz4-napi's frame encoder (large blocks, with checksums)", () => {
    const data = sample(500_000);
    for (const options of [undefined, { contentChecksum: true, blockChecksums: true }]) {
      const frame = compressFrameSync(Buffer.from(data), options);
      expect(same(decompressLz4Frame(frame, data.byteLength), data)).toBe(true);
    }
  });

  it("refuses a frame whose content length differs from the declared one", () => {
    const frame = compressLz4Frame(sample(1000));
    expect(() => decompressLz4Frame(frame, 999)).toThrow();
    expect(() => decompressLz4Frame(frame, 1001)).toThrow(/1000 bytes, expected 1001/);
  });
});

describe("buffer codecs", () => {
  for (const type of ["LZ4_FRAME", "ZSTD"] as const) {
    it(`${type}: round trip, and CORRUPT_RECORD_EXCEPTION for a wrong length or garbage`, () => {
      const data = sample(20_000);
      const packed = compressBuffer(type, data, 3);
      expect(packed.byteLength).toBeLessThan(data.byteLength);
      expect(same(decompressBuffer(type, packed, data.byteLength), data)).toBe(true);
      expect(decompressBuffer(type, new Uint8Array(0), 0).byteLength).toBe(0);
      for (const bad of [
        () => decompressBuffer(type, packed, 100),
        () => decompressBuffer(type, sample(50), 50),
      ]) {
        try {
          bad();
          expect.unreachable();
        } catch (err) {
          expect(isFlussError(err) && err.is(Errors.CORRUPT_RECORD_EXCEPTION)).toBe(true);
        }
      }
    });
  }
});
