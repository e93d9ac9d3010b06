// Required acks on produce and put-kv, as Fluss defines them: -1 (all) answers once the write is
// committed (the high watermark is past it: durable under log.flush.mode=always and visible to
// readers); 1 and 0 answer once the write is in the leader's log, before it is durable or
// visible. With the kernel's fdatasync completing on a later event-loop turn, "before" is
// observable without timing: right after an acks=1 answer the high watermark has not moved yet.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildBatch,
  buildKvRecordBatch,
  CompactedKeyEncoder,
  encodeCompactedRow,
  NO_WRITER_ID,
  parseSchema,
  type TableDescriptor,
} from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../src/config.ts";
import { LocalCluster } from "../src/local-cluster.ts";
import { silentLogger } from "../src/logging.ts";
import type { TabletServer } from "../src/tablet/tablet-server.ts";

const HW = 1; // ListOffsets type "latest": the high watermark

function table(schema: string): TableDescriptor {
  return {
    schema: parseSchema(schema),
    partitionKeys: [],
    bucketKeys: [],
    bucketCount: 1,
    properties: {},
    customProperties: {},
  };
}

function logBatch(): Uint8Array {
  return buildBatch({
    schemaId: 1,
    appendOnly: true,
    writerId: NO_WRITER_ID,
    batchSequence: -1,
    recordCount: 3,
    lastOffsetDelta: 2,
    body: [new Uint8Array(64).fill(7)],
  });
}

const kvSchema = parseSchema("id BIGINT NOT NULL, name STRING, PRIMARY KEY (id)");
const keys = new CompactedKeyEncoder(kvSchema.columns, kvSchema.primaryKey);

function kvBatch(id: bigint): Uint8Array {
  const values = [id, `name-${id}`];
  return buildKvRecordBatch({
    schemaId: 1,
    records: [
      {
        key: keys.encode(values),
        row: encodeCompactedRow(
          kvSchema.columns.map((c) => c.type),
          values,
        ),
      },
    ],
    writerId: -1n,
    batchSequence: -1,
  });
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached in 5 s");
}

describe("required acks", () => {
  let dir: string;
  let cluster: LocalCluster;
  let replicas: Pick<TabletServer["writes"], "produce" | "putKv"> &
    Pick<TabletServer["offsets"], "listOffset"> &
    Pick<TabletServer["replicas"], "kv">;
  let logTable: bigint;
  let kvTable: bigint;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-acks-"));
    const config = applyServerOptions(defaultServerConfig(), {
      "data.dir": dir,
      "coordinator.port": "0",
      "tablet-server.port": "0",
      "log.flush.mode": "always",
    });
    cluster = await LocalCluster.start({ config, logger: silentLogger });
    const coord = cluster.coordinator.coordinator;
    await coord.createTable({ database: "fluss", table: "logs" }, table("id BIGINT"), false);
    await coord.createTable(
      { database: "fluss", table: "users" },
      { ...table("id BIGINT"), schema: kvSchema },
      false,
    );
    logTable = (await coord.getTableInfo({ database: "fluss", table: "logs" })).tableId;
    kvTable = (await coord.getTableInfo({ database: "fluss", table: "users" })).tableId;
    const ts = cluster.tabletServers[0]!;
    replicas = {
      produce: (...a) => ts.writes.produce(...a),
      putKv: (...a) => ts.writes.putKv(...a),
      listOffset: (...a) => ts.offsets.listOffset(...a),
      kv: (id) => ts.replicas.kv(id),
    };
  });
  afterAll(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const logBucket = () => ({ tableId: logTable, partitionId: null, bucket: 0 });
  const kvBucket = () => ({ tableId: kvTable, partitionId: null, bucket: 0 });
  const produce = (acks: -1 | 0 | 1) =>
    replicas.produce(logTable, [{ partitionId: null, bucket: 0, records: logBatch() }], acks);

  it("acks=-1 answers once the write is committed", async () => {
    const before = await replicas.listOffset(logBucket(), HW, null);
    const [r] = await produce(-1);
    expect(r!.error).toBeNull();
    expect(r!.baseOffset).toBe(before);
    expect(await replicas.listOffset(logBucket(), HW, null)).toBe(before + 3n);
  });

  for (const acks of [1, 0] as const) {
    it(`acks=${acks} answers once the write is in the leader's log, before it is committed`, async () => {
      const before = await replicas.listOffset(logBucket(), HW, null);
      const [r] = await produce(acks);
      expect(r!.error).toBeNull();
      expect(r!.baseOffset).toBe(before);
      // Answered, with its offsets, while still invisible to readers (not yet fdatasync'ed).
      expect(await replicas.listOffset(logBucket(), HW, null)).toBe(before);
      await until(async () => (await replicas.listOffset(logBucket(), HW, null)) === before + 3n);
    });
  }

  it("put-kv with acks=1 answers before the row is committed; lookups see it only then", async () => {
    const key = keys.encode([1n, null]);
    const [r] = await replicas.putKv(
      kvTable,
      [{ partitionId: null, bucket: 0, records: kvBatch(1n) }],
      null,
      1,
    );
    expect(r!.error).toBeNull();
    const kv = replicas.kv(kvBucket());
    expect(await replicas.listOffset(kvBucket(), HW, null)).toBe(0n);
    expect(kv.lookup([key])[0]).toBeNull();
    await until(async () => (await replicas.listOffset(kvBucket(), HW, null)) === r!.baseOffset);
    await until(async () => kv.lookup([key])[0] !== null);
  });

  it("put-kv with acks=-1 answers once the row is committed and visible to lookups", async () => {
    const [r] = await replicas.putKv(
      kvTable,
      [{ partitionId: null, bucket: 0, records: kvBatch(2n) }],
      null,
      -1,
    );
    expect(r!.error).toBeNull();
    expect(await replicas.listOffset(kvBucket(), HW, null)).toBe(r!.baseOffset);
    expect(replicas.kv(kvBucket()).lookup([keys.encode([2n, null])])[0]).not.toBeNull();
  });
});
