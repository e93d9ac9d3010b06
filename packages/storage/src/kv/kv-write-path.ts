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
// Invariant: synchronous from the first read to the last stage (no interleaving writes); on any
// throw the caller truncates the buffer back to the batch's first offset.

import { ChangeType, copyBytes, Errors, FlussError, type KvRecordBatchView } from "@fluss-ts/common";
import type { AutoIncrement } from "./auto-increment.ts";
import { ChangelogBuilder } from "./changelog.ts";
import type { KvStore } from "./kv-store.ts";
import type { RowMerger } from "./merge/row-merger.ts";
import type { PreWriteBuffer } from "./pre-write-buffer.ts";
import type { RowCodec } from "./row-codec.ts";
import type { ChangelogImage, Row } from "./types.ts";

export interface WritePathParts {
  readonly codec: RowCodec;
  readonly buffer: PreWriteBuffer;
  readonly store: () => KvStore;
  readonly image: ChangelogImage;
  readonly autoIncrement: AutoIncrement | null;
}

export class KvWritePath {
  private readonly parts: WritePathParts;
  private changelog: ChangelogBuilder;
  private offset = 0n;

  constructor(parts: WritePathParts) {
    this.parts = parts;
    this.changelog = new ChangelogBuilder(parts.codec.schema);
  }

  /** Merge and stage every record of `batch`; the changelog's first record is at `startOffset`. */
  stage(batch: KvRecordBatchView, merger: RowMerger, startOffset: bigint): ChangelogBuilder {
    this.changelog = new ChangelogBuilder(this.parts.codec.schema);
    this.offset = startOffset;
    const skipLookup =
      this.parts.image === "WAL" && merger.replacesWholeRow && this.parts.autoIncrement === null;
    for (let i = 0; i < batch.records.length; i++) {
      const { key, row } = batch.records[i]!;
      if (row === null) this.delete(key, merger, i);
      else this.upsert(key, row, merger, skipLookup, i);
    }
    return this.changelog;
  }

  private current(key: Uint8Array): Row | null {
    const staged = this.parts.buffer.get(key);
    if (staged !== undefined) return staged === null ? null : this.parts.codec.decodeValue(staged);
    const stored = this.parts.store().getFast(key);
    return stored === null ? null : this.parts.codec.decodeValue(stored);
  }

  private upsert(
    keyView: Uint8Array,
    rowBytes: Uint8Array,
    merger: RowMerger,
    skipLookup: boolean,
    i: number,
  ): void {
    const { codec } = this.parts;
    const incoming = codec.decodeRow(rowBytes, i);
    codec.checkKey(keyView, incoming, i);
    const key = copyBytes(keyView);
    const stored = (row: Row): Uint8Array =>
      row === incoming ? codec.valueOfRowBytes(rowBytes) : codec.encodeValue(row);
    if (skipLookup) {
      this.emit(ChangeType.UPDATE_AFTER, incoming);
      this.parts.buffer.stage("update", key, stored(incoming), this.offset - 1n);
      return;
    }
    const old = this.current(key);
    if (old === null) {
      let row = merger.merge(null, incoming);
      if (this.parts.autoIncrement !== null) row = this.parts.autoIncrement.assign(row);
      this.emit(ChangeType.INSERT, row);
      this.parts.buffer.stage("insert", key, stored(row), this.offset - 1n);
      return;
    }
    const merged = merger.merge(old, incoming);
    if (merged === old) return; // no change: nothing emitted, nothing staged
    this.update(key, old, merged, stored(merged));
  }

  private delete(keyView: Uint8Array, merger: RowMerger, i: number): void {
    if (merger.deleteBehavior === "IGNORE") return;
    if (merger.deleteBehavior === "DISABLE") {
      throw new FlussError(
        Errors.DELETION_DISABLED_EXCEPTION,
        "deletes are disabled for this table ('table.delete.behavior' = 'disable')",
      );
    }
    this.parts.codec.checkKey(keyView, null, i);
    const key = copyBytes(keyView);
    const old = this.current(key);
    if (old === null) return; // nothing to delete
    const after = merger.delete(old);
    if (after === null) {
      this.emit(ChangeType.DELETE, old);
      this.parts.buffer.stage("delete", key, null, this.offset - 1n);
    } else {
      this.update(key, old, after, this.parts.codec.encodeValue(after));
    }
  }

  private update(key: Uint8Array, old: Row, row: Row, value: Uint8Array): void {
    if (this.parts.image === "FULL") this.emit(ChangeType.UPDATE_BEFORE, old);
    this.emit(ChangeType.UPDATE_AFTER, row);
    this.parts.buffer.stage("update", key, value, this.offset - 1n);
  }

  /** Record one changelog entry at the next offset. */
  private emit(changeType: number, row: Row): void {
    this.changelog.add(changeType, row);
    this.offset++;
  }
}
