// Idempotent writers: duplicates answered with the original offsets and not stored twice,
// out-of-order sequences rejected, state surviving clean and unclean restarts and truncation.

import { Errors, isFlussError, splitBatches } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { LogTablet } from "../src/index.ts";
import { inSequence, WriterStateManager } from "../src/log/writer-state.ts";
import { batch, removeTempDirs, TestClock, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

async function expectError(p: Promise<unknown>, kind: { code: number }): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isFlussError(err) && err.code === kind.code, `expected error ${kind.code}, got ${String(err)}`).toBe(
    true,
  );
}

async function batchCount(tablet: LogTablet): Promise<number> {
  const r = await tablet.read(tablet.logStartOffset, 64 << 20, tablet.logEndOffset);
  return splitBatches(r.records, { verifyCrc: true, allowPartialTail: false }).length;
}

const w = 77n;

describe("idempotent writers", () => {
  it("answers a duplicate with the original offsets and stores it once", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "always" } },
    });
    await tablet.append(batch({ records: 2 })); // a non-idempotent batch first: offsets 0-1
    const first = await tablet.append(batch({ writerId: w, sequence: 0, records: 3, seed: 1 }));
    expect(first).toEqual({ firstOffset: 2n, lastOffset: 4n, logEndOffset: 5n, duplicate: false });
    await tablet.append(batch({ writerId: w, sequence: 1, records: 1, seed: 2 }));
    const again = await tablet.append(batch({ writerId: w, sequence: 0, records: 3, seed: 1 }));
    expect(again).toEqual({ firstOffset: 2n, lastOffset: 4n, logEndOffset: 6n, duplicate: true });
    expect(tablet.logEndOffset).toBe(6n);
    expect(await batchCount(tablet)).toBe(3);
    expect(tablet.stats().duplicates).toBe(1);
    await tablet.close();
  });

  it("rejects sequence gaps and an unknown writer not starting at 0", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    await expectError(
      tablet.append(batch({ writerId: w, sequence: 3 })),
      Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
    );
    await tablet.append(batch({ writerId: w, sequence: 0 }));
    await expectError(
      tablet.append(batch({ writerId: w, sequence: 2 })),
      Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
    );
    // A request whose second batch is out of order appends nothing.
    const two = Buffer.concat([batch({ writerId: w, sequence: 1 }), batch({ writerId: w, sequence: 3 })]);
    await expectError(tablet.append(two), Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION);
    expect(tablet.logEndOffset).toBe(1n);
    // Consecutive batches of one writer in one request are fine.
    const ok = Buffer.concat([batch({ writerId: w, sequence: 1 }), batch({ writerId: w, sequence: 2 })]);
    expect((await tablet.append(ok)).lastOffset).toBe(2n);
    // Other writers are independent.
    await tablet.append(batch({ writerId: 5n, sequence: 0 }));
    await tablet.close();
  });

  it("remembers only the last five batches per writer", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { flush: { mode: "never" } },
    });
    for (let s = 0; s < 7; s++) await tablet.append(batch({ writerId: w, sequence: s }));
    expect((await tablet.append(batch({ writerId: w, sequence: 2 }))).duplicate).toBe(true);
    await expectError(
      tablet.append(batch({ writerId: w, sequence: 1 })),
      Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
    );
    await tablet.close();
  });

  it("keeps writer state across a clean close, a crash, and segment rolls", async () => {
    const dir = await tempDir();
    const config = { segmentBytesMax: 2048, flush: { mode: "always" as const } };
    let tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    const firsts: bigint[] = [];
    for (let s = 0; s < 30; s++) {
      firsts.push(
        (await tablet.append(batch({ writerId: w, sequence: s, bodyBytes: 300, seed: s }))).firstOffset,
      );
    }
    expect(tablet.stats().segments).toBeGreaterThan(3);
    await tablet.close();
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    let dup = await tablet.append(batch({ writerId: w, sequence: 27, bodyBytes: 300, seed: 27 }));
    expect(dup).toMatchObject({ firstOffset: firsts[27], duplicate: true });
    await expectError(
      tablet.append(batch({ writerId: w, sequence: 31 })),
      Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
    );
    for (let s = 30; s < 40; s++)
      await tablet.append(batch({ writerId: w, sequence: s, bodyBytes: 300, seed: s }));
    const leo = tablet.logEndOffset;
    // Crash: no close. The next open rebuilds from the last roll snapshot plus the log after it.
    tablet = await LogTablet.open({ dir, clock: new TestClock(), config });
    expect(tablet.logEndOffset).toBe(leo);
    dup = await tablet.append(batch({ writerId: w, sequence: 39, bodyBytes: 300, seed: 39 }));
    expect(dup).toMatchObject({ firstOffset: leo - 1n, duplicate: true });
    expect((await tablet.append(batch({ writerId: w, sequence: 40 }))).duplicate).toBe(false);
    await tablet.close();
  });

  it("rolls writer state back on truncation", async () => {
    const dir = await tempDir();
    const tablet = await LogTablet.open({
      dir,
      clock: new TestClock(),
      config: { segmentBytesMax: 2048, flush: { mode: "never" } },
    });
    for (let s = 0; s < 20; s++)
      await tablet.append(batch({ writerId: w, sequence: s, bodyBytes: 300, seed: s }));
    tablet.updateHighWatermark(20n);
    tablet.truncateTo(12n);
    expect(tablet.logEndOffset).toBe(12n);
    expect(tablet.highWatermark).toBe(12n);
    expect(await batchCount(tablet)).toBe(12);
    // Sequence 12 is new again (its batch is gone); 11 is a duplicate.
    expect(
      (await tablet.append(batch({ writerId: w, sequence: 11, bodyBytes: 300, seed: 11 }))).duplicate,
    ).toBe(true);
    const again = await tablet.append(batch({ writerId: w, sequence: 12, seed: 500 }));
    expect(again).toMatchObject({ firstOffset: 12n, duplicate: false });
    await tablet.close();
  });

  it("expires silent writers", async () => {
    const dir = await tempDir();
    const clock = new TestClock();
    const tablet = await LogTablet.open({
      dir,
      clock,
      config: { writerExpirationMs: 1000, flush: { mode: "never" } },
    });
    await tablet.append(batch({ writerId: w, sequence: 0 }));
    clock.advance(500);
    expect(tablet.removeExpiredWriters()).toBe(0);
    clock.advance(501);
    expect(tablet.removeExpiredWriters()).toBe(1);
    // Unknown again: must restart at sequence 0.
    await expectError(
      tablet.append(batch({ writerId: w, sequence: 1 })),
      Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
    );
    await tablet.append(batch({ writerId: w, sequence: 0 }));
    await tablet.close();
  });
});

describe("WriterStateManager", () => {
  it("wraps the sequence after Integer.MAX_VALUE", () => {
    expect(inSequence(2 ** 31 - 1, 0)).toBe(true);
    expect(inSequence(-1, 0)).toBe(true);
    expect(inSequence(-1, 1)).toBe(false);
    expect(inSequence(4, 6)).toBe(false);
  });

  it("round-trips a snapshot and refuses a malformed one", () => {
    const m = new WriterStateManager();
    for (let s = 0; s < 7; s++) {
      m.record(9n, {
        batchSequence: s,
        firstOffset: BigInt(s * 2),
        lastOffset: BigInt(s * 2 + 1),
        timestampMs: 100 + s,
      });
    }
    m.record(10n, { batchSequence: 0, firstOffset: 20n, lastOffset: 20n, timestampMs: 200 });
    const bytes = m.encodeSnapshot(21n);
    const n = new WriterStateManager();
    expect(n.loadSnapshot(bytes)).toBe(21n);
    expect(n.entry(9n)?.batches.map((b) => b.batchSequence)).toEqual([2, 3, 4, 5, 6]);
    expect(n.entry(10n)?.lastTimestampMs).toBe(200);
    expect(() => n.loadSnapshot(bytes.subarray(0, bytes.length - 2))).toThrow();
    expect(() =>
      n.loadSnapshot(new TextEncoder().encode('{"version":2,"offset":"1","writers":[]}')),
    ).toThrow();
  });
});
