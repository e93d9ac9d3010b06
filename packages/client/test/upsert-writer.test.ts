// The upsert writer with oversized rows, driven through a fake WriteContext (no sockets): a row
// whose KV record exceeds requestBytesMax fails its upsert with RECORD_TOO_LARGE_EXCEPTION and
// the writer goes on; a record bigger than batchSizeBytes but within the limit travels alone.

import {
  Errors,
  FlussError,
  makeSchema,
  readKvRecordBatch,
  systemClock,
  systemScheduler,
  type TableInfo,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { resolveWriterOptions, type WriterOptions } from "../src/options.ts";
import { KvRowCodec } from "../src/write/kv-codec.ts";
import { type KvItem, KvPayload } from "../src/write/kv-payload.ts";
import { UpsertWriter } from "../src/write/upsert-writer.ts";
import type { BucketAck, WriteContext } from "../src/write/write-context.ts";

const schema = makeSchema(
  [
    { name: "id", type: "INT NOT NULL" },
    { name: "v", type: "STRING" },
  ],
  ["id"],
);

const info: TableInfo = {
  path: { database: "db", table: "kv" },
  tableId: 2n,
  schemaId: 1,
  descriptor: {
    schema,
    partitionKeys: [],
    bucketKeys: ["id"],
    bucketCount: 1,
    properties: {},
    customProperties: {},
  },
  bucketCount: 1,
  createdTime: 0,
  modifiedTime: 0,
};

/** Records per batch the fake leader received, as [key bytes length, row bytes length | null]. */
class FakeKvLeader {
  readonly batches: { sequence: number; records: number; bytes: number }[] = [];

  ctx(): WriteContext<KvItem> {
    return {
      clock: systemClock,
      scheduler: systemScheduler,
      route: (item) => ({ partitionId: null, bucket: item.bucket }),
      newPayload: () => new KvPayload(info.schemaId),
      leaderKey: () => "leader",
      send: async (_leader, _acks, batches): Promise<BucketAck[]> =>
        batches.map((b) => {
          const view = readKvRecordBatch(b.bytes!);
          this.batches.push({
            sequence: view.batchSequence,
            records: view.recordCount,
            bytes: b.bytes!.byteLength,
          });
          return { partitionId: null, bucketId: b.bucket, errorCode: 0, errorMessage: "", baseOffset: 0n };
        }),
      initWriter: async () => 5n,
      onRetriableError: () => undefined,
    };
  }
}

function writer(leader: FakeKvLeader, opts: WriterOptions = {}): UpsertWriter {
  return new UpsertWriter(
    leader.ctx(),
    info,
    new KvRowCodec(info, null),
    resolveWriterOptions({ lingerMs: 1000, ...opts }),
  );
}

describe("UpsertWriter with oversized rows", () => {
  it("refuses a row over requestBytesMax at upsert and writes the rows around it", async () => {
    const leader = new FakeKvLeader();
    const w = writer(leader, { batchSizeBytes: 1024, requestBytesMax: 16 * 1024 });
    await w.upsert({ id: 1, v: "a" });
    await w.upsert({ id: 2, v: "b" });
    const err = await w.upsert({ id: 3, v: "x".repeat(20_000) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlussError);
    expect((err as FlussError).code).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    expect((err as FlussError).message).toMatch(/row of 200\d\d bytes .*requestBytesMax of 16384 bytes/);
    await w.upsert({ id: 4, v: "c" });
    await w.delete({ id: 1 });
    await w.close();
    expect(leader.batches.reduce((n, b) => n + b.records, 0)).toBe(4);
    expect(leader.batches.map((b) => b.sequence)).toEqual(leader.batches.map((_, i) => i));
    expect(leader.batches.every((b) => b.bytes < 1024)).toBe(true);
  });

  it("sends a row bigger than batchSizeBytes, within the limit, in a batch of its own", async () => {
    const leader = new FakeKvLeader();
    const w = writer(leader, { batchSizeBytes: 1024, requestBytesMax: 16 * 1024 });
    await w.upsert({ id: 1, v: "a" });
    await w.upsert({ id: 2, v: "y".repeat(5000) });
    await w.upsert({ id: 3, v: "b" });
    await w.close();
    expect(leader.batches.map((b) => b.records)).toEqual([1, 1, 1]);
    expect(leader.batches[1]!.bytes).toBeGreaterThan(5000);
  });
});
