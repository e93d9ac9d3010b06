// Recovery of a KV tablet from its changelog (Fluss KvRecoverHelper), run at open after the store
// is in place (local, restored from a snapshot, or fresh):
//  1. [appliedLogOffset, high watermark): applied to the store, one transaction per log read,
//     each also moving appliedLogOffset, so an interrupted recovery resumes where it stopped;
//  2. [high watermark, log end): staged in the pre-write buffer at their offsets, so the write
//     path sees the state the log already describes, and they reach the store once the high
//     watermark passes them.
// Per record: +I and +U upsert the full row under its key, -D deletes it, -U is skipped; +I / -D
// move the row count when it is tracked.
// Invariants: replay never reads below the log start (KV_STORAGE_EXCEPTION instead) and every
// read advances the offset (bounded loop).

import { assert, ChangeType, Errors, FlussError } from "@fluss-ts/common";
import type { LogTablet } from "../log/log-tablet.ts";
import { type ChangelogRecord, decodeChangelog } from "./changelog.ts";
import type { KvStore, KvWrite } from "./kv-store.ts";
import type { PreWriteBuffer, StagedKind } from "./pre-write-buffer.ts";
import type { RowCodec } from "./row-codec.ts";

/** Bytes read from the log per recovery step. */
export const RECOVERY_READ_BYTES_DEFAULT = 8 * 1024 * 1024;

export interface ReplayInput {
  readonly log: LogTablet;
  readonly store: KvStore;
  readonly buffer: PreWriteBuffer;
  readonly codec: RowCodec;
  readonly readBytes: number;
}

export interface ReplayResult {
  readonly appliedRecords: number;
  readonly stagedRecords: number;
}

function kindOf(changeType: number): StagedKind | null {
  switch (changeType) {
    case ChangeType.INSERT:
      return "insert";
    case ChangeType.UPDATE_AFTER:
      return "update";
    case ChangeType.DELETE:
      return "delete";
    case ChangeType.UPDATE_BEFORE:
      return null;
    default:
      throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `changelog record has change type ${changeType}`);
  }
}

function rowDelta(kind: StagedKind): bigint {
  return kind === "insert" ? 1n : kind === "delete" ? -1n : 0n;
}

/** Replay the changelog from the store's applied offset to the log end (see the file comment). */
export async function replayChangelog(input: ReplayInput): Promise<ReplayResult> {
  const { log, store } = input;
  const start = store.state.appliedLogOffset;
  const hw = log.highWatermark;
  const end = log.logEndOffset;
  assert(start <= end, "the store is not ahead of its log (checked before replay)");
  if (start < end && start < log.logStartOffset) {
    throw new FlussError(
      Errors.KV_STORAGE_EXCEPTION,
      `kv recovery needs the changelog from offset ${start}, but the log starts at ${log.logStartOffset}`,
    );
  }
  let applied = 0;
  let staged = 0;
  let offset = start;
  while (offset < end) {
    const read = await log.read(offset, input.readBytes, end);
    const batches = decodeChangelog(read.records, input.codec.schema);
    assert(batches.length > 0 && batches.at(-1)!.nextOffset > offset, "every recovery read makes progress");
    const writes: KvWrite[] = [];
    let rowDeltaSum = 0n;
    for (const batch of batches) {
      checkSchema(batch.schemaId, input.codec);
      for (const r of batch.records) {
        if (r.offset < start) continue;
        const kind = kindOf(r.changeType);
        if (kind === null) continue;
        const write = toWrite(r, kind, input.codec);
        if (r.offset < hw) {
          writes.push(write);
          rowDeltaSum += rowDelta(kind);
          applied++;
        } else {
          input.buffer.stage(kind, write.key, write.value, r.offset);
          staged++;
        }
      }
    }
    offset = batches.at(-1)!.nextOffset;
    applyChunk(store, writes, offset < hw ? offset : hw, rowDeltaSum);
  }
  return { appliedRecords: applied, stagedRecords: staged };
}

function checkSchema(schemaId: number, codec: RowCodec): void {
  if (schemaId !== codec.schemaId) {
    throw new FlussError(
      Errors.KV_STORAGE_EXCEPTION,
      `changelog batch has schema id ${schemaId}; only schema id ${codec.schemaId} is supported`,
    );
  }
}

function toWrite(r: ChangelogRecord, kind: StagedKind, codec: RowCodec): KvWrite {
  const key = codec.keyOf(r.row);
  return { key, value: kind === "delete" ? null : codec.encodeValue(r.row) };
}

function applyChunk(store: KvStore, writes: readonly KvWrite[], appliedTo: bigint, rowDelta: bigint): void {
  const before = store.state;
  if (appliedTo <= before.appliedLogOffset) {
    assert(writes.length === 0, "records below the high watermark move the applied offset");
    return;
  }
  const rowCount = before.rowCount === null ? null : before.rowCount + rowDelta;
  store.write(writes, { appliedLogOffset: appliedTo, rowCount });
}
