// Write receipts: `append` resolves once the row is buffered with a receipt whose `acknowledged`
// gives the row's bucket and offset (base offset of its batch + its index in the batch) once the
// leader acknowledged the batch, and rejects with the batch's error; `await using` closes and
// flushes a writer. Driven through a fake WriteContext (no sockets).

import {
  decodeArrowLogBatch,
  Errors,
  makeSchema,
  NO_COMPRESSION,
  readRows,
  systemClock,
  systemScheduler,
  type TableInfo,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { resolveWriterOptions, type WriterOptions } from "../src/options.ts";
import { AppendWriter } from "../src/write/append-writer.ts";
import { ArrowPayload, type Row } from "../src/write/arrow-payload.ts";
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

/** A leader that stores every batch at the end of its bucket's log, or fails as told. */
class FakeLog {
  /** Per bucket: the ids in log order (index = offset). */
  readonly logs = new Map<number, bigint[]>();
  failCode = 0;

  ctx(bucketOf: (row: Row) => number | undefined = () => undefined): WriteContext<Row> {
    return {
      clock: systemClock,
      scheduler: systemScheduler,
      route: (row) => ({ partitionId: null, bucket: bucketOf(row) }),
      newPayload: () => new ArrowPayload(schema, 1, NO_COMPRESSION, null),
      leaderKey: () => "leader",
      send: async (_leader, _acks, batches): Promise<BucketAck[]> =>
        batches.map((b) => {
          if (this.failCode !== 0) {
            return {
              partitionId: null,
              bucketId: b.bucket,
              errorCode: this.failCode,
              errorMessage: "no",
              baseOffset: -1n,
            };
          }
          const log = this.logs.get(b.bucket) ?? [];
          this.logs.set(b.bucket, log);
          const base = BigInt(log.length);
          const { recordBatch } = decodeArrowLogBatch(b.bytes!, schema.columns);
          for (const r of readRows(recordBatch, schema.columns)) log.push(r.id as bigint);
          return { partitionId: null, bucketId: b.bucket, errorCode: 0, errorMessage: "", baseOffset: base };
        }),
      initWriter: async () => 7n,
      onRetriableError: () => undefined,
    };
  }
}

function writer(ctx: WriteContext<Row>, buckets: number, opts: WriterOptions = {}): AppendWriter {
  return new AppendWriter(ctx, tableInfo(buckets), resolveWriterOptions({ lingerMs: 1, ...opts }));
}

describe("write receipts", () => {
  it("give each row the bucket and offset it was stored at", async () => {
    const log = new FakeLog();
    const w = writer(
      log.ctx((row) => Number((row.id as bigint) % 3n)),
      3,
      { batchSizeBytes: 1024 },
    );
    const receipts = [];
    for (let i = 0; i < 600; i++) receipts.push(await w.append({ id: BigInt(i), s: "x".repeat(30) }));
    expect(receipts.map((r) => r.bucket)).toEqual(receipts.map((_, i) => i % 3));
    const acks = await Promise.all(receipts.map((r) => r.acknowledged));
    for (let i = 0; i < acks.length; i++) {
      const a = acks[i]!;
      expect(a.bucket).toBe(i % 3);
      expect(a.partitionId).toBeNull();
      // The row found at that offset of that bucket's log is this row.
      expect(log.logs.get(a.bucket)![Number(a.offset)]).toBe(BigInt(i));
    }
    // Many batches were involved (offsets are not just indexes into one batch).
    expect(new Set(acks.map((a) => a.offset)).size).toBe(200);
    await w.close();
    expect(w.acknowledgedCount).toBe(600);
  });

  it("resolve only once the batch is acknowledged, and reject with its error", async () => {
    const log = new FakeLog();
    log.failCode = Errors.INVALID_TABLE_EXCEPTION.code; // not retriable: fails the writer
    const w = writer(log.ctx(), 1, { lingerMs: 30 });
    const receipt = await w.append({ id: 1n, s: null });
    let settled = false;
    const acked = receipt.acknowledged.then(
      () => {
        settled = true;
      },
      (err: unknown) => {
        settled = true;
        throw err;
      },
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false); // still lingering in its batch
    await expect(acked).rejects.toMatchObject({ code: Errors.INVALID_TABLE_EXCEPTION.code });
    await expect(w.flush()).rejects.toMatchObject({ code: Errors.INVALID_TABLE_EXCEPTION.code });
    expect(w.acknowledgedCount).toBe(0);
  });

  it("report offset -1 when the writer does not wait for answers (acks 0)", async () => {
    const log = new FakeLog();
    const w = writer(log.ctx(), 1, { acks: 0, idempotence: false });
    const r = await w.append({ id: 5n, s: "a" });
    await w.flush();
    expect(await r.acknowledged).toEqual({ bucket: 0, partitionId: null, offset: -1n });
    await w.close();
  });

  it("a bad row rejects its append and leaves the others' receipts intact", async () => {
    const log = new FakeLog();
    const w = writer(log.ctx(), 1);
    const a = await w.append({ id: 1n, s: "a" });
    await expect(w.append({ id: "not a number", s: "b" })).rejects.toMatchObject({
      code: Errors.SCHEMA_MISMATCH.code,
      // Named by its column; the row's index inside an internal batch would only confuse.
      message:
        "column 'id' (BIGINT NOT NULL): expected an integer (bigint, number or string), got \"not a number\"",
    });
    await expect(w.append({ id: 2n, nope: 1 })).rejects.toMatchObject({
      message: "unknown column 'nope' (columns: id, s)",
    });
    const c = await w.append({ id: 3n, s: "c" });
    expect((await a.acknowledged).offset).toBe(0n);
    expect((await c.acknowledged).offset).toBe(1n);
    await w.close();
  });

  it("await using flushes and closes the writer at the end of the scope", async () => {
    const log = new FakeLog();
    let w: AppendWriter | undefined;
    {
      await using scoped = writer(log.ctx(), 1, { lingerMs: 60_000 });
      w = scoped;
      await scoped.append({ id: 9n, s: "z" });
      expect(log.logs.size).toBe(0); // still buffered: linger is a minute
    }
    expect(log.logs.get(0)).toEqual([9n]);
    await expect(w.append({ id: 10n, s: null })).rejects.toMatchObject({ code: Errors.CLIENT_CLOSED.code });
  });
});
