// The lmdb store and the pre-write buffer on their own: one transaction per write with its state,
// prefix and snapshot scans, hot backup; newest-wins reads, offset-ordered flush, truncation,
// backpressure.

import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { KV_KEY_BYTES_MAX, KvStore, prefixEnd } from "../../src/kv/kv-store.ts";
import { ENTRY_OVERHEAD_BYTES, PreWriteBuffer } from "../../src/kv/pre-write-buffer.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { injectDiskFull, waitFor } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const text = (v: Uint8Array | null | undefined): string | null | undefined =>
  v === null || v === undefined ? v : Buffer.from(v).toString();
const val = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

describe("KvStore", () => {
  it("writes data and state in one transaction; reopen sees both", async () => {
    const dir = await tempDir("fluss-kvstore-");
    const store = KvStore.open(dir);
    expect(store.state).toEqual({ appliedLogOffset: 0n, rowCount: 0n });
    store.write(
      [
        { key: b(1, 1), value: val("a") },
        { key: b(1, 2), value: val("b") },
        { key: b(2), value: val("c") },
        { key: b(1, 1), value: null },
      ],
      { appliedLogOffset: 4n, rowCount: 2n },
    );
    expect(text(store.get(b(1, 1)))).toBeNull();
    expect(text(store.get(b(1, 2)))).toBe("b");
    expect(text(store.getFast(b(2)))).toBe("c");
    expect([...store.prefixScan(b(1))].map((e) => text(e.value))).toEqual(["b"]);
    expect([...store.scan()].map((e) => text(e.value))).toEqual(["b", "c"]);
    await store.close();
    const again = KvStore.open(dir);
    expect(again.state).toEqual({ appliedLogOffset: 4n, rowCount: 2n });
    expect(again.count()).toBe(2);
    await again.close();
  });

  it("a snapshot scan keeps its view while writes continue; a backup opens on its own", async () => {
    const dir = await tempDir("fluss-kvstore-");
    const store = KvStore.open(`${dir}/db`);
    store.write([{ key: b(1), value: val("one") }], { appliedLogOffset: 1n, rowCount: 1n });
    const view = store.snapshotScan();
    store.write([{ key: b(2), value: val("two") }], { appliedLogOffset: 2n, rowCount: 2n });
    expect(view.state.appliedLogOffset).toBe(1n);
    expect([...view.entries].map((e) => text(e.value))).toEqual(["one"]);
    await store.backup(`${dir}/copy`);
    store.write([{ key: b(3), value: val("three") }], { appliedLogOffset: 3n, rowCount: 3n });
    const copy = KvStore.open(`${dir}/copy`, { readOnly: true });
    expect(copy.state.appliedLogOffset).toBe(2n);
    expect([...copy.scan()].length).toBe(2);
    await copy.close();
    await store.close();
    expect(isFlussError(catchOf(() => store.get(b(1))))).toBe(true);
  });

  it("prefix ends carry over 0xff bytes", () => {
    expect(prefixEnd(b(1, 0xff))).toEqual(b(2));
    expect(prefixEnd(b(0xff, 0xff))).toBeNull();
  });
});

function catchOf(f: () => unknown): unknown {
  try {
    f();
    return null;
  } catch (err) {
    return err;
  }
}

describe("PreWriteBuffer", () => {
  it("serves the newest entry per key and flushes below an offset in order, with the state", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"));
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    buf.stage("update", b(1), val("b"), 2n);
    buf.stage("insert", b(2), val("x"), 3n);
    buf.stage("delete", b(1), null, 4n);
    expect(buf.get(b(1))).toBeNull(); // staged delete
    expect(buf.get(b(9))).toBeUndefined();
    expect(buf.flush(3n, store)).toBe(2);
    expect(store.queuedState).toEqual({ appliedLogOffset: 3n, rowCount: 1n });
    expect(store.state).toEqual({ appliedLogOffset: 0n, rowCount: 0n }); // committed on lmdb's thread
    expect(store.get(b(1))).toBeNull();
    expect(text(buf.getFlushed(b(1)))).toBe("b"); // in flight: readable from the buffer meanwhile
    expect(buf.inFlightSize).toBe(1); // only the newest entry of key 1 is written
    await store.whenCommitted();
    expect(buf.inFlightSize).toBe(0);
    expect(buf.getFlushed(b(1))).toBeUndefined();
    expect(store.state).toEqual({ appliedLogOffset: 3n, rowCount: 1n });
    expect(text(store.get(b(1)))).toBe("b");
    expect(buf.get(b(1))).toBeNull(); // the delete at 4 is still staged and wins
    expect(text(buf.get(b(2)))).toBe("x");
    expect(buf.flush(10n, store)).toBe(2);
    expect(buf.getFlushed(b(1))).toBeNull(); // the delete, in flight
    await store.whenCommitted();
    expect(store.state).toEqual({ appliedLogOffset: 10n, rowCount: 1n });
    expect(store.get(b(1))).toBeNull();
    expect([buf.size, buf.pendingBytes]).toEqual([0, 0]);
    await store.close();
  });

  it("truncation drops entries at or above an offset and restores the previous value", () => {
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    buf.stage("update", b(1), val("b"), 5n);
    buf.stage("insert", b(2), val("c"), 6n);
    buf.truncateTo(5n);
    expect(text(buf.get(b(1)))).toBe("a");
    expect(buf.get(b(2))).toBeUndefined();
    expect(buf.size).toBe(1);
    buf.stage("update", b(1), val("again"), 5n); // the offsets are free again
    expect(text(buf.get(b(1)))).toBe("again");
  });

  it("refuses a batch with STORAGE_BACKPRESSURE_EXCEPTION once over its bound, never when empty", () => {
    const buf = new PreWriteBuffer(2 * ENTRY_OVERHEAD_BYTES);
    buf.checkAdmission(10 * ENTRY_OVERHEAD_BYTES); // empty: a big batch is let through
    buf.stage("insert", b(1), val("a"), 0n);
    buf.checkAdmission(10);
    buf.stage("insert", b(2), val("b"), 1n);
    const err = catchOf(() => buf.checkAdmission(10));
    expect(isFlussError(err) && err.is(Errors.STORAGE_BACKPRESSURE_EXCEPTION)).toBe(true);
    expect(isFlussError(err) && err.retriable).toBe(true);
  });

  it("a failed store write leaves the buffer as it was", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"));
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    await store.close();
    expect(isFlussError(catchOf(() => buf.flush(1n, store)))).toBe(true);
    expect(text(buf.get(b(1)))).toBe("a");
    expect(buf.size).toBe(1);
  });

  it("a failed commit (disk full) is retried until it succeeds, in order; reads see its writes meanwhile", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"), { commitRetryMs: 5 });
    const full = injectDiskFull(store);
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    expect(buf.flush(1n, store)).toBe(1);
    expect(await store.whenCommitted()).toBe(false);
    const err = store.commitFailure;
    expect(isFlussError(err) && err.is(Errors.STORAGE_EXCEPTION) && err.retriable).toBe(true);
    expect(err?.message).toMatch(
      /commit of kv store .* failed: No space left on device \(disk full or failing\)/,
    );
    expect(store.state).toEqual({ appliedLogOffset: 0n, rowCount: 0n });
    expect(store.get(b(1))).toBeNull(); // not committed ...
    expect(text(buf.getFlushed(b(1)))).toBe("a"); // ... but readable in flight
    // Newer writes queue behind the failed ones (key 1 changes again) while the disk stays full.
    buf.stage("update", b(1), val("b"), 1n);
    buf.stage("insert", b(2), val("c"), 2n);
    expect(buf.flush(3n, store)).toBe(2);
    await waitFor(() => full.attempts >= 3);
    expect([store.state.appliedLogOffset, buf.inFlightSize]).toEqual([0n, 2]);
    full.on = false; // space freed: the next retry commits everything, the failed writes first
    await waitFor(() => store.state.appliedLogOffset === 3n);
    expect(store.commitFailure).toBeNull();
    expect([text(store.get(b(1))), text(store.get(b(2)))]).toEqual(["b", "c"]);
    expect(store.state).toEqual({ appliedLogOffset: 3n, rowCount: 2n });
    expect([buf.inFlightSize, buf.inFlightBytes]).toEqual([0, 0]);
    expect(await store.whenCommitted()).toBe(true);
    await store.close();
    const again = KvStore.open(store.dir);
    expect([text(again.get(b(1))), text(again.get(b(2)))]).toEqual(["b", "c"]);
    await again.close();
  });

  it("commits are pipelined and chained: one handed over after a failed commit is skipped, never applied over the gap", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"), { commitRetryMs: 60_000 });
    store.write([{ key: b(1), value: val("a") }], { appliedLogOffset: 1n, rowCount: 1n });
    const full = injectDiskFull(store); // the next commit fails
    type Block = (key: Uint8Array, version: number, action: () => unknown) => Promise<boolean>;
    const chain = (store as unknown as { chain: { ifVersion: Block } }).chain;
    const injected = chain.ifVersion;
    const handedOver: Promise<boolean>[] = [];
    chain.ifVersion = (key, version, action) => {
      const p = injected(key, version, action);
      handedOver.push(p);
      full.on = false; // the commits after the first reach lmdb for real
      return p;
    };
    const first = store.writeAsync([{ key: b(2), value: val("b") }], { appliedLogOffset: 2n, rowCount: 2n });
    const second = store.writeAsync([{ key: b(3), value: val("c") }], { appliedLogOffset: 3n, rowCount: 3n });
    expect(handedOver.length).toBe(2); // both handed to lmdb before either settled
    expect(
      await handedOver[0]!.then(
        () => "committed",
        () => "failed",
      ),
    ).toBe("failed");
    expect(await handedOver[1]).toBe(false); // lmdb skipped it: its chain version did not match
    expect(store.state).toEqual({ appliedLogOffset: 1n, rowCount: 1n });
    expect([store.get(b(2)), store.get(b(3))]).toEqual([null, null]); // no gap, nothing after it
    await waitFor(() => {
      store.retryCommit(); // once both have settled: both again, in order, as one commit
      return handedOver.length === 3;
    });
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(store.state).toEqual({ appliedLogOffset: 3n, rowCount: 3n });
    expect([text(store.get(b(2))), text(store.get(b(3)))]).toEqual(["b", "c"]);
    await store.close();
  });

  it("closing a store whose commit keeps failing drops the queued writes and keeps the committed state", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"), { commitRetryMs: 5 });
    store.write([{ key: b(1), value: val("a") }], { appliedLogOffset: 1n, rowCount: 1n });
    injectDiskFull(store);
    const committed = store.writeAsync([{ key: b(2), value: val("b") }], {
      appliedLogOffset: 2n,
      rowCount: 2n,
    });
    expect(await store.whenCommitted()).toBe(false);
    await store.close();
    expect(await committed).toBe(false);
    const again = KvStore.open(store.dir);
    expect(again.state).toEqual({ appliedLogOffset: 1n, rowCount: 1n });
    expect([text(again.get(b(1))), again.get(b(2))]).toEqual(["a", null]);
    await again.close();
  });

  it("refuses a flush with a key lmdb cannot take before queuing any of it", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"));
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    buf.stage("insert", new Uint8Array(KV_KEY_BYTES_MAX + 1), val("too long a key for lmdb"), 1n);
    const err = catchOf(() => buf.flush(2n, store));
    expect(isFlussError(err) && err.is(Errors.KV_STORAGE_EXCEPTION)).toBe(true);
    expect((err as Error).message).toMatch(/key of 1979 bytes/);
    expect([buf.size, buf.inFlightSize]).toEqual([2, 0]); // nothing left the buffer
    expect(await store.whenCommitted()).toBe(true);
    expect(store.commitFailure).toBeNull();
    expect(store.queuedState).toEqual({ appliedLogOffset: 0n, rowCount: 0n });
    expect(store.get(b(1))).toBeNull();
    await store.close();
  });

  it("keeps flushed entries readable until their commit, across truncation and overlapping flushes", async () => {
    const store = KvStore.open(await tempDir("fluss-kvbuf-"));
    const buf = new PreWriteBuffer(1 << 20);
    buf.stage("insert", b(1), val("a"), 0n);
    buf.flush(1n, store);
    buf.stage("update", b(1), val("b"), 1n);
    buf.truncateTo(1n); // the failed append's entry goes; the in-flight one is what the key holds
    expect(text(buf.get(b(1)))).toBe("a");
    expect(text(buf.getFlushed(b(1)))).toBe("a");
    buf.stage("update", b(1), val("c"), 1n);
    buf.flush(2n, store); // a second flush of the key before the first commits
    expect(text(buf.getFlushed(b(1)))).toBe("c");
    expect(text(buf.get(b(1)))).toBe("c");
    await store.whenCommitted();
    expect(buf.inFlightSize).toBe(0);
    expect(buf.get(b(1))).toBeUndefined();
    expect(text(store.get(b(1)))).toBe("c");
    expect(store.state).toEqual({ appliedLogOffset: 2n, rowCount: 1n });
    expect(() => store.write([], { appliedLogOffset: 2n, rowCount: 1n })).not.toThrow(); // nothing pending
    buf.stage("update", b(1), val("d"), 2n);
    buf.flush(3n, store);
    expect(() => store.write([], { appliedLogOffset: 3n, rowCount: 1n })).toThrow(/queued/);
    await store.close(); // waits for the queued commit
    const again = KvStore.open(store.dir);
    expect(text(again.get(b(1)))).toBe("d");
    expect(again.state.appliedLogOffset).toBe(3n);
    await again.close();
  });
});
