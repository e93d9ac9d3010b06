// A writer whose partition is dropped under it, driven through a fake WriteContext: a fake leader
// that keeps Fluss's idempotence rule per bucket (sequences from 0, each last + 1) and refuses a
// dropped partition's buckets as UNKNOWN_TABLE_OR_BUCKET; the context's partitionIdNow answers as
// the test says. Also: batches re-stamped with a new sequence stay valid, and PartitionMoves
// checks a partition at most once per interval and follows chains of moves.

import {
  buildKvRecordBatch,
  decodeArrowLogBatch,
  Errors,
  isBatchValid,
  ManualClock,
  makeSchema,
  NO_COMPRESSION,
  readBatchHeader,
  readKvRecordBatch,
  readRows,
  systemClock,
  systemScheduler,
  type TableInfo,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { resolveWriterOptions, type WriterOptions } from "../src/options.ts";
import { AppendWriter } from "../src/write/append-writer.ts";
import { ArrowPayload, type Row } from "../src/write/arrow-payload.ts";
import { CHECK_INTERVAL_MS, PartitionMoves } from "../src/write/partition-moves.ts";
import { resequenceKvBatch, resequenceLogBatch } from "../src/write/resequence.ts";
import type { BucketAck, WriteContext } from "../src/write/write-context.ts";

const schema = makeSchema([
  { name: "id", type: "BIGINT NOT NULL" },
  { name: "dt", type: "STRING NOT NULL" },
]);

const info: TableInfo = {
  path: { database: "db", table: "t" },
  tableId: 1n,
  schemaId: 1,
  descriptor: {
    schema,
    partitionKeys: ["dt"],
    bucketKeys: [],
    bucketCount: 1,
    properties: {},
    customProperties: {},
  },
  bucketCount: 1,
  createdTime: 0,
  modifiedTime: 0,
};

const UNKNOWN_BUCKET = Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION.code;
const OUT_OF_ORDER = Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION.code;

/** A leader of every partition's bucket 0, with the per-bucket sequence rule of a Fluss leader. */
class PartitionedLeader {
  /** Partition ids the writer's (stale) resolver gives each name. */
  readonly routed = new Map<string, bigint>();
  /** What partitionIdNow answers per old id. */
  readonly successor = new Map<bigint, bigint | null>();
  readonly dropped = new Set<bigint>();
  /** Per partition: the ids of the rows stored, in log order, and the last stored sequence. */
  readonly rows = new Map<bigint, bigint[]>();
  readonly lastSequence = new Map<bigint, number>();
  readonly invalid: string[] = [];
  /** How a dropped partition's bucket refuses a batch. */
  droppedCode = UNKNOWN_BUCKET;
  checks = 0;
  hold: Promise<void> | undefined;

  ctx(): WriteContext<Row> {
    return {
      clock: systemClock,
      scheduler: systemScheduler,
      route: (row) => ({ partitionId: this.routed.get(row.dt as string)!, bucket: 0 }),
      newPayload: () => new ArrowPayload(schema, 1, NO_COMPRESSION, null),
      leaderKey: () => "leader",
      send: async (_leader, _acks, batches): Promise<BucketAck[]> => {
        const bytes = batches.map((b) => b.bytes!);
        if (this.hold) await this.hold;
        return batches.map((b, i) => this.store(b.partitionId!, bytes[i]!));
      },
      initWriter: async () => 7n,
      onRetriableError: () => undefined,
      partitionIdNow: async (id) => {
        this.checks++;
        return this.dropped.has(id) ? (this.successor.get(id) ?? null) : id;
      },
    };
  }

  private store(partitionId: bigint, bytes: Uint8Array): BucketAck {
    const ack = { partitionId, bucketId: 0, errorCode: 0, errorMessage: "", baseOffset: 0n };
    if (this.dropped.has(partitionId)) return { ...ack, errorCode: this.droppedCode };
    if (!isBatchValid(bytes)) this.invalid.push(`partition ${partitionId}`);
    const h = readBatchHeader(bytes);
    const last = this.lastSequence.get(partitionId) ?? -1;
    if (h.batchSequence !== last + 1) return { ...ack, errorCode: OUT_OF_ORDER };
    this.lastSequence.set(partitionId, h.batchSequence);
    const log = this.rows.get(partitionId) ?? [];
    const { recordBatch } = decodeArrowLogBatch(bytes, schema.columns);
    const baseOffset = BigInt(log.length);
    for (const r of readRows(recordBatch, schema.columns)) log.push(r.id as bigint);
    this.rows.set(partitionId, log);
    return { ...ack, baseOffset };
  }
}

function writer(leader: PartitionedLeader, opts: WriterOptions = {}): AppendWriter {
  return new AppendWriter(
    leader.ctx(),
    info,
    resolveWriterOptions({ lingerMs: 1, batchSizeBytes: 1024, deliveryTimeoutMs: 60_000, ...opts }),
  );
}

const range = (from: number, to: number): bigint[] =>
  Array.from({ length: to - from }, (_, i) => BigInt(from + i));

describe("a writer whose partition is dropped", () => {
  it("moves queued and in-flight batches to the re-created partition, numbered from 0 there", async () => {
    const leader = new PartitionedLeader();
    leader.routed.set("a", 1n);
    const w = writer(leader);
    for (const id of range(0, 10)) await w.append({ id, dt: "a" });
    await w.flush();
    leader.dropped.add(1n);
    leader.successor.set(1n, 2n);
    let release = (): void => undefined;
    leader.hold = new Promise((r) => {
      release = r;
    });
    const receipts = [];
    for (const id of range(10, 400)) receipts.push(await w.append({ id, dt: "a" }));
    await new Promise((r) => setTimeout(r, 20)); // batches closed, the first ones in flight
    leader.hold = undefined;
    release();
    await w.flush();
    expect(leader.rows.get(1n)).toEqual(range(0, 10));
    expect(leader.rows.get(2n)).toEqual(range(10, 400));
    expect(leader.invalid).toEqual([]);
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    expect(acks.map((a) => a.partitionId)).toEqual(acks.map(() => 2n));
    expect(acks.map((a) => a.offset)).toEqual(range(0, 390));
    expect(leader.checks).toBe(1);
    // Rows the stale resolver still routes to the old id follow the move.
    const late = await w.append({ id: 400n, dt: "a" });
    expect((await late.acknowledged).partitionId).toBe(2n);
    await w.close();
    expect(leader.rows.get(2n)?.at(-1)).toBe(400n);
  });

  it("continues the new partition's sequences when rows already went there", async () => {
    const leader = new PartitionedLeader();
    leader.routed.set("a", 1n);
    const w = writer(leader);
    await (await w.append({ id: 0n, dt: "a" })).acknowledged;
    leader.dropped.add(1n);
    leader.successor.set(1n, 2n);
    const old = [];
    for (const id of range(1, 50)) old.push(await w.append({ id, dt: "a" }));
    leader.routed.set("a", 2n); // the resolver learned the new id meanwhile
    const fresh = [];
    for (const id of range(50, 100)) fresh.push(await w.append({ id, dt: "a" }));
    await w.close();
    expect(leader.invalid).toEqual([]);
    expect([...(leader.rows.get(2n) ?? [])].sort((x, y) => Number(x - y))).toEqual(range(1, 100));
    for (const r of [...old, ...fresh]) expect((await r.acknowledged).partitionId).toBe(2n);
  });

  it("fails only the rows of a partition gone for good, with PARTITION_NOT_EXISTS", async () => {
    const leader = new PartitionedLeader();
    leader.routed.set("a", 1n);
    leader.routed.set("b", 5n);
    leader.droppedCode = Errors.PARTITION_NOT_EXISTS.code; // not retriable, yet not the writer's end
    const w = writer(leader);
    await (await w.append({ id: 0n, dt: "a" })).acknowledged;
    leader.dropped.add(1n);
    // Each row fails: on its receipt if it was buffered before the writer learnt of the drop,
    // else at once (routed to a partition known to be gone).
    const gone: Array<Promise<unknown>> = [];
    const kept = [];
    for (const id of range(1, 100)) {
      gone.push(w.append({ id, dt: "a" }).then((r) => r.acknowledged));
      kept.push(await w.append({ id, dt: "b" }));
    }
    const outcomes = await Promise.allSettled(gone);
    for (const o of outcomes) {
      expect(o.status === "rejected" && o.reason.code).toBe(Errors.PARTITION_NOT_EXISTS.code);
    }
    await Promise.all(kept.map((r) => r.acknowledged));
    // A row still routed to the gone id is refused at once; the writer itself goes on.
    await expect(w.append({ id: 500n, dt: "a" })).rejects.toMatchObject({
      code: Errors.PARTITION_NOT_EXISTS.code,
    });
    await (await w.append({ id: 501n, dt: "b" })).acknowledged;
    await w.close();
    expect(leader.rows.get(5n)).toEqual([...range(1, 100), 501n]);
    expect(w.bufferedBytesNow).toBe(0);
  });
});

describe("re-stamped batches", () => {
  it("a log batch gets the new sequence and a valid CRC; the original is unchanged", () => {
    const p = new ArrowPayload(schema, 1, NO_COMPRESSION, null);
    p.add({ id: 1n, dt: "a" });
    const bytes = p.encode(9n, 4);
    const moved = resequenceLogBatch(bytes, 0);
    expect(readBatchHeader(moved).batchSequence).toBe(0);
    expect(readBatchHeader(moved).writerId).toBe(9n);
    expect(isBatchValid(moved)).toBe(true);
    expect(readBatchHeader(bytes).batchSequence).toBe(4);
    expect(isBatchValid(bytes)).toBe(true);
  });

  it("a KV batch gets the new sequence and a valid CRC", () => {
    const bytes = buildKvRecordBatch({
      schemaId: 1,
      writerId: 9n,
      batchSequence: 4,
      records: [{ key: new Uint8Array([1]), row: new Uint8Array([2, 3]) }],
    });
    const moved = readKvRecordBatch(resequenceKvBatch(bytes, 0));
    expect(moved.batchSequence).toBe(0);
    expect(moved.writerId).toBe(9n);
    expect(moved.records.length).toBe(1);
    expect(readKvRecordBatch(bytes).batchSequence).toBe(4);
  });
});

describe("PartitionMoves", () => {
  it("checks a partition once per interval and follows chains of moves", async () => {
    const clock = new ManualClock(1000);
    const answers = new Map<bigint, bigint | null>([
      [1n, 1n],
      [2n, 3n],
      [3n, 4n],
    ]);
    const asked: bigint[] = [];
    const seen: Array<[bigint, bigint | null]> = [];
    const moves = new PartitionMoves(
      async (id) => {
        asked.push(id);
        return answers.get(id) ?? null;
      },
      clock,
      (from, to) => seen.push([from, to]),
    );
    moves.suspect(1n);
    expect(moves.held(1n)).toBe(true);
    moves.suspect(1n);
    await Promise.resolve();
    expect(moves.held(1n)).toBe(false);
    moves.suspect(1n);
    expect(asked).toEqual([1n]);
    clock.advance(CHECK_INTERVAL_MS);
    moves.suspect(1n);
    moves.suspect(2n);
    await Promise.resolve();
    moves.suspect(3n);
    moves.suspect(9n);
    await Promise.resolve();
    expect(asked).toEqual([1n, 1n, 2n, 3n, 9n]);
    expect(seen).toEqual([
      [1n, 1n],
      [1n, 1n],
      [2n, 3n],
      [3n, 4n],
      [9n, null],
    ]);
    expect(moves.redirect(1n)).toBe(1n);
    expect(moves.redirect(2n)).toBe(4n);
    expect(moves.redirect(9n)).toBe(null);
    // A moved partition is not checked again.
    clock.advance(CHECK_INTERVAL_MS);
    moves.suspect(2n);
    expect(asked.length).toBe(5);
  });
});
