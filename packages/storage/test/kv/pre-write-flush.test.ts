// The pre-write buffer's flush against a model: whatever order it writes in (it sorts by key and
// writes only the newest entry of each key), the store must end with the newest staged value of
// every key below the flush offset, the row count moved by every insert and delete, and the
// entries above the offset still staged and readable; also for flushes past 65536 entries.

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { KvStore } from "../../src/kv/kv-store.ts";
import { PreWriteBuffer, type StagedKind } from "../../src/kv/pre-write-buffer.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";

afterAll(removeTempDirs);

const keyOf = (k: number): Uint8Array => Uint8Array.of(k % 5, (k * 37) & 0xff, k >> 8);
const storedValue = (n: number): Uint8Array => Uint8Array.of(1, 0, n & 0xff, n >> 8);
const plain = (v: Uint8Array | null | undefined): number[] | null | undefined =>
  v === null || v === undefined ? v : [...v];

interface Op {
  readonly key: number;
  readonly del: boolean;
}

async function check(ops: readonly Op[], cut: number): Promise<void> {
  const store = KvStore.open(await tempDir("fluss-kvflush-"));
  const buf = new PreWriteBuffer(1 << 30);
  const model = new Map<number, Uint8Array | null>();
  const after = new Map<number, Uint8Array | null>();
  let rows = 0n;
  const present = new Set<number>();
  ops.forEach((op, i) => {
    const exists = present.has(op.key);
    const kind: StagedKind = op.del ? "delete" : exists ? "update" : "insert";
    if (op.del && !exists) return; // the write path stages no delete of a missing key
    const value = op.del ? null : storedValue(i);
    buf.stage(kind, keyOf(op.key), value, BigInt(i));
    (i < cut ? model : after).set(op.key, value);
    if (i < cut) rows += kind === "insert" ? 1n : kind === "delete" ? -1n : 0n;
    if (op.del) present.delete(op.key);
    else present.add(op.key);
  });
  buf.flush(BigInt(cut), store);
  await store.whenCommitted();
  expect(store.state).toEqual({ appliedLogOffset: BigInt(cut), rowCount: rows });
  for (const [k, v] of model) expect(plain(store.get(keyOf(k)))).toEqual(plain(v));
  for (const [k, v] of after) expect(plain(buf.get(keyOf(k)))).toEqual(plain(v));
  await store.close();
}

describe("PreWriteBuffer flush", () => {
  it("leaves the newest value of every key below the offset, in any order of keys", async () => {
    const op = fc.record({ key: fc.nat({ max: 60 }), del: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 300 }), fc.nat(), async (ops, cut) => {
        await check(ops, ops.length === 0 ? 0 : cut % (ops.length + 1));
      }),
      { numRuns: 40 },
    );
  });

  it("handles one flush of more than 65536 entries", async () => {
    const ops = Array.from({ length: 90_000 }, (_, i) => ({ key: (i * 7919) % 70_000, del: i % 11 === 0 }));
    await check(ops, 85_000);
  });
});
