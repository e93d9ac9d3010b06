// Seeded random operations against an in-memory model of the log: appends of 1-3 batches,
// reads with random offsets and bounds, truncations, clean reopens and crash reopens, all with
// tiny segments and index intervals so that rolls and sparse lookups happen constantly.

import { readBatchHeader } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { batch, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

interface Stored {
  bytes: Uint8Array;
  base: bigint;
  next: bigint;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function expectedRead(model: readonly Stored[], fetch: bigint, maxBytes: number, maxOffset: bigint): Buffer {
  const first = model.findIndex((b) => b.next > fetch);
  const out: Uint8Array[] = [];
  let used = 0;
  for (let i = first; i >= 0 && i < model.length; i++) {
    const b = model[i];
    if (b.next > maxOffset) break;
    if (out.length > 0 && used + b.bytes.byteLength > maxBytes) break;
    out.push(b.bytes);
    used += b.bytes.byteLength;
  }
  return Buffer.concat(out);
}

async function runModel(seed: number): Promise<void> {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const dir = await tempDir();
  const clock = new TestClock();
  const config = {
    segmentBytesMax: 4096 + int(4096),
    indexIntervalBytes: 1 + int(600),
    flush: { mode: "never" as const },
  };
  let tablet = await LogTablet.open({ dir, clock, config });
  const model: Stored[] = [];
  const end = () => model.at(-1)?.next ?? 0n;
  for (let step = 0; step < 300; step++) {
    const op = random();
    clock.advance(int(5));
    if (op < 0.5) {
      const parts = Array.from({ length: 1 + int(3) }, () =>
        batch({ bodyBytes: int(1200), records: 1 + int(5), seed: int(1 << 30) }),
      );
      const request = Buffer.concat(parts);
      const info = await tablet.append(request);
      expect(info.firstOffset).toBe(end());
      for (let k = 0, at = 0; k < parts.length; at += parts[k].byteLength, k++) {
        const bytes = request.subarray(at, at + parts[k].byteLength);
        const h = readBatchHeader(bytes); // stamped in place by the append
        expect(h.baseOffset).toBe(end());
        model.push({ bytes, base: h.baseOffset, next: h.baseOffset + BigInt(h.lastOffsetDelta) + 1n });
      }
      expect(tablet.logEndOffset).toBe(end());
    } else if (op < 0.85) {
      if (model.length === 0) continue;
      const start = tablet.logStartOffset;
      const fetch = start + BigInt(int(Number(end() - start) + 1));
      const maxBytes = int(6000);
      const maxOffset = fetch + BigInt(int(40));
      const r = await tablet.read(fetch, maxBytes, maxOffset);
      expect(Buffer.from(r.records).equals(expectedRead(model, fetch, maxBytes, maxOffset))).toBe(true);
    } else if (op < 0.9) {
      if (model.length === 0) continue;
      const cut = model[int(model.length)];
      tablet.truncateTo(cut.base + BigInt(int(Number(cut.next - cut.base))));
      model.splice(model.indexOf(cut));
      expect(tablet.logEndOffset).toBe(end());
    } else if (op < 0.95) {
      await tablet.close();
      tablet = await LogTablet.open({ dir, clock, config });
      expect(tablet.stats().cleanShutdown).toBe(true);
      expect(tablet.logEndOffset).toBe(end());
    } else {
      tablet = await LogTablet.open({ dir, clock, config }); // the old instance is abandoned: a crash
      expect(tablet.stats().cleanShutdown).toBe(false);
      expect(tablet.logEndOffset).toBe(end());
    }
  }
  const all = await tablet.read(tablet.logStartOffset, 1 << 30, end());
  expect(Buffer.from(all.records).equals(expectedRead(model, 0n, 1 << 30, end()))).toBe(true);
  await tablet.close();
}

describe("LogTablet against a model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}`, async () => {
      await runModel(seed);
    });
  }
});
