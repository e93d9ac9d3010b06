// Bad input and failures on the write path: corrupt or malformed KV batches, rows that do not
// decode, keys that do not match their rows, unknown schema ids, backpressure, and a failed log
// append that must leave nothing staged.

import {
  buildKvRecordBatch,
  CompactedKeyEncoder,
  Errors,
  encodeCompactedRow,
  isFlussError,
  makeSchema,
  NO_COMPRESSION,
} from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { KvTablet, LogTablet, resolveKvOptions } from "../../src/index.ts";
import { removeTempDirs, TestClock, tempDir } from "../helpers.ts";
import { kvBatch, openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "s", type: "STRING" },
  ],
  ["id"],
);
const types = schema.columns.map((c) => c.type);
const keyOf = (id: number): Uint8Array => new CompactedKeyEncoder(schema.columns, ["id"]).encodeValues([id]);

async function codeOf(p: Promise<unknown>): Promise<number | null> {
  return p.then(
    () => null,
    (err: unknown) => {
      if (!isFlussError(err)) throw err;
      return err.code;
    },
  );
}

describe("malformed KV batches", () => {
  it("are refused before anything is staged or appended", async () => {
    const h = await openHarness({ schema });
    const good = kvBatch(schema, [upsert(1, "a")]);
    const corrupt = good.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(await codeOf(h.putBytes(corrupt))).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(await codeOf(h.putBytes(good.subarray(0, good.length - 2)))).toBe(
      Errors.CORRUPT_RECORD_EXCEPTION.code,
    );
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    expect(await codeOf(h.putBytes(trailing))).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);

    const shortRow = encodeCompactedRow([types[0]!], [1]); // one column instead of two
    const rows = [
      { key: keyOf(1), row: shortRow },
      { key: new Uint8Array(0), row: encodeCompactedRow(types, [1, "a"]) }, // missing key
      { key: keyOf(2), row: encodeCompactedRow(types, [1, "a"]) }, // key of another row
      { key: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), row: null }, // not an INT key
    ];
    for (const r of rows) {
      const bytes = buildKvRecordBatch({ schemaId: 1, records: [r] });
      expect(await codeOf(h.putBytes(bytes))).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    }
    expect(await codeOf(h.putBytes(kvBatch(schema, [upsert(1, "a")], { schemaId: 2 })))).toBe(
      Errors.SCHEMA_NOT_EXIST.code,
    );
    expect(h.log.logEndOffset).toBe(0n);
    expect(h.kv.stats().preWriteBufferEntries).toBe(0);
    await h.put([upsert(1, "ok")]);
    expect(await h.changelog()).toEqual(["+I(1, ok)"]);
    await h.close();
  });

  it("a bad record late in a batch undoes the staged records before it", async () => {
    const h = await openHarness({ schema });
    const bytes = buildKvRecordBatch({
      schemaId: 1,
      records: [
        { key: keyOf(1), row: encodeCompactedRow(types, [1, "a"]) },
        { key: keyOf(3), row: encodeCompactedRow(types, [4, "b"]) },
      ],
    });
    expect(await codeOf(h.putBytes(bytes))).toBe(Errors.CORRUPT_RECORD_EXCEPTION.code);
    expect(h.kv.stats().preWriteBufferEntries).toBe(0);
    await h.put([upsert(1, "x")]);
    expect(await h.changelog()).toEqual(["+I(1, x)"]); // not an update of a phantom "a"
    await h.close();
  });
});

describe("backpressure and append failures", () => {
  it("refuses with STORAGE_BACKPRESSURE_EXCEPTION while the high watermark does not move", async () => {
    const h = await openHarness({ schema, preWriteBufferBytesMax: 220 });
    await h.put([upsert(1, "a"), upsert(2, "b")], { hold: true });
    expect(await codeOf(h.put([upsert(3, "c")], { hold: true }))).toBe(
      Errors.STORAGE_BACKPRESSURE_EXCEPTION.code,
    );
    await h.commit();
    await h.put([upsert(3, "c")]);
    expect(h.get(3)).toEqual([3, "c"]);
    await h.close();
  });

  it("a log append that fails leaves nothing staged", async () => {
    const dir = await tempDir("fluss-kv-");
    const clock = new TestClock();
    const log = await LogTablet.open({ dir: `${dir}/log`, clock, config: { segmentBytesMax: 1024 } });
    const kv = await KvTablet.open({
      dir: `${dir}/kv`,
      log,
      schema,
      schemaId: 1,
      options: resolveKvOptions({}),
      clock,
    });
    const big = kvBatch(schema, [upsert(1, "x".repeat(2000))]);
    const p = kv.putAsLeader(big, null, { compression: NO_COMPRESSION });
    expect(await codeOf(p)).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    expect(kv.stats().preWriteBufferEntries).toBe(0);
    const r = await kv.putAsLeader(kvBatch(schema, [upsert(1, "small")]), null, {
      compression: NO_COMPRESSION,
    });
    expect(r.firstOffset).toBe(0n);
    log.updateHighWatermark(log.logEndOffset);
    expect(kv.lookup([keyOf(1)])[0]).not.toBeNull();
    await kv.close();
    await log.close();
  });
});
