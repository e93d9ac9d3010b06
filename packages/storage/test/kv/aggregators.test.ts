// Each aggregate function over its types, including nulls, overflow wrap-around and DECIMAL
// precision; the versioned ordering of TIMESTAMP versions; the pure merger contract.

import { makeSchema, parseType } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { createRowMerger, resolveKvOptions } from "../../src/index.ts";
import { aggregatorFor } from "../../src/kv/merge/aggregators.ts";
import { compareValues } from "../../src/kv/merge/values.ts";
import type { AggFunctionName } from "../../src/kv/types.ts";

function agg(fn: AggFunctionName, type: string, ...inputs: unknown[]): unknown {
  const f = aggregatorFor(fn === "listagg" ? { fn, delimiter: "," } : { fn }, parseType(type));
  return inputs.slice(1).reduce((acc, x) => f(acc, x), inputs[0]);
}

describe("aggregate functions", () => {
  it("sum ignores nulls and wraps like Java's fixed-width types", () => {
    expect(agg("sum", "INT", 1, null, 2)).toBe(3);
    expect(agg("sum", "INT", null, null)).toBeNull();
    expect(agg("sum", "INT", 2147483647, 1)).toBe(-2147483648);
    expect(agg("sum", "TINYINT", 127, 1)).toBe(-128);
    expect(agg("sum", "SMALLINT", 32767, 2)).toBe(-32767);
    expect(agg("sum", "BIGINT", 9223372036854775807n, 1n)).toBe(-9223372036854775808n);
    expect(agg("sum", "FLOAT", 0.1, 0.2)).toBe(Math.fround(0.1 + 0.2));
    expect(agg("sum", "DOUBLE", 0.5, null, 0.25)).toBe(0.75);
    expect(agg("sum", "DECIMAL(10, 2)", "100.50", "200.75")).toBe("301.25");
    expect(agg("sum", "DECIMAL(4, 2)", "99.99", "0.01")).toBeNull(); // 100.00 exceeds DECIMAL(4, 2)
    expect(agg("sum", "DECIMAL(5, 2)", "-1.50", "0.25")).toBe("-1.25");
  });

  it("product", () => {
    expect(agg("product", "INT", 3, null, 4)).toBe(12);
    expect(agg("product", "INT", 65536, 65536)).toBe(0);
    expect(agg("product", "BIGINT", 3n, 5n)).toBe(15n);
    expect(agg("product", "DOUBLE", 0.9, 0.8)).toBe(0.9 * 0.8);
    expect(agg("product", "DECIMAL(10, 2)", "1.05", "1.05")).toBe("1.10"); // 1.1025 HALF_UP
    expect(agg("product", "DECIMAL(10, 2)", "-1.05", "1.05")).toBe("-1.10");
  });

  it("max and min over numbers, strings (UTF-8 order), dates, times, decimals, doubles", () => {
    expect(agg("max", "INT", 3, null, 9, 1)).toBe(9);
    expect(agg("min", "INT", 3, null, 9, 1)).toBe(1);
    expect(agg("max", "STRING", "apple", "pear", "banana")).toBe("pear");
    expect(agg("max", "STRING", "\uffff", "😀")).toBe("😀"); // 4-byte UTF-8 sorts above U+FFFF's 3 bytes
    expect(agg("min", "DATE", "2024-02-01", "2023-12-31")).toBe("2023-12-31");
    expect(agg("max", "TIME(3)", "10:00:00.000", "09:59:59.999")).toBe("10:00:00.000");
    expect(agg("max", "DECIMAL(10, 2)", "99.99", "100.00", "-5.00")).toBe("100.00");
    expect(agg("max", "DOUBLE", 1, Number.NaN)).toBeNaN();
    expect(Object.is(agg("min", "DOUBLE", 0, -0), -0)).toBe(true);
    expect(agg("max", "TIMESTAMP(6)", 1_000_001n, 1_000_000n)).toBe(1_000_001n);
  });

  it("last_value, last_value_ignore_nulls, first_value, first_value_ignore_nulls", () => {
    expect(agg("last_value", "STRING", "a", "b", null)).toBeNull();
    expect(agg("last_value_ignore_nulls", "STRING", "a", "b", null)).toBe("b");
    expect(agg("first_value", "STRING", "a", "b")).toBe("a");
    expect(agg("first_value", "STRING", null, "b", "c")).toBe("b"); // as Fluss's code does
    expect(agg("first_value_ignore_nulls", "STRING", null, "b", "c")).toBe("b");
  });

  it("listagg, bool_and, bool_or", () => {
    expect(agg("listagg", "STRING", "developer", null, "java", "flink")).toBe("developer,java,flink");
    expect(aggregatorFor({ fn: "string_agg", delimiter: ";" }, parseType("STRING"))("a", "b")).toBe("a;b");
    expect(agg("bool_and", "BOOLEAN", true, null, true, false)).toBe(false);
    expect(agg("bool_and", "BOOLEAN", true, true)).toBe(true);
    expect(agg("bool_or", "BOOLEAN", false, null, false)).toBe(false);
    expect(agg("bool_or", "BOOLEAN", false, true)).toBe(true);
    expect(agg("bool_or", "BOOLEAN", null, null)).toBeNull();
  });

  it("compares bytes unsigned", () => {
    expect(compareValues(parseType("BYTES"), Uint8Array.of(0x80), Uint8Array.of(0x7f))).toBe(1);
  });
});

describe("row mergers (pure)", () => {
  const schema = makeSchema(
    [
      { name: "id", type: "INT" },
      { name: "ts", type: "TIMESTAMP(3)" },
      { name: "v", type: "STRING" },
    ],
    ["id"],
  );

  it("versioned over TIMESTAMP keeps the newest row and returns the old row itself otherwise", () => {
    const options = resolveKvOptions({
      "table.merge-engine": "versioned",
      "table.merge-engine.versioned.ver-column": "ts",
    });
    const m = createRowMerger(options, schema, null);
    const old = [1, 2000n, "old"];
    expect(m.merge(old, [1, 1999n, "x"])).toBe(old);
    expect(m.merge(old, [1, 2000n, "y"])).toEqual([1, 2000n, "y"]);
    expect(m.merge(old, [1, null, "z"])).toBe(old);
    expect(m.merge(null, [1, null, "first"])).toEqual([1, null, "first"]);
    expect(m.deleteBehavior).toBe("IGNORE");
  });

  it("the default engine reports that it replaces whole rows (WAL may skip lookups)", () => {
    const m = createRowMerger(resolveKvOptions({}), schema, null);
    expect(m.replacesWholeRow).toBe(true);
    expect(createRowMerger(resolveKvOptions({}), schema, [0, 2]).replacesWholeRow).toBe(false);
    expect(createRowMerger(resolveKvOptions({}), schema, [2, 1, 0]).replacesWholeRow).toBe(true);
  });
});
