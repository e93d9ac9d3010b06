// Bit rot in the KV store (store format 2): a flipped bit in a stored key, value or state is caught
// by the read that meets it (CORRUPT_RECORD_EXCEPTION naming the store); the tablet then rebuilds
// its store from the newest snapshot plus the changelog (or the whole changelog) and serves again;
// format 1 stores (no checksums) are migrated at open. Bits are flipped in the data file while the
// store is open, through the page cache it maps.

import fs from "node:fs";
import { Errors, type FlussError, isFlussError, makeSchema } from "@fluss-ts/common";
import { open } from "lmdb";
import { afterAll, describe, expect, it } from "vitest";
import { LocalRemoteSnapshotStore, type SnapshotTarget } from "../../src/index.ts";
import { migrateStore } from "../../src/kv/kv-migrate.ts";
import { KvStore } from "../../src/kv/kv-store.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const val = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const text = (v: Uint8Array | null): string | null => (v === null ? null : Buffer.from(v).toString());

const schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "s", type: "STRING" },
  ],
  ["id"],
);

/** Flip `bit` in the middle byte of every copy of `needle` in `file` (written through); returns the copies. */
function rot(file: string, needle: string, bit = 0x10): number {
  const bytes = fs.readFileSync(file);
  const pattern = Buffer.from(needle);
  const fd = fs.openSync(file, "r+");
  let copies = 0;
  try {
    for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) {
      const where = at + (pattern.length >> 1);
      fs.writeSync(fd, Buffer.from([bytes[where]! ^ bit]), 0, 1, where);
      copies++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return copies;
}

function catchOf(f: () => unknown): unknown {
  try {
    f();
    return null;
  } catch (err) {
    return err;
  }
}

function isCorrupt(err: unknown): err is FlussError {
  return isFlussError(err) && err.is(Errors.CORRUPT_RECORD_EXCEPTION);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("KvStore checksums", () => {
  it("a flipped bit in a stored value fails every read of it; the other entries still read", async () => {
    const dir = await tempDir("fluss-kvrot-");
    const reported: FlussError[] = [];
    const store = KvStore.open(dir, { onCorrupt: (e) => reported.push(e) });
    store.write(
      [
        { key: b(1), value: val("value one NEEDLE") },
        { key: b(2), value: val("value two") },
      ],
      { appliedLogOffset: 2n, rowCount: 2n },
    );
    expect(text(store.get(b(1)))).toBe("value one NEEDLE");
    expect(rot(`${dir}/data.mdb`, "NEEDLE")).toBeGreaterThan(0);
    const err = catchOf(() => store.get(b(1)));
    expect(isCorrupt(err) && err.retriable).toBe(true);
    expect((err as Error).message).toBe(
      `kv store ${dir} is damaged: the entry of key 0x01 fails its checksum`,
    );
    expect(isCorrupt(catchOf(() => store.getFast(b(1))))).toBe(true);
    expect(text(store.get(b(2)))).toBe("value two");
    expect(isCorrupt(catchOf(() => [...store.scan()]))).toBe(true);
    expect(isCorrupt(catchOf(() => [...store.prefixScan(b(1))]))).toBe(true);
    expect(isCorrupt(catchOf(() => [...store.snapshotScan().entries]))).toBe(true);
    expect(isCorrupt(store.verify())).toBe(true);
    expect(reported).toEqual([err]); // reported once
    await store.close();
  });

  it("a flipped bit in a stored key fails the scan that meets it", async () => {
    const dir = await tempDir("fluss-kvrot-");
    const store = KvStore.open(dir);
    const key = val("key-KEYNEEDLE-1");
    store.write(
      [
        { key, value: val("v") },
        { key: val("other"), value: val("w") },
      ],
      { appliedLogOffset: 2n, rowCount: 2n },
    );
    expect(rot(`${dir}/data.mdb`, "KEYNEEDLE")).toBeGreaterThan(0);
    expect(isCorrupt(catchOf(() => [...store.scan()]))).toBe(true);
    expect(isCorrupt(store.verify())).toBe(true);
    await store.close();
  });

  it("a flipped bit in the state (a digit that stays a digit) fails the open (the store is then rebuilt)", async () => {
    const dir = await tempDir("fluss-kvrot-");
    const store = KvStore.open(dir);
    store.write([{ key: b(1), value: val("v") }], { appliedLogOffset: 98765n, rowCount: 1n });
    await store.close();
    expect(rot(`${dir}/data.mdb`, "98765", 0x01)).toBeGreaterThan(0); // 98765 -> 98665
    const err = catchOf(() => KvStore.open(dir));
    expect(isFlussError(err) && err.is(Errors.KV_STORAGE_EXCEPTION)).toBe(true);
    expect((err as Error).message).toMatch(/state fails its checksum/);
  });
});

/** Rewrite the store in `dir` the way format 1 kept it: values and state without checksums. */
async function toFormat1(dir: string): Promise<void> {
  const env = open<Uint8Array, Uint8Array>({
    path: dir,
    maxDbs: 2,
    keyEncoding: "binary",
    encoding: "binary",
  });
  const data = env.openDB<Uint8Array, Uint8Array>({
    name: "data",
    keyEncoding: "binary",
    encoding: "binary",
  });
  const meta = env.openDB<Uint8Array, Uint8Array>({
    name: "meta",
    keyEncoding: "binary",
    encoding: "binary",
  });
  const entries = [...data.getRange({})].map((e) => ({
    key: Buffer.from(e.key),
    value: Buffer.from(e.value),
  }));
  const state = meta.getBinary(Buffer.from("state"))!;
  const doc = JSON.parse(Buffer.from(state.subarray(0, state.length - 4)).toString()) as Record<
    string,
    unknown
  >;
  env.transactionSync(() => {
    for (const e of entries) data.putSync(e.key, e.value.subarray(0, e.value.length - 4));
    meta.putSync(Buffer.from("state"), Buffer.from(JSON.stringify({ ...doc, version: 1 })));
  });
  await env.close();
}

describe("store format migration", () => {
  it("a format 1 store is migrated at open: same rows and state, nothing replayed", async () => {
    let h = await openHarness({ schema });
    await h.put([upsert(1, "a"), upsert(2, "b")]);
    await h.put([upsert(2, "b2"), upsert(3, "c")]);
    const rows = h.rows();
    const applied = h.kv.appliedLogOffset;
    await h.close();
    await toFormat1(`${h.kvDir}/db`);
    expect(catchOf(() => KvStore.open(`${h.kvDir}/db`))).toMatchObject({
      message: expect.stringMatching(/store format 1 .*migrate it first/),
    });
    h = await openHarness({ schema, dir: h.dir });
    expect(h.kv.stats()).toMatchObject({ discardedLocalStore: null, recoveredRecords: 0 });
    expect(h.kv.appliedLogOffset).toBe(applied);
    expect(h.rows()).toEqual(rows);
    await h.close();
    expect(await migrateStore(`${h.kvDir}/db`, 0)).toBe(false); // current already
    expect(fs.readdirSync(h.kvDir).filter((n) => n.startsWith("db."))).toEqual([]);
  });
});

describe("KvTablet rebuild after damage", () => {
  async function target(): Promise<SnapshotTarget> {
    const remote = new LocalRemoteSnapshotStore(await tempDir("fluss-remote-"));
    return { remote, scope: { tableId: 7n, partition: null, bucket: 0 }, retained: 2 };
  }

  it("a damaged entry fails its lookup; the store is rebuilt from snapshot + changelog; lookups work again", async () => {
    const snapshots = await target();
    let h = await openHarness({ schema, snapshots });
    await h.put([upsert(1, "one NEEDLE"), upsert(2, "two")]);
    await h.kv.snapshot();
    await h.put([upsert(3, "three"), upsert(2, "two again")]); // only in the changelog
    const rows = h.rows();
    expect(rot(`${h.kvDir}/db/data.mdb`, "NEEDLE")).toBeGreaterThan(0);
    const err = catchOf(() => h.get(1));
    expect(isCorrupt(err) && err.retriable).toBe(true);
    expect((err as Error).message).toContain(`${h.kvDir}/db is damaged`);
    const during = catchOf(() => h.get(2)); // every call fails while the store is rebuilt
    expect(isCorrupt(during) && during.message).toMatch(/is being rebuilt from its snapshot and changelog/);
    await waitFor(() => catchOf(() => h.get(1)) === null);
    expect(h.get(1)).toEqual([1, "one NEEDLE"]);
    expect(h.rows()).toEqual(rows);
    expect(h.kv.stats()).toMatchObject({ storeRebuilds: 1, recoveredRecords: 2 }); // +I 3, +U 2
    expect(h.kv.stats().discardedLocalStore).toMatch(/^it is damaged: kv store .* fails its checksum$/);
    expect(fs.readdirSync(h.kvDir).filter((n) => n.startsWith("db.unusable-")).length).toBe(1);
    await h.put([upsert(4, "four NEEDLE")]);
    expect(h.get(4)).toEqual([4, "four NEEDLE"]);
    // A second damage, a second rebuild: one copy moved aside, not two.
    expect(rot(`${h.kvDir}/db/data.mdb`, "NEEDLE")).toBeGreaterThan(0);
    expect(isCorrupt(catchOf(() => h.get(4)))).toBe(true);
    await waitFor(() => catchOf(() => h.get(4)) === null);
    expect(h.get(4)).toEqual([4, "four NEEDLE"]);
    expect(h.kv.stats().storeRebuilds).toBe(2);
    expect(fs.readdirSync(h.kvDir).filter((n) => n.startsWith("db.unusable-")).length).toBe(1);
    await h.close();
    h = await openHarness({ schema, dir: h.dir, snapshots });
    expect(h.rows()).toEqual([...rows, [4, "four NEEDLE"]]);
    await h.close();
  });

  it("a write that meets a damaged value fails and stages nothing; after the rebuild (whole changelog) it applies", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "one NEEDLE")]);
    const end = h.log.logEndOffset;
    expect(rot(`${h.kvDir}/db/data.mdb`, "NEEDLE")).toBeGreaterThan(0);
    const err = await h.put([upsert(1, "one again")]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCorrupt(err)).toBe(true);
    expect([h.log.logEndOffset, h.kv.stats().preWriteBufferEntries]).toEqual([end, 0]);
    await waitFor(() => catchOf(() => h.get(1)) === null);
    expect(h.get(1)).toEqual([1, "one NEEDLE"]);
    await h.put([upsert(1, "one again")]);
    expect(await h.changelog(end)).toEqual(["-U(1, one NEEDLE)", "+U(1, one again)"]);
    expect(h.get(1)).toEqual([1, "one again"]);
    await h.close();
  });
});
