// A commit's writes sealed into one buffer (kv-sealed-batch.ts): the bounds of each sealed value,
// deletes, the checksum each carries, and lmdb storing exactly each value's bytes when it is
// handed the one buffer with moving bounds (asynchronous commits and synchronous writes).

import { afterAll, describe, expect, it } from "vitest";
import { CHECKSUM_BYTES, unseal } from "../../src/kv/kv-checksum.ts";
import { putBatch, sealBatch, sealedValue } from "../../src/kv/kv-sealed-batch.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";

afterAll(removeTempDirs);

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
/** A value of `n` bytes derived from `seed`. */
const value = (seed: number, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (seed * 7 + i) & 0xff);

describe("sealBatch", () => {
  it("puts every sealed value back to back in one buffer; deletes have none", () => {
    const writes = [
      { key: b(1), value: value(1, 3) },
      { key: b(2), value: null },
      { key: b(3, 3), value: value(3, 0) },
      { key: b(4), value: value(4, 700) }, // past the native CRC threshold
    ];
    const batch = sealBatch(writes);
    expect(batch.bytes.byteOffset).toBe(0);
    expect(batch.bytes.length).toBe(3 + 0 + 700 + 3 * CHECKSUM_BYTES);
    expect(Array.from(batch.bounds)).toEqual([0, 7, -1, 0, 7, 11, 11, 715]);
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const sealed = sealedValue(batch, i);
      if (w.value === null) expect(sealed).toBeNull();
      else expect(unseal(w.key, sealed!)).toEqual(w.value);
    }
    // A flipped bit in a neighbour's bytes does not touch this value's checksum, but its own does.
    batch.bytes[12]! ^= 1;
    expect(unseal(b(3, 3), sealedValue(batch, 2)!)).toEqual(new Uint8Array(0));
    expect(unseal(b(4), sealedValue(batch, 3)!)).toBeNull();
  });

  it("putBatch hands over the bounds of each value in order, deletes by key", () => {
    const batch = sealBatch([
      { key: b(1), value: value(1, 2) },
      { key: b(2), value: null },
      { key: b(3), value: value(3, 1) },
    ]);
    const seen: string[] = [];
    putBatch(
      batch,
      (key, bytes) => seen.push(`put ${key[0]} ${bytes.start}-${bytes.end}`),
      (key) => seen.push(`remove ${key[0]}`),
    );
    expect(seen).toEqual(["put 1 0-6", "remove 2", "put 3 6-11"]);
  });
});

describe("a KvStore fed sealed batches", () => {
  it("stores exactly each value's bytes, asynchronously and synchronously", async () => {
    const dir = await tempDir("fluss-kvsealed-");
    const store = KvStore.open(dir);
    const sync = Array.from({ length: 50 }, (_, i) => ({ key: b(0, i), value: value(i, (i * 13) % 90) }));
    store.write(sync, { appliedLogOffset: 50n, rowCount: 50n });
    // Three pipelined commits: values of many lengths, overwrites and deletes across commits.
    const first = Array.from({ length: 300 }, (_, i) => ({
      key: b(1, i >> 8, i & 0xff),
      value: value(i, i % 130),
    }));
    const second = first.map((w, i) => ({
      key: w.key,
      value: i % 3 === 0 ? null : value(i + 1, (i * 7) % 40),
    }));
    const third = [
      { key: b(0, 7), value: null },
      { key: b(1, 0, 4), value: value(99, 1000) },
    ];
    const commits = [
      store.writeAsync(first, { appliedLogOffset: 350n, rowCount: 350n }),
      store.writeAsync(second, { appliedLogOffset: 650n, rowCount: 250n }),
      store.writeAsync(third, { appliedLogOffset: 652n, rowCount: 249n }),
    ];
    expect(await Promise.all(commits)).toEqual([true, true, true]);
    const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
    const expected = new Map<string, string>();
    for (const w of [...sync, ...first, ...second, ...third]) {
      if (w.value === null) expected.delete(hex(w.key));
      else expected.set(hex(w.key), hex(w.value));
    }
    const stored = new Map([...store.scan()].map((e) => [hex(e.key), hex(e.value)]));
    expect(stored).toEqual(expected);
    expect(store.state).toEqual({ appliedLogOffset: 652n, rowCount: 249n });
    await store.close();
  });
});
