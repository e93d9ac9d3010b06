// KeyIndex (the pre-write buffer's map from key bytes to entries) against a Map of the same
// operations, including deletes that shift probe runs and colliding short keys.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashKey, KeyIndex } from "../../src/kv/key-index.ts";

interface Item {
  readonly key: Uint8Array;
  readonly hash: number;
  readonly n: number;
}

const item = (key: Uint8Array, n: number): Item => ({ key, hash: hashKey(key), n });
const name = (key: Uint8Array): string => Buffer.from(key).toString("hex");

describe("KeyIndex", () => {
  it("behaves like a Map under random sets and deletes", () => {
    const op = fc.record({
      key: fc.uint8Array({ minLength: 1, maxLength: 6, max: 3 }),
      del: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const index = new KeyIndex<Item>();
        const model = new Map<string, Item>();
        ops.forEach((o, n) => {
          const k = name(o.key);
          if (o.del) {
            const cur = model.get(k);
            if (cur !== undefined) {
              expect(index.delete(cur)).toBe(true);
              model.delete(k);
            }
          } else {
            const it = item(o.key, n);
            expect(index.set(it)).toBe(model.get(k)); // the item it replaced
            model.set(k, it);
          }
        });
        expect(index.size).toBe(model.size);
        for (const [, it] of model) expect(index.get(Uint8Array.from(it.key), it.hash)).toBe(it);
        for (const o of ops) {
          const k = name(o.key);
          expect(index.get(o.key, hashKey(o.key))).toBe(model.get(k));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("delete of an item that is no longer stored under its key changes nothing", () => {
    const index = new KeyIndex<Item>();
    const a = item(Uint8Array.of(1), 1);
    const b = item(Uint8Array.of(1), 2);
    expect(index.set(a)).toBeUndefined();
    expect(index.set(b)).toBe(a);
    expect(index.delete(a)).toBe(false);
    expect(index.get(Uint8Array.of(1), a.hash)).toBe(b);
    expect(index.size).toBe(1);
  });
});
