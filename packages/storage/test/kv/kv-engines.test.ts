// Merge engines end to end through putAsLeader, with exact changelogs: partial update, first_row,
// versioned (including null versions), aggregation, auto-increment, "no change emits nothing".

import { Errors, isFlussError, makeSchema } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs } from "../helpers.ts";
import { counterAllocator, del, openHarness, upsert } from "./kv-helpers.ts";

afterAll(removeTempDirs);

async function errorOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isFlussError(err)) throw new Error(`expected a FlussError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

const wide = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "a", type: "STRING" },
    { name: "b", type: "BIGINT" },
    { name: "c", type: "DOUBLE" },
  ],
  ["id"],
);

describe("partial update (default engine)", () => {
  it("inserts via partial (non-targets null), updates keep non-targets, explicit null overwrites", async () => {
    const h = await openHarness({ schema: wide });
    await h.put([upsert(1, "x", null, null)], { targets: [0, 1] });
    await h.put([upsert(1, null, 7n, null)], { targets: [0, 2] });
    await h.put([upsert(1, null, null, 1.5)], { targets: [0, 1, 3] }); // a := null explicitly
    expect(await h.changelog()).toEqual([
      "+I(1, x, null, null)",
      "-U(1, x, null, null)",
      "+U(1, x, 7, null)",
      "-U(1, x, 7, null)",
      "+U(1, null, 7, 1.5)",
    ]);
    await h.close();
  });

  it("non-target values in the incoming row are ignored", async () => {
    const h = await openHarness({ schema: wide });
    await h.put([upsert(1, "x", 5n, 1.0)]);
    await h.put([upsert(1, "ignored", 6n, 9.9)], { targets: [0, 2] });
    expect(h.get(1)).toEqual([1, "x", 6n, 1.0]);
    await h.close();
  });

  it("a key-only write leaves an existing row alone (no changelog) and inserts a new one", async () => {
    const h = await openHarness({ schema: wide });
    await h.put([upsert(1, "x", 5n, null)]);
    await h.put([upsert(1, null, null, null), upsert(2, null, null, null)], { targets: [0] });
    expect(await h.changelog()).toEqual(["+I(1, x, 5, null)", "+I(2, null, null, null)"]);
    await h.close();
  });

  it("partial delete nulls the targets, and deletes the row once every non-key column is null", async () => {
    const h = await openHarness({ schema: wide });
    await h.put([upsert(1, "x", 5n, 2.0)]);
    await h.put([del(1)], { targets: [0, 1] });
    await h.put([del(1)], { targets: [0, 2, 3] });
    expect(await h.changelog()).toEqual([
      "+I(1, x, 5, 2)",
      "-U(1, x, 5, 2)",
      "+U(1, null, 5, 2)",
      "-D(1, null, 5, 2)", // a, the only non-target, is already null: the row goes
    ]);
    expect(h.get(1)).toBeNull();
    await h.close();
  });

  it("refuses targets without the key, with a NOT NULL non-key column, out of range or repeated", async () => {
    const h = await openHarness({ schema: wide });
    const noKey = await errorOf(h.put([upsert(1, "x", null, null)], { targets: [1] }));
    expect(noKey.code).toBe(Errors.INVALID_TARGET_COLUMN.code);
    expect(noKey.message).toMatch(/primary key/);
    expect((await errorOf(h.put([upsert(1, "x", null, null)], { targets: [0, 9] }))).code).toBe(
      Errors.INVALID_TARGET_COLUMN.code,
    );
    expect((await errorOf(h.put([upsert(1, "x", null, null)], { targets: [0, 1, 1] }))).code).toBe(
      Errors.INVALID_TARGET_COLUMN.code,
    );
    await h.close();
    const strict = makeSchema(
      [
        { name: "id", type: "INT" },
        { name: "a", type: "STRING" },
        { name: "n", type: "INT NOT NULL" },
      ],
      ["id"],
    );
    const h2 = await openHarness({ schema: strict });
    const e = await errorOf(h2.put([upsert(1, "x", 0)], { targets: [0, 1] }));
    expect(e.code).toBe(Errors.INVALID_TARGET_COLUMN.code);
    expect(e.message).toMatch(/'n' is NOT NULL/);
    await h2.put([upsert(1, "x", 0)], { targets: [0, 1, 2] }); // all columns = a full-row write
    expect(h2.get(1)).toEqual([1, "x", 0]);
    await h2.close();
  });
});

const versioned = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "ver", type: "BIGINT" },
    { name: "v", type: "STRING" },
  ],
  ["id"],
);

describe("first_row and versioned", () => {
  it("first_row keeps the first row, emits only +I, ignores deletes by default", async () => {
    const h = await openHarness({ schema: wide, properties: { "table.merge-engine": "first_row" } });
    await h.put([upsert(1, "first", 1n, null), upsert(1, "second", 2n, null)]);
    await h.put([del(1), upsert(2, "b", 3n, null)]);
    expect(await h.changelog()).toEqual(["+I(1, first, 1, null)", "+I(2, b, 3, null)"]);
    expect(h.get(1)).toEqual([1, "first", 1n, null]);
    expect((await errorOf(h.put([upsert(3, "x", null, null)], { targets: [0, 1] }))).code).toBe(
      Errors.INVALID_TARGET_COLUMN.code,
    );
    await h.close();
  });

  it("first_row with delete behavior disable refuses deletes", async () => {
    const h = await openHarness({
      schema: wide,
      properties: { "table.merge-engine": "first_row", "table.delete.behavior": "disable" },
    });
    expect((await errorOf(h.put([del(1)]))).code).toBe(Errors.DELETION_DISABLED_EXCEPTION.code);
    await h.close();
  });

  it("versioned replaces on a version >= the stored one; null is the smallest version", async () => {
    const h = await openHarness({
      schema: versioned,
      properties: { "table.merge-engine": "versioned", "table.merge-engine.versioned.ver-column": "ver" },
    });
    await h.put([upsert(1, 5n, "v5")]);
    await h.put([upsert(1, 4n, "v4")]); // older: ignored, no changelog
    await h.put([upsert(1, 5n, "v5b")]); // equal: replaces
    await h.put([upsert(1, null, "vnull")]); // null < 5: ignored
    await h.put([upsert(2, null, "n1"), upsert(2, null, "n2"), upsert(2, 1n, "one")]);
    await h.put([del(1)]); // ignored
    expect(await h.changelog()).toEqual([
      "+I(1, 5, v5)",
      "empty@1",
      "-U(1, 5, v5)",
      "+U(1, 5, v5b)",
      "empty@4",
      "+I(2, null, n1)",
      "-U(2, null, n1)",
      "+U(2, null, n2)",
      "-U(2, null, n2)",
      "+U(2, 1, one)",
      "empty@10",
    ]);
    await h.close();
  });
});

const agg = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "total", type: "BIGINT" },
    { name: "hi", type: "DOUBLE" },
    { name: "tags", type: "STRING" },
    { name: "note", type: "STRING" },
  ],
  ["id"],
);
const aggProps = {
  "table.merge-engine": "aggregation",
  "fields.total.agg": "sum",
  "fields.hi.agg": "max",
  "fields.tags.agg": "listagg",
  "fields.tags.listagg.delimiter": ";",
};

describe("aggregation", () => {
  it("stores the first row as is, then aggregates field by field (default last_value_ignore_nulls)", async () => {
    const h = await openHarness({ schema: agg, properties: aggProps });
    await h.put([upsert(1, 10n, 1.5, "a", "n1")]);
    await h.put([upsert(1, 5n, 0.5, "b", null)]);
    await h.put([upsert(1, null, 9.0, null, "n2")]);
    expect(await h.changelog()).toEqual([
      "+I(1, 10, 1.5, a, n1)",
      "-U(1, 10, 1.5, a, n1)",
      "+U(1, 15, 1.5, a;b, n1)",
      "-U(1, 15, 1.5, a;b, n1)",
      "+U(1, 15, 9, a;b, n2)",
    ]);
    await h.close();
  });

  it("partial aggregation touches only targets; deletes are ignored by default", async () => {
    const h = await openHarness({ schema: agg, properties: aggProps });
    await h.put([upsert(1, 1n, 1.0, "a", "n")]);
    await h.put([upsert(1, 2n, 100.0, "zzz", null)], { targets: [0, 1] });
    await h.put([del(1)]);
    expect(h.get(1)).toEqual([1, 3n, 1.0, "a", "n"]);
    await h.close();
  });

  it("with delete behavior allow, a delete removes the row; a partial delete nulls targets", async () => {
    const h = await openHarness({
      schema: agg,
      properties: { ...aggProps, "table.delete.behavior": "allow" },
    });
    await h.put([upsert(1, 1n, 1.0, "a", "n"), upsert(2, 2n, 2.0, "b", "m")]);
    await h.put([del(1)]);
    await h.put([del(2)], { targets: [0, 1, 2] });
    expect(await h.changelog()).toEqual([
      "+I(1, 1, 1, a, n)",
      "+I(2, 2, 2, b, m)",
      "-D(1, 1, 1, a, n)",
      "-U(2, 2, 2, b, m)",
      "+U(2, null, null, b, m)",
    ]);
    await h.close();
  });

  it("an unchanged aggregate still emits -U/+U (merge builds a new row)", async () => {
    const h = await openHarness({ schema: agg, properties: aggProps });
    await h.put([upsert(1, 1n, 1.0, null, null)]);
    await h.put([upsert(1, null, null, null, null)]);
    expect(await h.changelog()).toEqual([
      "+I(1, 1, 1, null, null)",
      "-U(1, 1, 1, null, null)",
      "+U(1, 1, 1, null, null)",
    ]);
    await h.close();
  });

  it("a retried KV batch is not merged twice (sum proves it)", async () => {
    const h = await openHarness({ schema: agg, properties: aggProps });
    const first = await h.put([upsert(1, 10n, null, null, null)], { writerId: 7n, sequence: 0 });
    const second = await h.put([upsert(1, 5n, null, null, null)], { writerId: 7n, sequence: 1 });
    const retry = await h.put([upsert(1, 5n, null, null, null)], { writerId: 7n, sequence: 1 });
    expect(retry.duplicate).toBe(true);
    expect([retry.firstOffset, retry.lastOffset]).toEqual([second.firstOffset, second.lastOffset]);
    const retryFirst = await h.put([upsert(1, 10n, null, null, null)], { writerId: 7n, sequence: 0 });
    expect(retryFirst.firstOffset).toBe(first.firstOffset);
    expect(h.get(1)![1]).toBe(15n);
    expect(h.log.logEndOffset).toBe(3n);
    const gap = await errorOf(h.put([upsert(1, 1n, null, null, null)], { writerId: 7n, sequence: 5 }));
    expect(gap.code).toBe(Errors.OUT_OF_ORDER_SEQUENCE_EXCEPTION.code);
    await h.close();
  });

  it("an empty changelog still advances the writer sequence", async () => {
    const h = await openHarness({ schema: wide, properties: { "table.merge-engine": "first_row" } });
    await h.put([upsert(1, "a", null, null)], { writerId: 3n, sequence: 0 });
    const r = await h.put([upsert(1, "b", null, null)], { writerId: 3n, sequence: 1 }); // no change
    expect([r.firstOffset, r.lastOffset]).toEqual([1n, 1n]);
    const next = await h.put([upsert(2, "c", null, null)], { writerId: 3n, sequence: 2 });
    expect(next.firstOffset).toBe(2n);
    expect(await h.changelog()).toEqual(["+I(1, a, null, null)", "empty@1", "+I(2, c, null, null)"]);
    await h.close();
  });
});

describe("auto-increment", () => {
  const schema = makeSchema(
    [
      { name: "user", type: "STRING" },
      { name: "uid", type: "BIGINT" },
      { name: "seen", type: "INT" },
    ],
    ["user"],
  );

  it("assigns an id to new keys only and keeps it on update", async () => {
    const ids = counterAllocator(100n);
    const h = await openHarness({ schema, properties: { "auto-increment.fields": "uid" }, idAllocator: ids });
    await h.put([upsert("u1", null, 1), upsert("u2", null, 1)], { targets: [0, 2] });
    await h.put([upsert("u1", null, 2)], { targets: [0, 2] });
    expect(await h.changelog()).toEqual([
      "+I(u1, 100, 1)",
      "+I(u2, 101, 1)",
      "-U(u1, 100, 1)",
      "+U(u1, 100, 2)",
    ]);
    expect(ids.issued).toEqual([100n, 101n]);
    await h.close();
  });

  it("refuses writes without target columns or targeting the auto-increment column", async () => {
    const h = await openHarness({
      schema,
      properties: { "auto-increment.fields": "uid" },
      idAllocator: counterAllocator(),
    });
    expect((await errorOf(h.put([upsert("u", 5n, 1)]))).code).toBe(Errors.INVALID_TARGET_COLUMN.code);
    expect((await errorOf(h.put([upsert("u", 5n, 1)], { targets: [0, 1, 2] }))).code).toBe(
      Errors.INVALID_TARGET_COLUMN.code,
    );
    await h.close();
  });
});
