// Every log batch version Fluss defines is read by its own layout (v0; v1 = statistics, Fluss 1.0;
// v2 = leader epoch + statistics), and a version nobody defines fails with a typed
// CORRUPT_RECORD_EXCEPTION instead of being read with a wrong layout. (Fluss 0.9's Java client
// calls its leader-epoch layout "v1": that is why fluss-ts writes v0 unless a table asks for
// statistics.)

import { describe, expect, it } from "vitest";
import {
  buildBatch,
  computeBatchCrc,
  Errors,
  FlussError,
  isBatchValid,
  type NewBatch,
  readBatchHeader,
  splitBatches,
} from "../src/index.ts";

const BODY = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const BASE: NewBatch = {
  schemaId: 3,
  appendOnly: true,
  writerId: 42n,
  batchSequence: 7,
  recordCount: 2,
  lastOffsetDelta: 1,
  body: [BODY],
  baseOffset: 100n,
  commitTimestamp: 1234n,
};

/** A v1 batch rewritten in the v2 layout: the leader epoch after CommitTimestamp, CRC recomputed. */
function toV2(v1: Uint8Array, leaderEpoch: number): Uint8Array {
  const out = new Uint8Array(v1.byteLength + 4);
  out.set(v1.subarray(0, 21), 0);
  out.set(v1.subarray(21), 25);
  const dv = new DataView(out.buffer);
  dv.setInt32(8, v1.byteLength + 4 - 12, true);
  dv.setInt8(12, 2);
  dv.setInt32(21, leaderEpoch, true);
  dv.setUint32(25, computeBatchCrc(out, 2), true);
  return out;
}

describe("log batch versions", () => {
  it("reads v0, v1 and v2 headers by their own layouts", () => {
    const v0 = buildBatch(BASE);
    const v1 = buildBatch({ ...BASE, statistics: new Uint8Array([9, 9, 9]) });
    const v2 = toV2(v1, 5);
    for (const [batch, magic, headerSize, epoch] of [
      [v0, 0, 48, -1],
      [v1, 1, 52, -1],
      [v2, 2, 56, 5],
    ] as const) {
      const h = readBatchHeader(batch);
      expect(h.magic).toBe(magic);
      expect(h).toMatchObject({
        baseOffset: 100n,
        schemaId: 3,
        writerId: 42n,
        batchSequence: 7,
        recordCount: 2,
      });
      expect(h.leaderEpoch).toBe(epoch);
      expect(h.recordsOffset).toBe(headerSize + (magic === 0 ? 0 : 3));
      expect(batch.subarray(h.recordsOffset)).toEqual(BODY);
      expect(isBatchValid(batch)).toBe(true);
    }
  });

  it("fails typed on a magic no Fluss version defines", () => {
    const bad = buildBatch(BASE);
    bad[12] = 3;
    const expectCorrupt = (fn: () => unknown) => {
      try {
        fn();
        expect.unreachable("read a batch of unknown magic");
      } catch (err) {
        expect(err).toBeInstanceOf(FlussError);
        expect((err as FlussError).code).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
      }
    };
    expectCorrupt(() => readBatchHeader(bad));
    expectCorrupt(() => splitBatches(bad, { verifyCrc: true, allowPartialTail: false }));
  });
});
