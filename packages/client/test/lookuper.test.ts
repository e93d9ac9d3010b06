// LookupBatcher (lookup/lookuper.ts) through a fake context: the lookups of one event-loop turn
// coalesce into one request per leader, grouped per bucket and at most 1,024 keys a request; each
// caller gets its own key's answer even when buckets come back in another order; retriable bucket
// errors are retried, others reject.

import { Errors, systemScheduler } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import {
  LookupBatcher,
  type LookupBucketResult,
  type LookupContext,
  type LookupRequestSpec,
  type LookupTarget,
} from "../src/lookup/lookuper.ts";

interface Sent {
  leader: string;
  spec: LookupRequestSpec;
}

/** Buckets 0-1 on leader A, 2-3 on leader B; a key's value is its bytes reversed. */
function fakeContext(answer?: (leader: string, spec: LookupRequestSpec) => LookupBucketResult[]): {
  ctx: LookupContext;
  sent: Sent[];
} {
  const sent: Sent[] = [];
  const ctx: LookupContext = {
    scheduler: systemScheduler,
    leaderKey: (t: LookupTarget) => (t.bucket < 2 ? "A" : "B"),
    onRetriableError: () => undefined,
    send: async (leader, spec) => {
      sent.push({ leader, spec });
      if (answer) return answer(leader, spec);
      return spec.buckets.map((b) => ({
        partitionId: b.partitionId,
        bucket: b.bucket,
        errorCode: 0,
        errorMessage: "",
        values: b.keys.map((k) => [Uint8Array.from(k).reverse()]),
      }));
    },
  };
  return { ctx, sent };
}

const key = (i: number): Uint8Array => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 7);
const target = (bucket: number): LookupTarget => ({ partitionId: null, bucket });

describe("LookupBatcher", () => {
  it("coalesces a turn's lookups into one request per leader, grouped by bucket", async () => {
    const { ctx, sent } = fakeContext();
    const b = new LookupBatcher(ctx);
    const calls = Array.from({ length: 100 }, (_, i) => b.lookup(target(i % 4), key(i)));
    const got = await Promise.all(calls);
    expect(sent.map((s) => s.leader).sort()).toEqual(["A", "B"]);
    for (const s of sent) {
      expect(s.spec.buckets.map((x) => x.bucket).sort()).toEqual(s.leader === "A" ? [0, 1] : [2, 3]);
      for (const x of s.spec.buckets) expect(x.keys.length).toBe(25);
    }
    got.forEach((v, i) => {
      expect([...v[0]!]).toEqual([...key(i)].reverse());
    });
  });

  it("splits a leader's keys into requests of at most 1,024 keys and answers every caller", async () => {
    const { ctx, sent } = fakeContext();
    const b = new LookupBatcher(ctx);
    const calls = Array.from({ length: 2500 }, (_, i) => b.lookup(target(i % 2), key(i)));
    const got = await Promise.all(calls);
    expect(sent.length).toBe(3);
    const sizes = sent.map((s) => s.spec.buckets.reduce((n, x) => n + x.keys.length, 0));
    expect(sizes).toEqual([1024, 1024, 452]);
    got.forEach((v, i) => {
      expect([...v[0]!]).toEqual([...key(i)].reverse());
    });
  });

  it("matches answers to buckets when they come back in another order", async () => {
    const { ctx } = fakeContext((_leader, spec) =>
      spec.buckets
        .map((x) => ({
          partitionId: x.partitionId,
          bucket: x.bucket,
          errorCode: 0,
          errorMessage: "",
          values: x.keys.map((k) => [Uint8Array.of(x.bucket, k[0]!)]),
        }))
        .reverse(),
    );
    const b = new LookupBatcher(ctx);
    const got = await Promise.all([0, 1, 0, 1].map((bucket, i) => b.lookup(target(bucket), key(i))));
    expect(got.map((v) => [...v[0]!])).toEqual([
      [0, 0],
      [1, 1],
      [0, 2],
      [1, 3],
    ]);
  });

  it("retries a retriable bucket error and rejects a non-retriable one", async () => {
    let failures = 1;
    const { ctx, sent } = fakeContext((_leader, spec) =>
      spec.buckets.map((x) => ({
        partitionId: x.partitionId,
        bucket: x.bucket,
        errorCode:
          x.bucket === 0 && failures-- > 0
            ? Errors.NOT_LEADER_OR_FOLLOWER.code
            : x.bucket === 1
              ? Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION.code
              : 0,
        errorMessage: "told to",
        values: x.keys.map(() => [Uint8Array.of(1)]),
      })),
    );
    const b = new LookupBatcher(ctx);
    const retried = b.lookup(target(0), key(0));
    const refused = b.lookup(target(1), key(1));
    await expect(refused).rejects.toMatchObject({ code: Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION.code });
    expect([...(await retried)[0]!]).toEqual([1]);
    expect(sent.length).toBe(2);
  });
});
