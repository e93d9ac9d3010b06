// ValueArena (value-arena.ts) and the lookups that use it: values come back as copies packed into
// shared chunks, never as views of lmdb's reused read buffer, and a later copy never overwrites an
// earlier one.

import { encodeKey, makeSchema } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { ValueArena } from "../../src/kv/value-arena.ts";
import { removeTempDirs } from "../helpers.ts";
import { openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

describe("ValueArena", () => {
  it("copies values back to back, each a stable view, and starts a new chunk when one is full", () => {
    const arena = new ValueArena(10);
    const source = new Uint8Array([1, 2, 3, 4]);
    const a = arena.copy(source);
    source.fill(9); // the copy does not alias its source
    const b = arena.copy(new Uint8Array([5, 6, 7, 8]));
    const c = arena.copy(new Uint8Array([10, 11, 12])); // does not fit the first chunk's 2 bytes left
    const big = arena.copy(new Uint8Array(25).fill(4)); // larger than a chunk: a chunk of its own
    expect([...a]).toEqual([1, 2, 3, 4]);
    expect([...b]).toEqual([5, 6, 7, 8]);
    expect([...c]).toEqual([10, 11, 12]);
    expect(big.byteLength).toBe(25);
    expect(b.buffer === a.buffer && b.byteOffset === a.byteOffset + 4).toBe(true); // packed
    expect(c.buffer === b.buffer && c.byteOffset === b.byteOffset + 4).toBe(false); // a new chunk
    expect(big.every((x) => x === 4)).toBe(true);
  });
});

describe("KvTablet.lookup values", () => {
  it("are copies that later lookups never change", async () => {
    const schema = makeSchema(
      [
        { name: "id", type: "INT NOT NULL" },
        { name: "s", type: "STRING" },
      ],
      ["id"],
    );
    const h = await openHarness({ schema });
    const rows = Array.from({ length: 300 }, (_, i) => upsert(i, `value ${i} ${"x".repeat(i % 50)}`));
    await h.put(rows);
    const keyTypes = [schema.columns[0]!.type];
    const keys = rows.map((_, i) => encodeKey(keyTypes, [i]));
    const first = h.kv.lookup(keys);
    const copies = first.map((v) => Buffer.from(v!).toString("hex"));
    // More reads of the store (which reuses its read buffer) and a second batch of lookups.
    h.kv.lookup(keys.slice().reverse());
    for (let i = 0; i < 300; i += 7) h.get(i);
    expect(first.map((v) => Buffer.from(v!).toString("hex"))).toEqual(copies);
    expect(first.map((v) => h.decode(v!)[1])).toEqual(rows.map((_, i) => `value ${i} ${"x".repeat(i % 50)}`));
    expect(h.kv.lookup([encodeKey(keyTypes, [1000])])).toEqual([null]);
    await h.close();
  });
});
