// resolveKvOptions and validateKvTable: defaults, the combinations Fluss forces or refuses, and
// definitions refused against the schema.

import { Errors, isFlussError, makeSchema } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { isKvOptionKey, resolveKvOptions, validateKvTable } from "../../src/index.ts";

function codeOf(f: () => unknown): number | null {
  try {
    f();
    return null;
  } catch (err) {
    if (!isFlussError(err)) throw err;
    return err.code;
  }
}

const CONFIG = Errors.INVALID_CONFIG_EXCEPTION.code;
const TABLE = Errors.INVALID_TABLE_EXCEPTION.code;

const pk = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "dt", type: "STRING" },
    { name: "n", type: "BIGINT" },
    { name: "s", type: "STRING" },
    { name: "d", type: "DOUBLE" },
    { name: "ts", type: "TIMESTAMP_LTZ(3)" },
  ],
  ["id", "dt"],
);
const logTable = makeSchema([{ name: "a", type: "INT" }]);

describe("resolveKvOptions", () => {
  it("defaults: last row, ALLOW, FULL, COMPACTED", () => {
    const o = resolveKvOptions({ "table.log.ttl": "1 d" });
    expect(o.mergeEngine).toEqual({ kind: "last_row" });
    expect([o.deleteBehavior, o.changelogImage, o.kvFormat]).toEqual(["ALLOW", "FULL", "COMPACTED"]);
    expect(o.explicitKeys).toEqual([]);
  });

  it("first_row / versioned / aggregation default to IGNORE; ALLOW refused for the first two", () => {
    expect(resolveKvOptions({ "table.merge-engine": "FIRST_ROW" }).deleteBehavior).toBe("IGNORE");
    expect(resolveKvOptions({ "table.merge-engine": "aggregation" }).deleteBehavior).toBe("IGNORE");
    expect(
      resolveKvOptions({ "table.merge-engine": "aggregation", "table.delete.behavior": "allow" })
        .deleteBehavior,
    ).toBe("ALLOW");
    expect(
      codeOf(() => resolveKvOptions({ "table.merge-engine": "first_row", "table.delete.behavior": "allow" })),
    ).toBe(CONFIG);
    expect(
      codeOf(() =>
        resolveKvOptions({
          "table.merge-engine": "versioned",
          "table.merge-engine.versioned.ver-column": "n",
          "table.delete.behavior": "ALLOW",
        }),
      ),
    ).toBe(CONFIG);
    expect(
      resolveKvOptions({ "table.merge-engine": "first_row", "table.delete.behavior": "disable" })
        .deleteBehavior,
    ).toBe("DISABLE");
  });

  it("refuses bad values and combinations", () => {
    expect(codeOf(() => resolveKvOptions({ "table.merge-engine": "last_row" }))).toBe(CONFIG);
    expect(codeOf(() => resolveKvOptions({ "table.merge-engine": "versioned" }))).toBe(CONFIG);
    expect(codeOf(() => resolveKvOptions({ "table.changelog.image": "PARTIAL" }))).toBe(CONFIG);
    expect(
      codeOf(() => resolveKvOptions({ "table.merge-engine": "aggregation", "table.changelog.image": "WAL" })),
    ).toBe(CONFIG);
    expect(codeOf(() => resolveKvOptions({ "table.kv.format": "INDEXED" }))).toBe(CONFIG);
    expect(codeOf(() => resolveKvOptions({ "fields.n.agg": "sum" }))).toBe(CONFIG); // needs aggregation
    expect(codeOf(() => resolveKvOptions({ "auto-increment.fields": "a,b" }))).toBe(TABLE);
  });

  it("parses aggregation functions and listagg / string_agg delimiters", () => {
    const o = resolveKvOptions({
      "table.merge-engine": "aggregation",
      "fields.n.agg": "SUM",
      "fields.s.agg": "listagg",
      "fields.d.agg": "last-value-ignore-nulls",
      "fields.t.agg": "string_agg",
      "fields.t.string_agg.delimiter": ";",
    });
    expect(o.mergeEngine.kind).toBe("aggregation");
    if (o.mergeEngine.kind !== "aggregation") return;
    expect(Object.fromEntries(o.mergeEngine.fields)).toEqual({
      n: { fn: "sum" },
      s: { fn: "listagg", delimiter: "," },
      d: { fn: "last_value_ignore_nulls" },
      t: { fn: "string_agg", delimiter: ";" },
    });
    const bad = { "table.merge-engine": "aggregation" };
    expect(codeOf(() => resolveKvOptions({ ...bad, "fields.n.agg": "median" }))).toBe(CONFIG);
    expect(
      codeOf(() => resolveKvOptions({ ...bad, "fields.n.agg": "sum", "fields.n.sum.delimiter": ";" })),
    ).toBe(CONFIG);
    expect(
      codeOf(() => resolveKvOptions({ ...bad, "fields.s.agg": "listagg", "fields.s.listagg.delimiter": "" })),
    ).toBe(CONFIG);
    expect(codeOf(() => resolveKvOptions({ ...bad, "fields.s.other": "x" }))).toBe(CONFIG);
    expect(isKvOptionKey("fields.s.agg") && isKvOptionKey("table.delete.behavior")).toBe(true);
    expect(isKvOptionKey("table.log.ttl")).toBe(false);
  });
});

describe("validateKvTable", () => {
  const ok = (props: Record<string, string>, p: string[] = ["dt"], b: string[] = []): number | null =>
    codeOf(() => validateKvTable(pk, resolveKvOptions(props), p, b));

  it("accepts a plain primary-key table and a plain log table", () => {
    expect(ok({})).toBeNull();
    expect(codeOf(() => validateKvTable(logTable, resolveKvOptions({})))).toBeNull();
  });

  it("refuses KV options on a log table", () => {
    const onLog = (props: Record<string, string>): number | null =>
      codeOf(() => validateKvTable(logTable, resolveKvOptions(props)));
    expect(onLog({ "table.merge-engine": "first_row" })).toBe(CONFIG);
    expect(onLog({ "table.delete.behavior": "ignore" })).toBe(CONFIG);
    expect(onLog({ "auto-increment.fields": "a" })).toBe(TABLE);
  });

  it("checks partition and bucket keys against the primary key", () => {
    expect(ok({}, ["s"])).toBe(TABLE);
    expect(ok({}, ["id", "dt"])).toBe(TABLE); // nothing left of the key
    expect(ok({}, ["dt"], ["id"])).toBeNull();
    expect(ok({}, ["dt"], ["dt"])).toBe(TABLE);
  });

  it("checks the version column", () => {
    const v = (col: string): number | null =>
      ok({ "table.merge-engine": "versioned", "table.merge-engine.versioned.ver-column": col });
    expect(v("n")).toBeNull();
    expect(v("ts")).toBeNull();
    expect(v("s")).toBe(CONFIG);
    expect(v("d")).toBe(CONFIG);
    expect(v("missing")).toBe(CONFIG);
  });

  it("checks aggregation columns and types", () => {
    const a = (col: string, fn: string): number | null =>
      ok({ "table.merge-engine": "aggregation", [`fields.${col}.agg`]: fn });
    expect(a("n", "sum")).toBeNull();
    expect(a("s", "max")).toBeNull();
    expect(a("ts", "min")).toBeNull();
    expect(a("s", "sum")).toBe(CONFIG);
    expect(a("n", "listagg")).toBe(CONFIG);
    expect(a("d", "bool_and")).toBe(CONFIG);
    expect(a("s", "last_value")).toBeNull();
    expect(a("id", "sum")).toBe(CONFIG); // key column
    expect(a("nope", "sum")).toBe(CONFIG);
  });

  it("checks the auto-increment column", () => {
    expect(ok({ "auto-increment.fields": "n" })).toBeNull();
    expect(ok({ "auto-increment.fields": "s" })).toBe(TABLE);
    expect(ok({ "auto-increment.fields": "id" })).toBe(TABLE);
    expect(ok({ "auto-increment.fields": "zz" })).toBe(TABLE);
  });
});
