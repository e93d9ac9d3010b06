// The KV write path of the default engine (last row wins): exact changelogs read back from the log
// for inserts, updates, deletes in FULL and WAL images, delete behaviors, deletes of missing
// keys, lookups that never see data above the high watermark, prefix lookups, scans.

import {
  buildKvRecordBatch,
  Errors,
  encodeCompactedRow,
  encodeKey,
  isFlussError,
  makeSchema,
  NO_COMPRESSION,
} from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { KvTablet, LogTablet, resolveKvOptions } from "../../src/index.ts";
import { removeTempDirs, TestClock, tempDir } from "../helpers.ts";
import { del, openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

const schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "name", type: "STRING" },
    { name: "v", type: "BIGINT" },
  ],
  ["id"],
);

async function expectError(p: Promise<unknown>, kind: { code: number }, text?: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isFlussError(err), `expected a FlussError, got ${String(err)}`).toBe(true);
  if (isFlussError(err)) {
    expect(err.code, err.message).toBe(kind.code);
    if (text) expect(err.message).toMatch(text);
  }
}

describe("default merge engine, FULL image", () => {
  it("emits +I, -U/+U and -D with exact offsets", async () => {
    const h = await openHarness({ schema });
    const r1 = await h.put([upsert(1, "a", 10n), upsert(2, "b", 20n)]);
    expect([r1.firstOffset, r1.lastOffset]).toEqual([0n, 1n]);
    const r2 = await h.put([upsert(1, "a2", 11n)]);
    expect([r2.firstOffset, r2.lastOffset]).toEqual([2n, 3n]); // an update takes two offsets
    const r3 = await h.put([del(2)]);
    expect([r3.firstOffset, r3.lastOffset]).toEqual([4n, 4n]);
    expect(await h.changelog()).toEqual([
      "+I(1, a, 10)",
      "+I(2, b, 20)",
      "-U(1, a, 10)",
      "+U(1, a2, 11)",
      "-D(2, b, 20)",
    ]);
    expect(h.get(1)).toEqual([1, "a2", 11n]);
    expect(h.get(2)).toBeNull();
    expect(h.kv.rowCount).toBe(1n);
    await h.close();
  });

  it("merges records of one batch against each other, in order", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "a", 1n), upsert(1, "b", 2n), del(1), upsert(1, "c", 3n)]);
    expect(await h.changelog()).toEqual([
      "+I(1, a, 1)",
      "-U(1, a, 1)",
      "+U(1, b, 2)",
      "-D(1, b, 2)",
      "+I(1, c, 3)",
    ]);
    expect(h.get(1)).toEqual([1, "c", 3n]);
    await h.close();
  });

  it("an identical upsert still emits -U/+U (Fluss compares by identity)", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "a", 1n)]);
    await h.put([upsert(1, "a", 1n)]);
    expect(await h.changelog()).toEqual(["+I(1, a, 1)", "-U(1, a, 1)", "+U(1, a, 1)"]);
    await h.close();
  });

  it("a delete of a missing key appends an empty batch that takes one offset", async () => {
    const h = await openHarness({ schema });
    const r = await h.put([del(7), del(8)]);
    expect([r.firstOffset, r.lastOffset, r.logEndOffset]).toEqual([0n, 0n, 1n]);
    const r2 = await h.put([upsert(7, "x", 1n)]);
    expect(r2.firstOffset).toBe(1n);
    expect(await h.changelog()).toEqual(["empty@0", "+I(7, x, 1)"]);
    await h.close();
  });
});

describe("WAL image", () => {
  it("full-row upserts skip the lookup and are all +U; deletes are -D", async () => {
    const h = await openHarness({ schema, properties: { "table.changelog.image": "wal" } });
    await h.put([upsert(1, "a", 1n)]);
    await h.put([upsert(1, "b", 2n), del(1), del(1)]);
    expect(await h.changelog()).toEqual(["+U(1, a, 1)", "+U(1, b, 2)", "-D(1, b, 2)"]);
    expect(h.kv.rowCount).toBeNull();
    await h.close();
  });

  it("partial updates look up: +I for a new key, +U alone for an update", async () => {
    const h = await openHarness({ schema, properties: { "table.changelog.image": "WAL" } });
    await h.put([upsert(1, "a", null)], { targets: [0, 1] });
    await h.put([upsert(1, null, 5n)], { targets: [0, 2] });
    expect(await h.changelog()).toEqual(["+I(1, a, null)", "+U(1, a, 5)"]);
    await h.close();
  });
});

describe("delete behavior", () => {
  it("IGNORE drops deletes silently (no changelog, one offset for the batch)", async () => {
    const h = await openHarness({ schema, properties: { "table.delete.behavior": "ignore" } });
    await h.put([upsert(1, "a", 1n)]);
    const r = await h.put([del(1)]);
    expect(r.firstOffset).toBe(1n);
    expect(await h.changelog()).toEqual(["+I(1, a, 1)", "empty@1"]);
    expect(h.get(1)).toEqual([1, "a", 1n]);
    await h.close();
  });

  it("DISABLE refuses the whole batch and stages nothing", async () => {
    const h = await openHarness({ schema, properties: { "table.delete.behavior": "DISABLE" } });
    await expectError(h.put([upsert(1, "a", 1n), del(1)]), Errors.DELETION_DISABLED_EXCEPTION);
    expect(h.log.logEndOffset).toBe(0n);
    await h.put([upsert(1, "b", 2n)]);
    expect(await h.changelog()).toEqual(["+I(1, b, 2)"]); // the refused upsert left no trace
    await h.close();
  });
});

describe("reads", () => {
  it("lookups never see data above the high watermark", async () => {
    const h = await openHarness({ schema });
    await h.put([upsert(1, "a", 1n)], { hold: true });
    expect(h.get(1)).toBeNull(); // appended, not committed
    await h.put([upsert(1, "b", 2n)], { hold: true }); // merges against the staged value
    h.log.updateHighWatermark(1n);
    expect(h.get(1)).toEqual([1, "a", 1n]); // in flight to the store: read from the buffer
    expect(h.kv.stats().inFlightEntries).toBe(1);
    expect(h.kv.appliedLogOffset).toBe(0n); // queued, not committed yet
    await h.kv.committed();
    expect(h.kv.appliedLogOffset).toBe(1n);
    expect(h.kv.stats().inFlightEntries).toBe(0);
    expect(h.get(1)).toEqual([1, "a", 1n]); // now from the store
    await h.commit();
    expect(h.get(1)).toEqual([1, "b", 2n]);
    expect(await h.changelog()).toEqual(["+I(1, a, 1)", "-U(1, a, 1)", "+U(1, b, 2)"]);
    await h.close();
  });

  it("prefix lookup returns every row under a key prefix; scans see the applied offset", async () => {
    const s = makeSchema(
      [
        { name: "a", type: "INT" },
        { name: "b", type: "STRING" },
        { name: "v", type: "INT" },
      ],
      ["a", "b"],
    );
    const h = await openHarness({ schema: s });
    await h.put([upsert(1, "x", 1), upsert(1, "y", 2), upsert(2, "x", 3), upsert(10, "z", 4)]);
    const prefix = encodeKey([s.columns[0]!.type], [1]);
    const [hits, none] = await h.kv.prefixLookup([prefix, encodeKey([s.columns[0]!.type], [3])]);
    expect(hits!.length).toBe(2); // waited for the queued commit
    expect(none).toEqual([]);
    const scan = h.kv.scan();
    expect(scan.logOffset).toBe(4n);
    expect([...scan.values].length).toBe(4);
    expect((await h.kv.limitScan(3)).length).toBe(3);
    expect(h.rows().map((r) => r[2])).toEqual([1, 2, 3, 4]);
    await h.close();
  });
});

describe("concurrency and partitions", () => {
  it("pipelined puts on one tablet never interleave: offsets and sums stay exact", async () => {
    const s = makeSchema(
      [
        { name: "id", type: "INT" },
        { name: "n", type: "BIGINT" },
      ],
      ["id"],
    );
    const h = await openHarness({
      schema: s,
      properties: { "table.merge-engine": "aggregation", "fields.n.agg": "sum" },
      flushMode: "always",
    });
    const puts = Array.from({ length: 40 }, (_, i) =>
      h.put([upsert(i % 3, 1n), upsert(100 + i, BigInt(i))], { writerId: 9n, sequence: i }),
    );
    const results = await Promise.all(puts);
    for (let i = 1; i < results.length; i++)
      expect(results[i]!.firstOffset).toBe(results[i - 1]!.lastOffset + 1n);
    expect([0, 1, 2].map((k) => h.get(k)![1])).toEqual([14n, 13n, 13n]);
    expect(h.kv.rowCount).toBe(43n);
    await h.close();
  });

  it("keys leave out partition columns", async () => {
    const s = makeSchema(
      [
        { name: "dt", type: "STRING" },
        { name: "id", type: "INT" },
        { name: "v", type: "STRING" },
      ],
      ["dt", "id"],
    );
    const dir = await tempDir("fluss-kv-");
    const clock = new TestClock();
    const log = await LogTablet.open({ dir: `${dir}/log`, clock });
    const kv = await KvTablet.open({
      dir: `${dir}/kv`,
      log,
      schema: s,
      schemaId: 1,
      options: resolveKvOptions({}),
      clock,
      partitionKeys: ["dt"],
    });
    const key = encodeKey([s.columns[1]!.type], [7]);
    const row = encodeCompactedRow(
      s.columns.map((c) => c.type),
      ["2026-11-26", 7, "x"],
    );
    await kv.putAsLeader(buildKvRecordBatch({ schemaId: 1, records: [{ key, row }] }), null, {
      compression: NO_COMPRESSION,
    });
    log.updateHighWatermark(log.logEndOffset);
    expect(kv.lookup([key])[0]).not.toBeNull();
    await kv.close();
    await log.close();
  });
});
