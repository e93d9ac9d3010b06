// The pre-write buffer of a KV tablet (Fluss KvPreWriteBuffer): values (or deletes) staged by the
// leader's write path, each tagged with the log offset of the changelog record that produced it,
// waiting for the high watermark to pass that offset before they reach the KV store.
//  - get(key): the newest staged entry of a key wins (the write path reads here before the store).
//  - flush(upTo, store): every entry below `upTo`, in offset order, goes to the store in ONE
//    transaction together with appliedLogOffset = upTo.
//  - truncateTo(offset): drop entries at or above `offset` (a log append that failed must leave
//    nothing staged); a key falls back to its previous staged entry, if that one is still here.
// Bound: `bytesMax` over keys, values and a fixed per-entry overhead. A batch is admitted only
// while the buffer is empty or the batch fits (checkAdmission); otherwise the write fails with
// STORAGE_BACKPRESSURE_EXCEPTION (retriable), as Fluss's write-path admission gate does. One
// admitted batch may overshoot the bound by its own size.
// Invariants: staged offsets strictly increase; entries below the head are flushed and no longer
// reachable from the key map; pendingBytes is the sum over unflushed entries.

import { assert, Errors, FlussError } from "@fluss-ts/common";
import type { KvStore, KvStoreState, KvWrite } from "./kv-store.ts";

/** What the staged change does to the key: adds a row, changes it, or removes it. */
export type StagedKind = "insert" | "update" | "delete";

/** Memory an entry costs beyond its key and value bytes (object, map slot, list slot). */
export const ENTRY_OVERHEAD_BYTES = 96;

interface Entry {
  readonly id: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly offset: bigint;
  readonly kind: StagedKind;
  readonly bytes: number;
  prev: Entry | null;
  flushed: boolean;
}

/** Map key of a byte key: one UTF-16 unit per byte, unique and cheap to hash. */
function idOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

export class PreWriteBuffer {
  readonly bytesMax: number;
  private readonly byKey = new Map<string, Entry>();
  private entries: Entry[] = [];
  private head = 0;
  private pending = 0;
  private lastOffset = -1n;

  constructor(bytesMax: number) {
    assert(Number.isSafeInteger(bytesMax) && bytesMax > 0, "the pre-write buffer has a positive bound");
    this.bytesMax = bytesMax;
  }

  get pendingBytes(): number {
    return this.pending;
  }

  /** Entries not yet flushed. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Refuse a batch of about `incomingBytes` while the buffer is over its bound. */
  checkAdmission(incomingBytes: number): void {
    if (this.pending === 0 || this.pending + incomingBytes <= this.bytesMax) return;
    throw new FlussError(
      Errors.STORAGE_BACKPRESSURE_EXCEPTION,
      `kv pre-write buffer holds ${this.pending} of ${this.bytesMax} bytes waiting for the high watermark; retry later`,
    );
  }

  /** The staged value of `key` (null = staged delete), or undefined when nothing is staged. */
  get(key: Uint8Array): Uint8Array | null | undefined {
    const e = this.byKey.get(idOf(key));
    return e === undefined ? undefined : e.value;
  }

  /** Stage a change of `key` produced by the changelog record at `offset`. */
  stage(kind: StagedKind, key: Uint8Array, value: Uint8Array | null, offset: bigint): void {
    assert(offset > this.lastOffset, "staged offsets strictly increase");
    assert((value === null) === (kind === "delete"), "only deletes stage no value");
    const id = idOf(key);
    const bytes = key.byteLength + (value?.byteLength ?? 0) + ENTRY_OVERHEAD_BYTES;
    const entry: Entry = {
      id,
      key,
      value,
      offset,
      kind,
      bytes,
      prev: this.byKey.get(id) ?? null,
      flushed: false,
    };
    this.byKey.set(id, entry);
    this.entries.push(entry);
    this.pending += bytes;
    this.lastOffset = offset;
  }

  /** Drop every entry at or above `offset`. */
  truncateTo(offset: bigint): void {
    while (this.entries.length > this.head) {
      const e = this.entries[this.entries.length - 1]!;
      if (e.offset < offset) break;
      this.entries.pop();
      this.pending -= e.bytes;
      if (this.byKey.get(e.id) === e) {
        if (e.prev !== null && !e.prev.flushed) this.byKey.set(e.id, e.prev);
        else this.byKey.delete(e.id);
      }
    }
    if (this.lastOffset >= offset) this.lastOffset = offset - 1n;
  }

  /**
   * Apply every entry below `upTo` to `store` in one transaction with appliedLogOffset = upTo and
   * the row count moved by the inserts and deletes applied (when tracked). Returns how many
   * entries were applied; nothing changes when the store write fails.
   */
  flush(upTo: bigint, store: KvStore): number {
    const before = store.state;
    if (upTo <= before.appliedLogOffset) return 0;
    let end = this.head;
    while (end < this.entries.length && this.entries[end]!.offset < upTo) end++;
    const batch = this.entries.slice(this.head, end);
    store.write(batch as readonly KvWrite[], {
      appliedLogOffset: upTo,
      rowCount: rowCountAfter(before, batch),
    });
    for (const e of batch) {
      e.flushed = true;
      e.prev = null; // its predecessors are flushed too: let them go
      this.pending -= e.bytes;
      if (this.byKey.get(e.id) === e) this.byKey.delete(e.id);
    }
    this.head = end;
    this.compact();
    return batch.length;
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

function rowCountAfter(before: KvStoreState, batch: readonly Entry[]): bigint | null {
  if (before.rowCount === null) return null;
  let delta = 0;
  for (const e of batch) delta += e.kind === "insert" ? 1 : e.kind === "delete" ? -1 : 0;
  return before.rowCount + BigInt(delta);
}
