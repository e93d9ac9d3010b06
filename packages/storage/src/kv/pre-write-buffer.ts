// The pre-write buffer of a KV tablet (Fluss KvPreWriteBuffer): values (or deletes) staged by the
// leader's write path, each tagged with the log offset of the changelog record that produced it,
// waiting for the high watermark to pass that offset before they reach the KV store.
//  - get(key): the newest entry of a key wins, staged or flushed and not yet committed (the
//    write path reads here before the store).
//  - flush(upTo, store): every entry below `upTo` is queued to the store as ONE write together
//    with appliedLogOffset = upTo (KvStore.writeAsync: lmdb commits it on its own thread, later
//    when a commit fails and is retried). Only the newest entry of a key is written (the older
//    ones would be overwritten in the same transaction anyway), in approximate key order (by up
//    to 6 bytes after the keys' common prefix), which makes lmdb's inserts far cheaper than in
//    offset order. Until that commit the written entries stay readable as "in flight".
//  - getFlushed(key) / inFlightUnder(prefix): the in-flight entries: what a committed read (a
//    lookup) must see that the store may not show yet; overlaid() lays them over store entries.
//  - clear(): forget everything (the tablet rebuilds its store and re-stages from the log).
//  - truncateTo(offset): drop entries at or above `offset` (a log append that failed must leave
//    nothing staged); a key falls back to its previous staged entry, if that one is still here.
// Bound: `bytesMax` over keys, values and a fixed per-entry overhead of the entries not flushed
// and of those in flight (flushed, not committed: a store that commits slowly or fails holds
// them). A batch is admitted only while both are empty or the batch fits (checkAdmission);
// otherwise the write fails with
// STORAGE_BACKPRESSURE_EXCEPTION (retriable), as Fluss's write-path admission gate does. One
// admitted batch may overshoot the bound by its own size.
// Entries are found by key bytes in a KeyIndex (no string per key); the write path hashes each
// key once (hashKey) and uses the *ByHash methods. Offsets are kept as numbers (log offsets stay
// far below 2^53).
// Invariants: staged offsets strictly increase; entries below the head are flushed and no longer
// reachable from the key map; the in-flight map holds, per key, the newest flushed entry whose
// commit has not succeeded; pendingBytes is the sum over unflushed entries, inFlightBytes over
// the in-flight map; `next` of an entry is the newer staged entry of the same key, if any.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import { hashKey, KeyIndex } from "./key-index.ts";
import type { KvEntry, KvStore, KvWrite } from "./kv-store.ts";

/** What the staged change does to the key: adds a row, changes it, or removes it. */
export type StagedKind = "insert" | "update" | "delete";

/** Memory an entry costs beyond its key and value bytes (object, map slot, list slot). */
export const ENTRY_OVERHEAD_BYTES = 96;

interface Entry {
  readonly hash: number;
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly offset: number;
  readonly kind: StagedKind;
  readonly bytes: number;
  /** The write path found the key in no store filter and nothing staged (KvWrite.absent). */
  readonly absent: boolean;
  prev: Entry | null;
  next: Entry | null;
  flushed: boolean;
}

function offsetNumber(offset: bigint): number {
  const n = Number(offset);
  assert(Number.isSafeInteger(n), "log offsets stay below 2^53");
  return n;
}

export class PreWriteBuffer {
  readonly bytesMax: number;
  /** Newest flushed entry per key whose store commit has not succeeded. */
  private inFlight = new KeyIndex<Entry>();
  private inFlightTotal = 0;
  private byKey = new KeyIndex<Entry>();
  private entries: Entry[] = [];
  private head = 0;
  private pending = 0;
  private lastOffset = -1;

  constructor(bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax > 0, "the pre-write buffer has a positive bound");
    this.bytesMax = bytesMax;
  }

  get pendingBytes(): number {
    return this.pending;
  }

  /** Bytes of the entries in flight (flushed, commit not yet succeeded). */
  get inFlightBytes(): number {
    return this.inFlightTotal;
  }

  /** Entries not yet flushed. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Refuse a batch of about `incomingBytes` while the buffer is over its bound. */
  checkAdmission(incomingBytes: number): void {
    const held = this.pending + this.inFlightTotal;
    if (held === 0 || held + incomingBytes <= this.bytesMax) return;
    throw new FlussError(
      Errors.STORAGE_BACKPRESSURE_EXCEPTION,
      `kv pre-write buffer holds ${this.pending} bytes waiting for the high watermark and ${this.inFlightTotal} ` +
        `waiting for the store (${this.bytesMax} allowed); retry later`,
    );
  }

  /** The staged value of `key` (null = staged delete), or undefined when nothing is staged. */
  get(key: Uint8Array): Uint8Array | null | undefined {
    return this.getByHash(key, hashKey(key));
  }

  /** get() with the key's hashKey. */
  getByHash(key: Uint8Array, hash: number): Uint8Array | null | undefined {
    const e = this.byKey.get(key, hash) ?? this.inFlight.get(key, hash);
    return e === undefined ? undefined : e.value;
  }

  /** The value of `key` flushed below the high watermark and not yet committed (null = delete), or undefined. */
  getFlushed(key: Uint8Array): Uint8Array | null | undefined {
    if (this.inFlight.size === 0) return undefined;
    const e = this.inFlight.get(key, hashKey(key));
    return e === undefined ? undefined : e.value;
  }

  /** Entries flushed whose commit has not succeeded. */
  get inFlightSize(): number {
    return this.inFlight.size;
  }

  /** In-flight entries whose key starts with `prefix` (null value = delete), in key order. */
  inFlightUnder(prefix: Uint8Array): { key: Uint8Array; value: Uint8Array | null }[] {
    const out: { key: Uint8Array; value: Uint8Array | null }[] = [];
    for (const e of this.inFlight.values()) {
      if (startsWith(e.key, prefix)) out.push({ key: e.key, value: e.value });
    }
    return out.sort((a, b) => Buffer.compare(a.key, b.key));
  }

  /** Forget every entry (staged and in flight). */
  clear(): void {
    this.byKey = new KeyIndex<Entry>();
    this.inFlight = new KeyIndex<Entry>();
    this.inFlightTotal = 0;
    this.entries = [];
    this.head = 0;
    this.pending = 0;
    this.lastOffset = -1;
  }

  /** Stage a change of `key` produced by the changelog record at `offset`. */
  stage(kind: StagedKind, key: Uint8Array, value: Uint8Array | null, offset: bigint): void {
    this.stageByHash(hashKey(key), kind, key, value, offsetNumber(offset));
  }

  /**
   * stage() with the key's hashKey and the offset as a number; `absent`: the store's filters
   * said the key is not stored (mayContain false) and nothing of it is staged or in flight.
   */
  stageByHash(
    hash: number,
    kind: StagedKind,
    key: Uint8Array,
    value: Uint8Array | null,
    offset: number,
    absent = false,
  ): void {
    assert(offset > this.lastOffset, "staged offsets strictly increase");
    assert((value === null) === (kind === "delete"), "only deletes stage no value");
    const bytes = key.byteLength + (value === null ? 0 : value.byteLength) + ENTRY_OVERHEAD_BYTES;
    const entry: Entry = {
      hash,
      key,
      value,
      offset,
      kind,
      bytes,
      absent,
      prev: null,
      next: null,
      flushed: false,
    };
    const prev = this.byKey.set(entry) ?? null;
    assert(!absent || (prev === null && kind === "insert"), "an absent key is a first insert");
    if (prev !== null) {
      entry.prev = prev;
      prev.next = entry;
    }
    this.entries.push(entry);
    this.pending += bytes;
    this.lastOffset = offset;
  }

  /** Drop every entry at or above `offset`. */
  truncateTo(offset: bigint): void {
    const limit = offsetNumber(offset);
    while (this.entries.length > this.head) {
      const e = this.entries[this.entries.length - 1]!;
      if (e.offset < limit) break;
      this.entries.pop();
      this.pending -= e.bytes;
      if (e.prev !== null) e.prev.next = null;
      if (e.prev !== null && !e.prev.flushed)
        this.byKey.set(e.prev); // replaces e
      else this.byKey.delete(e);
    }
    if (this.lastOffset >= limit) this.lastOffset = limit - 1;
  }

  /** Index of the first entry at or above `limit` (binary search: offsets increase). */
  private endBelow(limit: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.offset < limit) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Queue every entry below `upTo` to `store` as one transaction with appliedLogOffset = upTo and
   * the row count moved by the inserts and deletes applied (when tracked). Returns how many
   * entries were flushed; nothing changes here when queuing fails. `store.whenCommitted()` waits
   * for the commit; the entries stay in flight until it succeeds.
   */
  flush(upTo: bigint, store: KvStore): number {
    const before = store.queuedState;
    if (upTo <= before.appliedLogOffset) return 0;
    const entries = this.entries;
    const end = this.endBelow(offsetNumber(upTo));
    const limit = end < entries.length ? entries[end]!.offset : Number.POSITIVE_INFINITY;
    const writes: Entry[] = [];
    let delta = 0;
    for (let i = this.head; i < end; i++) {
      const e = entries[i]!;
      delta += e.kind === "insert" ? 1 : e.kind === "delete" ? -1 : 0;
      if (e.next === null || e.next.offset >= limit) writes.push(e); // the newest one flushed
    }
    const committed = store.writeAsync(sortedByKey(writes) as readonly KvWrite[], {
      appliedLogOffset: upTo,
      rowCount: before.rowCount === null ? null : before.rowCount + BigInt(delta),
    });
    const inFlight = this.inFlight;
    for (const e of writes) {
      const old = inFlight.set(e);
      this.inFlightTotal += old === undefined ? e.bytes : e.bytes - old.bytes;
    }
    void committed.then((ok) => {
      if (!ok || inFlight !== this.inFlight) return; // closed first, or cleared
      for (const e of writes) {
        // Not there when a newer flush of its key replaced it.
        if (inFlight.delete(e)) this.inFlightTotal -= e.bytes;
      }
    });
    for (let i = this.head; i < end; i++) {
      const e = entries[i]!;
      e.flushed = true;
      if (e.next !== null) e.next.prev = null; // its predecessors are flushed: let them go
      e.prev = null;
      this.pending -= e.bytes;
      if (e.next === null) this.byKey.delete(e); // the newest of its key: indexed
    }
    const applied = end - this.head;
    this.head = end;
    this.compact();
    return applied;
  }

  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * `entries` ordered by the key bytes after the common prefix of all their keys, as many as fit
 * next to the index in 64 bits (6 for up to 65536 entries), ties in their order. Only lmdb's page
 * locality depends on it: each key appears once.
 */
function sortedByKey(entries: Entry[]): Entry[] {
  const n = entries.length;
  if (n < 2 || n > 0x1000000) return entries;
  const indexBits = Math.max(16, 32 - Math.clz32(n - 1));
  const loKeyMask = indexBits === 32 ? 0 : ~((1 << indexBits) - 1);
  const first = entries[0]!.key;
  let common = first.length;
  for (let i = 1; i < n && common > 0; i++) {
    const k = entries[i]!.key;
    let j = 0;
    const m = Math.min(common, k.length);
    while (j < m && k[j] === first[j]) j++;
    common = j;
  }
  // Sort 64-bit words: 6 key bytes (big-endian, missing bytes 0), then the 16-bit index.
  const words = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = entries[i]!.key;
    const at = common;
    const len = k.length;
    const b0 = at < len ? k[at]! : 0;
    const b1 = at + 1 < len ? k[at + 1]! : 0;
    const b2 = at + 2 < len ? k[at + 2]! : 0;
    const b3 = at + 3 < len ? k[at + 3]! : 0;
    const b4 = at + 4 < len ? k[at + 4]! : 0;
    const b5 = at + 5 < len ? k[at + 5]! : 0;
    words[2 * i + 1] = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
    words[2 * i] = ((((b4 << 24) | (b5 << 16)) & loKeyMask) | i) >>> 0;
  }
  new BigUint64Array(words.buffer).sort();
  const indexMask = indexBits === 32 ? -1 : (1 << indexBits) - 1;
  const out = new Array<Entry>(n);
  for (let i = 0; i < n; i++) out[i] = entries[(words[2 * i]! & indexMask) >>> 0]!;
  return out;
}

/**
 * Values of `stored` (in key order) with `overlay` (in key order, newer) laid over them: an
 * overlay value replaces the stored one of its key, a null one removes it.
 */
export function* overlaid(
  stored: Iterable<KvEntry>,
  overlay: readonly { key: Uint8Array; value: Uint8Array | null }[],
): Generator<Uint8Array> {
  let i = 0;
  for (const e of stored) {
    while (i < overlay.length && Buffer.compare(overlay[i]!.key, e.key) < 0) {
      const v = overlay[i++]!.value;
      if (v !== null) yield v;
    }
    if (i < overlay.length && Buffer.compare(overlay[i]!.key, e.key) === 0) {
      const v = overlay[i++]!.value;
      if (v !== null) yield v;
      continue;
    }
    yield e.value;
  }
  for (; i < overlay.length; i++) {
    const v = overlay[i]!.value;
    if (v !== null) yield v;
  }
}
