// The merge half of a KV write (Fluss KvTablet.processKvRecords): for each record of a KV batch, in
// order, read the current value (pre-write buffer first, then the store), merge, record the
// changelog and stage the new value (or delete) tagged with the offset of its changelog record.
// Changelog per outcome, as Fluss emits it:
//   new key            +I new                       (one offset)
//   update, FULL       -U old, +U new (value staged at the +U offset)   (two offsets)
//   update, WAL        +U new                       (one offset)
//   delete             -D old                       (one offset)
//   no change / delete of a missing key / delete with behavior IGNORE: nothing
// WAL image with the default engine, a full-row write and no auto-increment column skips the
// lookup: every upsert is emitted as +U (insert or not), as Fluss does.
// A delete with behavior DISABLE fails the whole batch (DELETION_DISABLED_EXCEPTION).
// Whole-row writes (last row wins, no auto-increment column) never decode a row: the incoming
// bytes are validated (RowCodec.checkRecord), stored as they are and, like the old row's bytes,
// go straight into the changelog's Arrow columns. Other engines decode the old and the incoming
// row, merge, and encode the result once (the store and the changelog take the same bytes).
// Staged keys and values of one batch are copied into one arena (no allocation per record).
// Invariant: synchronous from the first read to the last stage (no interleaving writes); on any
// throw the caller truncates the buffer back to the batch's first offset. A store view
// (getFast) is used before the next store read. An insert of a key the store's filters ruled
// out (and nothing staged) is staged `absent`, so the store's filters record it without testing
// every older filter again.

import { ChangeType, Errors, FlussError, type KvRecordBatchView } from "@fluss-ts/common";
import type { AutoIncrement } from "./auto-increment.ts";
import { ChangelogBuilder } from "./changelog.ts";
import { hashKey } from "./key-index.ts";
import type { KvStore } from "./kv-store.ts";
import type { RowMerger } from "./merge/row-merger.ts";
import type { PreWriteBuffer, StagedKind } from "./pre-write-buffer.ts";
import type { RowCodec } from "./row-codec.ts";
import type { ChangelogImage } from "./types.ts";

export interface WritePathParts {
  readonly codec: RowCodec;
  readonly buffer: PreWriteBuffer;
  readonly store: () => KvStore;
  readonly image: ChangelogImage;
  readonly autoIncrement: AutoIncrement | null;
}

const EMPTY = new Uint8Array(0);

export class KvWritePath {
  private readonly parts: WritePathParts;
  private readonly changelog: ChangelogBuilder;
  private offset = 0;
  private arena = EMPTY;
  private arenaPos = 0;
  /** The last current() found nothing staged and the store's filters ruled the key out. */
  private absent = false;

  constructor(parts: WritePathParts) {
    this.parts = parts;
    this.changelog = new ChangelogBuilder(parts.codec.schema);
  }

  /** Merge and stage every record of `batch`; the changelog's first record is at `startOffset`. */
  stage(batch: KvRecordBatchView, merger: RowMerger, startOffset: bigint): ChangelogBuilder {
    this.changelog.begin();
    this.offset = Number(startOffset);
    // Keys plus (2-byte schema id + row) of every record fit in the batch bytes plus 2 per record.
    this.arena = new Uint8Array(batch.sizeInBytes + 2 * batch.recordCount);
    this.arenaPos = 0;
    const whole = merger.replacesWholeRow && this.parts.autoIncrement === null;
    const skipLookup = whole && this.parts.image === "WAL";
    const records = batch.records;
    try {
      for (let i = 0; i < records.length; i++) {
        const { key, row } = records[i]!;
        if (row === null) this.delete(key, merger, i);
        else if (whole) this.upsertWhole(key, row, skipLookup, i);
        else this.upsert(key, row, merger, i);
      }
    } finally {
      this.arena = EMPTY;
    }
    return this.changelog;
  }

  /** The current stored value (i16 schema id + row) of a key, or null; a store view is short-lived. */
  private current(hash: number, key: Uint8Array): Uint8Array | null {
    this.absent = false;
    const staged = this.parts.buffer.getByHash(key, hash);
    if (staged !== undefined) return staged;
    const store = this.parts.store();
    if (store.mayContain(hash)) return store.getFast(key);
    this.absent = true;
    return null;
  }

  /** Last row wins with the whole row: no decoding, the bytes go to the store and changelog. */
  private upsertWhole(key: Uint8Array, rowBytes: Uint8Array, skipLookup: boolean, i: number): void {
    const { codec } = this.parts;
    codec.checkRecord(key, rowBytes, i);
    const hash = hashKey(key);
    if (skipLookup) {
      this.emit(ChangeType.UPDATE_AFTER, rowBytes);
      this.stageValue(hash, "update", key, rowBytes);
      return;
    }
    const old = this.current(hash, key);
    if (old === null) {
      this.emit(ChangeType.INSERT, rowBytes);
      this.stageValue(hash, "insert", key, rowBytes, this.absent);
      return;
    }
    if (this.parts.image === "FULL") this.emit(ChangeType.UPDATE_BEFORE, codec.storedRow(old));
    this.emit(ChangeType.UPDATE_AFTER, rowBytes);
    this.stageValue(hash, "update", key, rowBytes);
  }

  private upsert(key: Uint8Array, rowBytes: Uint8Array, merger: RowMerger, i: number): void {
    const { codec } = this.parts;
    const incoming = codec.decodeRow(rowBytes, i);
    codec.checkKey(key, incoming, i);
    const hash = hashKey(key);
    const oldValue = this.current(hash, key);
    const old = oldValue === null ? null : codec.decodeValue(oldValue);
    if (old === null) {
      let row = merger.merge(null, incoming);
      if (this.parts.autoIncrement !== null) row = this.parts.autoIncrement.assign(row);
      const absent = this.absent;
      if (row === incoming) {
        this.emit(ChangeType.INSERT, rowBytes);
        this.stageValue(hash, "insert", key, rowBytes, absent);
      } else {
        const value = codec.encodeValue(row);
        this.emit(ChangeType.INSERT, codec.storedRow(value));
        this.stageEncoded(hash, "insert", key, value, absent);
      }
      return;
    }
    const merged = merger.merge(old, incoming);
    if (merged === old) return; // no change: nothing emitted, nothing staged
    const value = merged === incoming ? null : codec.encodeValue(merged);
    if (this.parts.image === "FULL") this.emit(ChangeType.UPDATE_BEFORE, codec.storedRow(oldValue!));
    if (value === null) {
      this.emit(ChangeType.UPDATE_AFTER, rowBytes);
      this.stageValue(hash, "update", key, rowBytes);
    } else {
      this.emit(ChangeType.UPDATE_AFTER, codec.storedRow(value));
      this.stageEncoded(hash, "update", key, value);
    }
  }

  private delete(key: Uint8Array, merger: RowMerger, i: number): void {
    if (merger.deleteBehavior === "IGNORE") return;
    if (merger.deleteBehavior === "DISABLE") {
      throw new FlussError(
        Errors.DELETION_DISABLED_EXCEPTION,
        "deletes are disabled for this table ('table.delete.behavior' = 'disable')",
      );
    }
    const { codec } = this.parts;
    codec.checkKey(key, null, i);
    const hash = hashKey(key);
    const oldValue = this.current(hash, key);
    if (oldValue === null) return; // nothing to delete
    const after = merger.replacesWholeRow ? null : merger.delete(codec.decodeValue(oldValue));
    const oldRow = codec.storedRow(oldValue);
    if (after === null) {
      this.emit(ChangeType.DELETE, oldRow);
      this.parts.buffer.stageByHash(hash, "delete", this.copyKey(key), null, this.offset - 1);
      return;
    }
    const value = codec.encodeValue(after);
    if (this.parts.image === "FULL") this.emit(ChangeType.UPDATE_BEFORE, oldRow);
    this.emit(ChangeType.UPDATE_AFTER, codec.storedRow(value));
    this.stageEncoded(hash, "update", key, value);
  }

  /** Record one changelog entry at the next offset. */
  private emit(changeType: number, row: Uint8Array): void {
    this.changelog.add(changeType, row);
    this.offset++;
  }

  /** Stage the incoming row bytes as the key's value (copied into the batch arena). */
  private stageValue(
    hash: number,
    kind: StagedKind,
    key: Uint8Array,
    rowBytes: Uint8Array,
    absent = false,
  ): void {
    const storedKey = this.copyKey(key);
    const start = this.arenaPos;
    this.arenaPos = this.parts.codec.writeValue(this.arena, start, rowBytes);
    const value = this.arena.subarray(start, this.arenaPos);
    this.parts.buffer.stageByHash(hash, kind, storedKey, value, this.offset - 1, absent);
  }

  private stageEncoded(
    hash: number,
    kind: StagedKind,
    key: Uint8Array,
    value: Uint8Array,
    absent = false,
  ): void {
    this.parts.buffer.stageByHash(hash, kind, this.copyKey(key), value, this.offset - 1, absent);
  }

  private copyKey(key: Uint8Array): Uint8Array {
    const start = this.arenaPos;
    this.arena.set(key, start);
    this.arenaPos = start + key.byteLength;
    return this.arena.subarray(start, this.arenaPos);
  }
}
