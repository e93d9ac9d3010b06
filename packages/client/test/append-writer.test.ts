// The append writer's batching, retry, ordering and backpressure rules, driven through a fake
// WriteContext (no sockets): the fake leader records every batch it receives and answers as told.

import {
  decodeArrowLogBatch,
  Errors,
  FlussError,
  ManualScheduler,
  makeSchema,
  NO_COMPRESSION,
  readBatchHeader,
  readRows,
  systemClock,
  systemScheduler,
  type TableInfo,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { resolveWriterOptions, type WriterOptions } from "../src/options.ts";
import { AppendWriter } from "../src/write/append-writer.ts";
import { ArrowPayload, type Row } from "../src/write/arrow-payload.ts";
import type { WriteBatch } from "../src/write/write-batch.ts";
import type { BucketAck, WriteContext } from "../src/write/write-context.ts";

const schema = makeSchema([
  { name: "id", type: "BIGINT NOT NULL" },
  { name: "s", type: "STRING" },
]);

function tableInfo(buckets: number): TableInfo {
  return {
    path: { database: "db", table: "t" },
    tableId: 1n,
    schemaId: 1,
    descriptor: {
      schema,
      partitionKeys: [],
      bucketKeys: [],
      bucketCount: buckets,
      properties: {},
      customProperties: {},
    },
    bucketCount: buckets,
    createdTime: 0,
    modifiedTime: 0,
  };
}

interface Sent {
  bucket: number;
  sequence: number;
  writerId: bigint;
  rows: number;
  bytes: number;
  /** The `id` column of the batch's rows. */
  ids: bigint[];
}

type Answer = (b: WriteBatch<Row>, attempt: number) => number; // error code, 0 = ok

class FakeLeader {
  readonly sent: Sent[] = [];
  /** Sequences the leader stored, in the order it stored them. */
  readonly stored: number[] = [];
  answer: Answer = () => 0;
  hold: Promise<void> | undefined;
  private offsets = new Map<number, bigint>();

  ctx(): WriteContext<Row> {
    return {
      clock: systemClock,
      scheduler: systemScheduler,
      route: () => ({ partitionId: null, bucket: undefined }),
      newPayload: () => new ArrowPayload(schema, 1, NO_COMPRESSION, null),
      leaderKey: () => "leader",
      send: async (_leader, _acks, batches): Promise<BucketAck[]> => {
        if (this.hold) await this.hold;
        return batches.map((b) => {
          const h = readBatchHeader(b.bytes!);
          const { recordBatch } = decodeArrowLogBatch(b.bytes!, schema.columns);
          const sent = {
            bucket: b.bucket,
            sequence: h.batchSequence,
            writerId: h.writerId,
            rows: h.recordCount,
            bytes: b.bytes!.byteLength,
            ids: readRows(recordBatch, schema.columns).map((r) => r.id as bigint),
          };
          this.sent.push(sent);
          const code = this.answer(b, b.attempts);
          if (code !== 0)
            return {
              partitionId: null,
              bucketId: b.bucket,
              errorCode: code,
              errorMessage: "told to fail",
              baseOffset: -1n,
            };
          this.stored.push(sent.sequence);
          const base = this.offsets.get(b.bucket) ?? 0n;
          this.offsets.set(b.bucket, base + BigInt(sent.rows));
          return { partitionId: null, bucketId: b.bucket, errorCode: 0, errorMessage: "", baseOffset: base };
        });
      },
      initWriter: async () => 77n,
      onRetriableError: () => undefined,
    };
  }
}

function writer(leader: FakeLeader, buckets = 1, opts: WriterOptions = {}): AppendWriter {
  return new AppendWriter(leader.ctx(), tableInfo(buckets), resolveWriterOptions({ lingerMs: 1, ...opts }));
}

describe("AppendWriter", () => {
  it("batches rows, stamps the writer id and numbers batches per bucket from 0", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { batchSizeBytes: 1024 });
    for (let i = 0; i < 1000; i++) await w.append({ id: BigInt(i), s: "x".repeat(20) });
    await w.close();
    expect(leader.sent.length).toBeGreaterThan(5);
    expect(leader.sent.reduce((n, s) => n + s.rows, 0)).toBe(1000);
    expect(leader.sent.map((s) => s.sequence)).toEqual(leader.sent.map((_, i) => i));
    expect(leader.sent.every((s) => s.writerId === 77n)).toBe(true);
  });

  it("sends a lone row after the linger time without flush", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { lingerMs: 20 });
    await w.append({ id: 1n, s: null });
    expect(leader.sent.length).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(leader.sent.length).toBe(1);
    await w.close();
  });

  it("lingerMs 0 sends the rows of one synchronous run as one batch when the turn ends, with no timer", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { lingerMs: 0 });
    const receipts = [];
    for (let i = 0; i < 10; i++) receipts.push(await w.append({ id: BigInt(i), s: null }));
    expect(leader.sent.length).toBe(0); // still this turn: nothing sent yet
    await new Promise((r) => setImmediate(r));
    expect(leader.sent.map((s) => s.ids.length)).toEqual([10]);
    for (let i = 10; i < 15; i++) await w.append({ id: BigInt(i), s: null });
    await receipts[9]!.acknowledged;
    await new Promise((r) => setImmediate(r));
    expect(leader.sent.map((s) => s.rows)).toEqual([10, 5]);
    expect(leader.sent.map((s) => s.sequence)).toEqual([0, 1]);
    await w.close();
  });

  it("lingerMs 0 on a scheduler without setImmediate sends at the next zero-delay timer", async () => {
    const leader = new FakeLeader();
    const scheduler = new ManualScheduler();
    const ctx = { ...leader.ctx(), scheduler, clock: scheduler.clock };
    const w = new AppendWriter(ctx, tableInfo(1), resolveWriterOptions({ lingerMs: 0 }));
    await w.append({ id: 1n, s: null });
    await w.append({ id: 2n, s: null });
    await new Promise((r) => setImmediate(r));
    expect(leader.sent.length).toBe(0);
    scheduler.runDue();
    await new Promise((r) => setImmediate(r));
    expect(leader.sent.map((s) => s.ids)).toEqual([[1n, 2n]]);
    await w.close();
  });

  it("retries a retriable failure with the same sequence and loses nothing", async () => {
    const leader = new FakeLeader();
    leader.answer = (b, attempt) =>
      b.sequence === 1 && attempt < 3 ? Errors.NOT_LEADER_OR_FOLLOWER.code : 0;
    const w = writer(leader, 1, { batchSizeBytes: 1024 });
    for (let i = 0; i < 200; i++) await w.append({ id: BigInt(i), s: "y".repeat(20) });
    await w.flush();
    const seq1 = leader.sent.filter((s) => s.sequence === 1);
    expect(seq1.length).toBe(3);
    const accepted = new Map<number, number>();
    for (const s of leader.sent) accepted.set(s.sequence, s.rows);
    expect([...accepted.values()].reduce((a, b) => a + b, 0)).toBe(200);
    await w.close();
  });

  it("resends batches behind a failed one in sequence order", async () => {
    const leader = new FakeLeader();
    let failedOnce = false;
    leader.answer = (b) => {
      if (b.sequence === 0 && !failedOnce) {
        failedOnce = true;
        return Errors.REQUEST_TIME_OUT.code;
      }
      // Like a real leader: only the next sequence is stored, anything later is out of order.
      const expected = leader.stored.length;
      return b.sequence === expected ? 0 : Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION.code;
    };
    const w = writer(leader, 1, { batchSizeBytes: 512 });
    for (let i = 0; i < 100; i++) await w.append({ id: BigInt(i), s: "z".repeat(20) });
    await w.flush();
    expect(leader.sent.some((s) => s.sequence > 0 && leader.sent.indexOf(s) < leader.sent.length - 1)).toBe(
      true,
    );
    expect(leader.stored).toEqual(leader.stored.map((_, i) => i));
    expect(leader.stored.length).toBeGreaterThan(3);
    await w.close();
  });

  it("after a leader change, a batch out of order behind an earlier one still in flight is resent, not fatal", async () => {
    // Batches 0 and 1 are in flight when the leader moves: the new leader sees 1's retry first
    // (OUT_OF_ORDER: 0 is missing) while 0's answer from the old leader (NOT_LEADER) is still on
    // its way. Both are resent in order; nothing is lost or duplicated.
    const leader = new FakeLeader();
    let releaseZero: () => void = () => undefined;
    const zeroHeld = new Promise<void>((r) => {
      releaseZero = r;
    });
    leader.answer = (b, attempt) => {
      if (b.sequence === 0 && attempt === 1) return Errors.NOT_LEADER_OR_FOLLOWER.code;
      const expected = leader.stored.length;
      return b.sequence === expected ? 0 : Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION.code;
    };
    const ctx = leader.ctx();
    const send = ctx.send;
    ctx.send = async (key, acks, batches) => {
      const answers = await send(key, acks, batches);
      if (batches.some((b) => b.sequence === 0 && b.attempts === 1)) {
        setTimeout(releaseZero, 20); // answered only after batch 1's refusal came back
        await zeroHeld;
      }
      return answers;
    };
    const w = new AppendWriter(ctx, tableInfo(1), resolveWriterOptions({ lingerMs: 1, batchSizeBytes: 256 }));
    for (let i = 0; i < 20; i++) await w.append({ id: BigInt(i), s: "q".repeat(40) });
    await w.flush();
    expect(leader.sent.filter((x) => x.sequence === 1).length).toBeGreaterThan(1);
    expect(leader.stored).toEqual(leader.stored.map((_, i) => i));
    const rowsOf = (seq: number) => leader.sent.find((x) => x.sequence === seq)!.rows;
    expect(leader.stored.reduce((n, seq) => n + rowsOf(seq), 0)).toBe(20);
    await w.close();
  });

  it("a batch whose answer was lost while later ones were acknowledged was written: it succeeds, offset -1", async () => {
    // Batch 0 reached the old leader (stored, and copied by the follower that leads next), whose
    // answer then hung and came back NOT_LEADER; meanwhile batches 1.. were acknowledged by the new
    // leader. Sent again, 0 would be out of the leader's window of retained batches
    // (OUT_OF_ORDER_SEQUENCE, fatal): it is settled as written instead and the writer goes on.
    const leader = new FakeLeader();
    leader.answer = (b) =>
      b.sequence === leader.stored.length ? 0 : Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION.code;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const ctx = leader.ctx();
    const send = ctx.send;
    ctx.send = async (key, acks, batches) => {
      const answers = await send(key, acks, batches);
      if (!batches.some((b) => b.sequence === 0 && b.attempts === 1)) return answers;
      await held;
      return answers.map((a) => ({ ...a, errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, baseOffset: -1n }));
    };
    const w = new AppendWriter(ctx, tableInfo(1), resolveWriterOptions({ lingerMs: 1, batchSizeBytes: 256 }));
    const receipts = [];
    for (let i = 0; i < 200; i++) receipts.push(await w.append({ id: BigInt(i), s: "q".repeat(40) }));
    for (let i = 0; i < 500 && leader.stored.length < 8; i++) await new Promise((r) => setTimeout(r, 2));
    expect(leader.stored.length).toBeGreaterThanOrEqual(8); // 0 plus more than a window of 5 after it
    release();
    await w.flush();
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    expect(acks[0]!.offset).toBe(-1n);
    expect(acks.at(-1)!.offset).toBeGreaterThan(0n);
    expect(leader.stored).toEqual(leader.stored.map((_, i) => i)); // each batch stored once
    const rowsOf = (seq: number) => leader.sent.find((x) => x.sequence === seq)!.rows;
    expect(leader.stored.reduce((n, seq) => n + rowsOf(seq), 0)).toBe(200);
    await w.close();
  });

  it("fails the writer on a non-retriable error: flush and later appends throw it", async () => {
    const leader = new FakeLeader();
    leader.answer = () => Errors.RECORD_TOO_LARGE_EXCEPTION.code;
    const w = writer(leader);
    await w.append({ id: 1n, s: "a" });
    await expect(w.flush()).rejects.toMatchObject({ code: Errors.RECORD_TOO_LARGE_EXCEPTION.code });
    await expect(w.append({ id: 2n, s: "b" })).rejects.toMatchObject({
      code: Errors.RECORD_TOO_LARGE_EXCEPTION.code,
    });
  });

  it("refuses a bad row at append and keeps the good ones", async () => {
    const leader = new FakeLeader();
    const w = writer(leader);
    await w.append({ id: 1n, s: "ok" });
    await expect(w.append({ id: "nope", s: "bad" })).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof FlussError && e.is(Errors.SCHEMA_MISMATCH) && /column 'id'/.test(e.message),
    );
    await expect(w.append({ id: null, s: "bad" })).rejects.toMatchObject({
      code: Errors.SCHEMA_MISMATCH.code,
    });
    await w.append({ id: 2n, s: "ok" });
    await w.close();
    expect(leader.sent.reduce((n, s) => n + s.rows, 0)).toBe(2);
  });

  it("applies backpressure: append waits while the buffer is full", async () => {
    const leader = new FakeLeader();
    let release!: () => void;
    leader.hold = new Promise<void>((r) => {
      release = r;
    });
    const w = writer(leader, 1, { bufferBytes: 64 * 1024, batchSizeBytes: 8 * 1024 });
    let appended = 0;
    const pump = (async () => {
      for (let i = 0; i < 20_000; i++) {
        await w.append({ id: BigInt(i), s: "p".repeat(50) });
        appended++;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    expect(appended).toBeLessThan(20_000);
    expect(w.bufferedBytesNow).toBeLessThanOrEqual(64 * 1024 + 8 * 1024);
    leader.hold = undefined;
    release();
    await pump;
    await w.close();
    expect(leader.sent.reduce((n, s) => n + s.rows, 0)).toBe(20_000);
  });

  it("keeps the buffer bound when routing is asynchronous (partitioned tables) and appends are not awaited", async () => {
    const leader = new FakeLeader();
    let release!: () => void;
    leader.hold = new Promise<void>((r) => {
      release = r;
    });
    const ctx = leader.ctx();
    const w = new AppendWriter(
      { ...ctx, route: async () => ({ partitionId: null, bucket: undefined }) },
      tableInfo(1),
      resolveWriterOptions({ lingerMs: 1, bufferBytes: 64 * 1024, batchSizeBytes: 8 * 1024 }),
    );
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) appends.push(w.append({ id: BigInt(i), s: "r".repeat(100) }));
    await new Promise((r) => setTimeout(r, 50));
    // At most one row past the bound (the row that found the buffer just below it).
    expect(w.bufferedBytesNow).toBeLessThan(64 * 1024 + 1024);
    leader.hold = undefined;
    release();
    await Promise.all(appends);
    await w.close();
    expect(leader.sent.reduce((n, s) => n + s.rows, 0)).toBe(2000);
  });

  it("spreads batches of a keyless table over buckets", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 3, { batchSizeBytes: 1024 });
    for (let i = 0; i < 600; i++) await w.append({ id: BigInt(i), s: "q".repeat(20) });
    await w.close();
    expect(new Set(leader.sent.map((s) => s.bucket)).size).toBe(3);
  });

  it("refuses a row larger than the request limit at append, and writes the rows around it in order", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { batchSizeBytes: 4096 });
    for (let i = 0; i < 50; i++) await w.append({ id: BigInt(i), s: "a".repeat(20) });
    const huge = "h".repeat(10 * 1024 * 1024 + 1); // over the default requestBytesMax (10 MiB)
    const err = await w.append({ id: 999n, s: huge }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlussError);
    expect((err as FlussError).code).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    expect((err as FlussError).message).toMatch(/row of 104\d{5} bytes .*requestBytesMax of 10485760 bytes/);
    expect(w.bufferedBytesNow).toBeLessThan(64 * 1024); // the refused row holds no buffer
    for (let i = 50; i < 100; i++) await w.append({ id: BigInt(i), s: "b".repeat(20) });
    await w.close();
    const ids = leader.sent.flatMap((s) => s.ids);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    // No sequence was spent on the refused row.
    expect(leader.sent.map((s) => s.sequence)).toEqual(leader.sent.map((_, i) => i));
    expect(leader.sent.every((s) => s.bytes < 64 * 1024)).toBe(true);
  });

  it("refuses a too-large first row of a batch and one arriving while a batch is open", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { batchSizeBytes: 1024, requestBytesMax: 8 * 1024, lingerMs: 1000 });
    await expect(w.append({ id: 0n, s: "x".repeat(9000) })).rejects.toMatchObject({
      code: Errors.RECORD_TOO_LARGE_EXCEPTION.code,
    });
    await w.append({ id: 1n, s: "small" });
    await expect(w.append({ id: 2n, s: "x".repeat(9000) })).rejects.toMatchObject({
      code: Errors.RECORD_TOO_LARGE_EXCEPTION.code,
    });
    await w.append({ id: 3n, s: "small" });
    await w.close();
    expect(leader.sent.flatMap((s) => s.ids)).toEqual([1n, 3n]);
  });

  it("puts a row larger than batchSizeBytes but within the request limit in a batch of its own", async () => {
    const leader = new FakeLeader();
    const w = writer(leader, 1, { batchSizeBytes: 1024, lingerMs: 1000 });
    for (let i = 0; i < 5; i++) await w.append({ id: BigInt(i), s: "s" });
    await w.append({ id: 5n, s: "B".repeat(5000) });
    for (let i = 6; i < 10; i++) await w.append({ id: BigInt(i), s: "s" });
    await w.close();
    expect(leader.sent.map((s) => s.ids)).toEqual([[0n, 1n, 2n, 3n, 4n], [5n], [6n, 7n, 8n, 9n]]);
  });

  it("rejects options that break idempotence", () => {
    expect(() => resolveWriterOptions({ acks: 1 })).toThrow(/acks 'all'/);
    expect(() => resolveWriterOptions({ inFlightPerBucketMax: 6 })).toThrow(/at most 5/);
  });

  it("checks the request limit against the batch size", () => {
    expect(resolveWriterOptions({}).requestBytesMax).toBe(10 * 1024 * 1024);
    expect(resolveWriterOptions({ batchSizeBytes: 32 * 1024 * 1024 }).requestBytesMax).toBe(32 * 1024 * 1024);
    expect(() => resolveWriterOptions({ batchSizeBytes: 8192, requestBytesMax: 4096 })).toThrow(
      /batchSizeBytes .* requestBytesMax/,
    );
    expect(() => resolveWriterOptions({ requestBytesMax: 512 * 1024 * 1024 })).toThrow(/requestBytesMax/);
  });
});
