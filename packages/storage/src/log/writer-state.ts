// Idempotent-writer state of one bucket (Fluss WriterStateManager / WriterStateEntry /
// WriterAppendInfo): per writer id, the metadata of its last `writerBatchesRetained` batches.
// Rules, as Fluss applies them to a leader append:
//  - a batch whose sequence equals a retained one is a duplicate: nothing is written and the
//    original offsets are returned;
//  - otherwise its sequence must be last + 1, where an unknown writer's "last" is -1 (so it must
//    start at 0) and Integer.MAX_VALUE wraps to 0; anything else is OUT_OF_ORDER_SEQUENCE.
// (Fluss also accepts any sequence for an unknown writer when the append comes from a follower or
// the batch's own timestamp is already expired; neither can happen to a leader append here.)
// `check` is pure; `record` applies a batch after it was written. Snapshots are JSON documents
// (bigints as strings) that keep all retained batches, so duplicates are caught across restarts.

import { assert, Errors, FlussError, NO_BATCH_SEQUENCE, NO_WRITER_ID } from "@fluss-ts/common";
import { writerBatchesRetained } from "./constants.ts";

export interface WriterBatch {
  readonly batchSequence: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly timestampMs: number;
}

export interface WriterEntry {
  readonly writerId: bigint;
  /** Oldest first, at most `writerBatchesRetained`. */
  readonly batches: WriterBatch[];
  lastTimestampMs: number;
}

export interface WriterBatchRef {
  readonly writerId: bigint;
  readonly batchSequence: number;
}

const int32Max = 2 ** 31 - 1;
const snapshotVersion = 1;

export function inSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === int32Max);
}

export class WriterStateManager {
  private readonly writers = new Map<bigint, WriterEntry>();

  get size(): number {
    return this.writers.size;
  }

  entry(writerId: bigint): Readonly<WriterEntry> | undefined {
    return this.writers.get(writerId);
  }

  /**
   * Validate the writer batches of one append, in order. Returns the retained batch a duplicate
   * refers to (the append must then be dropped), or null when every batch is in sequence.
   * Throws OUT_OF_ORDER_SEQUENCE_EXCEPTION. Does not change the state.
   */
  check(batches: readonly WriterBatchRef[]): WriterBatch | null {
    const pending = new Map<bigint, number>();
    for (const b of batches) {
      if (b.writerId === NO_WRITER_ID) continue;
      const entry = this.writers.get(b.writerId);
      const duplicate = entry?.batches.find((m) => m.batchSequence === b.batchSequence);
      if (duplicate !== undefined) return duplicate;
      const last = pending.get(b.writerId) ?? entry?.batches.at(-1)?.batchSequence ?? NO_BATCH_SEQUENCE;
      if (!inSequence(last, b.batchSequence)) {
        throw new FlussError(
          Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION,
          `out of order batch sequence for writer ${b.writerId}: ${b.batchSequence} (incoming), ${last} (current)`,
        );
      }
      pending.set(b.writerId, b.batchSequence);
    }
    return null;
  }

  /** Apply a written batch of `writerId` (no validation: also used to replay the log). */
  record(writerId: bigint, batch: WriterBatch): void {
    assert(writerId !== NO_WRITER_ID, "only idempotent batches carry writer state");
    let entry = this.writers.get(writerId);
    if (entry === undefined) {
      entry = { writerId, batches: [], lastTimestampMs: batch.timestampMs };
      this.writers.set(writerId, entry);
    }
    if (entry.batches.length >= writerBatchesRetained) entry.batches.shift();
    entry.batches.push(batch);
    entry.lastTimestampMs = batch.timestampMs;
    assert(entry.batches.length <= writerBatchesRetained, "bounded batch metadata per writer");
  }

  /** Forget writers silent for longer than `expirationMs`; returns how many. */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.writers) {
      if (nowMs - entry.lastTimestampMs > expirationMs) {
        this.writers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.writers.clear();
  }

  /** The snapshot document of the state as of log offset `offset`. */
  encodeSnapshot(offset: bigint): Uint8Array {
    const writers = [...this.writers.values()].map((w) => ({
      id: w.writerId.toString(),
      ts: w.lastTimestampMs,
      batches: w.batches.map((b) => [
        b.batchSequence,
        b.firstOffset.toString(),
        b.lastOffset.toString(),
        b.timestampMs,
      ]),
    }));
    const doc = { version: snapshotVersion, offset: offset.toString(), writers };
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  /** Replace the state with a snapshot document; returns its offset. Throws on any malformation. */
  loadSnapshot(bytes: Uint8Array): bigint {
    const doc: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    const parsed = parseSnapshot(doc);
    this.writers.clear();
    for (const w of parsed.writers) this.writers.set(w.writerId, w);
    return parsed.offset;
  }
}

function bad(message: string): Error {
  return new Error(`malformed writer snapshot: ${message}`);
}

function int(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw bad(what);
  return value;
}

function big(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^-?[0-9]{1,20}$/.test(value)) throw bad(what);
  return BigInt(value);
}

function parseBatch(value: unknown): WriterBatch {
  if (!Array.isArray(value) || value.length !== 4) throw bad("batch");
  const batch = {
    batchSequence: int(value[0], "sequence"),
    firstOffset: big(value[1], "first offset"),
    lastOffset: big(value[2], "last offset"),
    timestampMs: int(value[3], "timestamp"),
  };
  if (batch.firstOffset < 0n || batch.lastOffset < batch.firstOffset) throw bad("batch offsets");
  return batch;
}

function parseWriter(value: unknown): WriterEntry {
  if (typeof value !== "object" || value === null) throw bad("writer");
  const w = value as { id?: unknown; ts?: unknown; batches?: unknown };
  if (!Array.isArray(w.batches) || w.batches.length === 0 || w.batches.length > writerBatchesRetained) {
    throw bad("writer batches");
  }
  return {
    writerId: big(w.id, "writer id"),
    lastTimestampMs: int(w.ts, "writer timestamp"),
    batches: w.batches.map(parseBatch),
  };
}

function parseSnapshot(doc: unknown): { offset: bigint; writers: WriterEntry[] } {
  if (typeof doc !== "object" || doc === null) throw bad("document");
  const d = doc as { version?: unknown; offset?: unknown; writers?: unknown };
  if (d.version !== snapshotVersion) throw bad(`version ${String(d.version)}`);
  if (!Array.isArray(d.writers)) throw bad("writers");
  return { offset: big(d.offset, "offset"), writers: d.writers.map(parseWriter) };
}
