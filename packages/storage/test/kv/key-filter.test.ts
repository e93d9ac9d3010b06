// The key filters of a KvStore: a stored key is never reported absent — after writes, past the
// capacity of the first filter (more filters are added), and after reopen, when the keys already
// stored are scanned in chunks over several turns of the event loop; absent keys are mostly
// reported absent.

import { afterAll, describe, expect, it } from "vitest";
import { KeyFilter } from "../../src/kv/key-filter.ts";
import { hashKey } from "../../src/kv/key-index.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { eventually, removeTempDirs, tempDir } from "../helpers.ts";

afterAll(removeTempDirs);

function key(i: number): Uint8Array {
  const k = new Uint8Array(6);
  new DataView(k.buffer).setUint32(2, i);
  k[0] = i % 7;
  return k;
}

const value = Uint8Array.of(1, 0, 9);

function writeKeys(store: KvStore, from: number, to: number): void {
  const writes = [];
  for (let i = from; i < to; i++) writes.push({ key: key(i), value });
  store.write(writes, { appliedLogOffset: BigInt(to), rowCount: null });
}

function falseNegatives(store: KvStore, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (!store.mayContain(hashKey(key(i)))) n++;
  return n;
}

function positives(store: KvStore, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (store.mayContain(hashKey(key(i)))) n++;
  return n;
}

describe("KeyFilter", () => {
  it("never forgets a key and keeps false positives rare up to its capacity", () => {
    const f = new KeyFilter(10_000);
    for (let i = 0; i < 10_000; i++) f.add(hashKey(key(i)));
    for (let i = 0; i < 10_000; i++) expect(f.mayContain(hashKey(key(i)))).toBe(true);
    let fp = 0;
    for (let i = 10_000; i < 110_000; i++) if (f.mayContain(hashKey(key(i)))) fp++;
    expect(fp).toBeLessThan(1000); // < 1%
  });
});

describe("KvStore key filters", () => {
  it("never report a written key absent, across filter growth; deletes keep them", async () => {
    const store = KvStore.open(await tempDir("fluss-kvfilter-"));
    for (let from = 0; from < 120_000; from += 20_000) writeKeys(store, from, from + 20_000);
    expect(falseNegatives(store, 0, 120_000)).toBe(0);
    expect(positives(store, 200_000, 300_000)).toBeLessThan(5000);
    store.write([{ key: key(5), value: null }], { appliedLogOffset: 120_001n, rowCount: null });
    expect(store.mayContain(hashKey(key(5)))).toBe(true); // a deleted key only costs a lookup
    await store.close();
  });

  it("record new keys queued as absent (no test of the older filters) across filter growth", async () => {
    const store = KvStore.open(await tempDir("fluss-kvfilter-"));
    let offset = 0n;
    let absentKeys = 0;
    for (let from = 0; from < 120_000; from += 20_000) {
      const writes = [];
      for (let i = from; i < from + 20_000; i++) {
        const k = key(i);
        const hash = hashKey(k);
        const absent = !store.mayContain(hash); // the write path's condition (false positives: no)
        if (absent) absentKeys++;
        writes.push({ key: k, value, hash, absent });
      }
      offset += 20_000n;
      expect(await store.writeAsync(writes, { appliedLogOffset: offset, rowCount: null })).toBe(true);
    }
    expect(absentKeys).toBeGreaterThan(115_000);
    expect(falseNegatives(store, 0, 120_000)).toBe(0);
    expect(positives(store, 200_000, 300_000)).toBeLessThan(5000);
    await store.close();
  });

  it("cover the keys found at open once the chunked scan is done, and writes during it", async () => {
    const dir = await tempDir("fluss-kvfilter-");
    let store = KvStore.open(dir);
    for (let from = 0; from < 160_000; from += 40_000) writeKeys(store, from, from + 40_000);
    await store.close();
    store = KvStore.open(dir);
    writeKeys(store, 160_000, 170_000); // while the scan is still going
    expect(falseNegatives(store, 0, 170_000)).toBe(0); // not ready yet: everything may be there
    const scanned = (): boolean => positives(store, 300_000, 310_000) < 1000;
    await eventually(scanned);
    expect(falseNegatives(store, 0, 170_000)).toBe(0);
    await store.close();
  });
});
