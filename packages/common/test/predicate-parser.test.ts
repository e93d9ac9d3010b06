// The filter language: what parses to what (literals converted per column type, precedence,
// flipped comparisons, BETWEEN / LIKE / IN forms), errors with their positions, and the printed
// form parsing back to itself.

import { describe, expect, it } from "vitest";
import {
  and,
  isFlussError,
  leaf,
  not,
  or,
  parsePredicate,
  parseSchema,
  predicateColumns,
  predicateToString,
  toNegationNormalForm,
} from "../src/index.ts";

const schema = parseSchema(
  [
    "price DECIMAL(10, 2)",
    "region STRING",
    "a INT",
    "b BIGINT",
    "f FLOAT",
    "ok BOOLEAN",
    "day DATE",
    "t TIME(3)",
    "ts TIMESTAMP(6)",
    "ltz TIMESTAMP_LTZ(3)",
    "raw BYTES",
    "`odd name` INT",
    "`date` INT",
  ].join(", "),
);

function errorOf(text: string): string {
  try {
    parsePredicate(text, schema);
  } catch (err) {
    if (isFlussError(err)) return `${err.kind.name}: ${err.message}`;
    throw err;
  }
  throw new Error(`'${text}' parsed`);
}

describe("parsePredicate", () => {
  it("parses the examples of the brief", () => {
    expect(parsePredicate('price > 100 AND region = "EU"', schema)).toEqual(
      and(leaf(schema, "price", "GREATER_THAN", ["100"]), leaf(schema, "region", "EQUAL", ["EU"])),
    );
    expect(parsePredicate("NOT (a IS NULL) OR b IN (1, 2, 3)", schema)).toEqual(
      or(not(leaf(schema, "a", "IS_NULL")), leaf(schema, "b", "IN", [1n, 2n, 3n])),
    );
  });

  it("gives AND precedence over OR and NOT over both", () => {
    const p = parsePredicate("a = 1 OR a = 2 AND NOT a = 3", schema);
    expect(predicateToString(p)).toBe("a = 1 OR (a = 2 AND NOT (a = 3))");
  });

  it("converts literals to the column type", () => {
    const one = (text: string) => {
      const p = parsePredicate(text, schema);
      if (p.kind !== "leaf") throw new Error("not a leaf");
      return p.literals;
    };
    expect(one("price >= 12.5")).toEqual([1250n]);
    expect(one("price >= '-0.01'")).toEqual([-1n]);
    expect(one("b = 9007199254740993")).toEqual([9007199254740993n]);
    expect(one("f < 0.1")).toEqual([Math.fround(0.1)]);
    expect(one("f = 'NaN'")).toEqual([Number.NaN]);
    expect(one("ok = true")).toEqual([true]);
    expect(one("day = '2024-01-02'")).toEqual([19724]);
    expect(one("day = DATE '1970-01-02'")).toEqual([1]);
    expect(one("t < '10:00:00.5'")).toEqual([36_000_500]);
    expect(one("ts >= '2024-01-01 00:00:00.000000001'")).toEqual([{ epochMs: 1704067200000, nanoOfMs: 1 }]);
    expect(one("ltz = '1970-01-01T01:00:00+01:00'")).toEqual([{ epochMs: 0, nanoOfMs: 0 }]);
    expect(one("ltz = 5")).toEqual([{ epochMs: 5, nanoOfMs: 0 }]);
    expect(one("raw = X'00ff'")).toEqual([Uint8Array.of(0, 255)]);
    expect(one("region = 'it''s'")).toEqual(["it's"]);
    expect(one('region = "say ""hi"""')).toEqual(['say "hi"']);
    expect(one("a IN (1, NULL)")).toEqual([1, null]);
  });

  it("reads literal-first comparisons, BETWEEN, LIKE and string functions", () => {
    const text = (s: string) => predicateToString(parsePredicate(s, schema));
    expect(text("100 < price")).toBe("price > 100.00");
    expect(text("a BETWEEN 1 AND 5")).toBe("a >= 1 AND a <= 5");
    expect(text("a NOT BETWEEN 1 AND 5")).toBe("NOT (a >= 1 AND a <= 5)");
    expect(text("region LIKE 'EU%'")).toBe("STARTS_WITH(region, 'EU')");
    expect(text("region LIKE '%EU'")).toBe("ENDS_WITH(region, 'EU')");
    expect(text("region NOT LIKE '%EU%'")).toBe("NOT CONTAINS(region, 'EU')");
    expect(text("region LIKE 'EU'")).toBe("region = 'EU'");
    expect(text("starts_with(region, 'E')")).toBe("STARTS_WITH(region, 'E')");
    expect(text("a <> 1 AND a != 2 AND a == 3")).toBe("a <> 1 AND a <> 2 AND a = 3");
    expect(text("`odd name` = 1 AND `date` = 2")).toBe("`odd name` = 1 AND date = 2");
    expect(text("TRUE AND (FALSE OR a IS NOT NULL)")).toBe("TRUE AND (FALSE OR a IS NOT NULL)");
    expect(text("region NOT IN ('a', 'b')")).toBe("region NOT IN ('a', 'b')");
  });

  it("reports errors with their position", () => {
    expect(errorOf("price > ")).toBe(
      "INVALID_ARGUMENT: invalid predicate at position 9: expected a literal, found the end of the input",
    );
    expect(errorOf("nope = 1")).toMatch(
      /^INVALID_ARGUMENT: invalid predicate at position 1: unknown column 'nope' \(columns: price, region/,
    );
    expect(errorOf("a = 1 AND Region = 'x'")).toBe(
      "INVALID_ARGUMENT: invalid predicate at position 11: unknown column 'Region'; did you mean 'region'?",
    );
    expect(errorOf("price > 1.234")).toMatch(
      /^INVALID_ARGUMENT: invalid predicate at position 9: literal for column 'price' \(DECIMAL\(10, 2\)\): expected .*fraction digits/,
    );
    expect(errorOf("a = 'x")).toBe("INVALID_ARGUMENT: invalid predicate at position 5: unterminated string");
    expect(errorOf("a = 1 b = 2")).toBe(
      "INVALID_ARGUMENT: invalid predicate at position 7: expected AND, OR or the end, found 'b'",
    );
    expect(errorOf("(a = 1")).toBe(
      "INVALID_ARGUMENT: invalid predicate at position 7: expected ')', found the end of the input",
    );
    expect(errorOf("a = NULL")).toMatch(/position 5: a comparison with NULL is never true; use IS NULL/);
    expect(errorOf("a # 1")).toBe(
      "INVALID_ARGUMENT: invalid predicate at position 3: unexpected character '#'",
    );
    expect(errorOf("a 1")).toMatch(
      /position 3: expected a comparison operator, IS, IN, BETWEEN or LIKE after column 'a'/,
    );
    expect(errorOf("region = 5")).toMatch(
      /position 10: literal for column 'region' \(STRING\): expected a string, got 5/,
    );
    expect(errorOf("a = 99999999999")).toMatch(/position 5: .*out of range/);
    expect(errorOf("day = '2024-13-01'")).toMatch(
      /position 7: literal for column 'day' \(DATE\): expected a date/,
    );
    expect(errorOf("a = X'0'")).toMatch(/position 5: X'…' needs an even number of hex digits/);
    expect(errorOf("a = X'00'")).toMatch(
      /position 5: literal for column 'a' \(INT\): X'…' literals are for BYTES and BINARY columns/,
    );
    expect(errorOf("region LIKE 'a_b%'")).toMatch(/position 13: LIKE patterns with '_' are not supported/);
    expect(errorOf("a LIKE 'x%'")).toMatch(/position 1: LIKE applies to STRING and CHAR columns/);
    expect(errorOf("STARTS_WITH(a, 'x')")).toMatch(
      /position 16: literal for column 'a' \(INT\): expected an integer/,
    );
    expect(errorOf("STARTS_WITH(day, 1)")).toMatch(
      /position 13: predicate on column 'day' \(DATE\): STARTS_WITH applies to STRING and CHAR/,
    );
    expect(errorOf("AND a = 1")).toMatch(/position 1: expected a column name, found 'AND'/);
    expect(errorOf("a IN ()")).toMatch(/position 7: expected a literal, found '\)'/);
    expect(errorOf("")).toMatch(/position 1: expected a column name, found the end of the input/);
  });

  it("lists the columns a predicate reads", () => {
    expect(
      predicateColumns(parsePredicate("b = 1 OR (a = 2 AND b > 0) OR NOT region IS NULL", schema)),
    ).toEqual([1, 2, 3]);
  });

  it("prints text that parses back to the same predicate", () => {
    const texts = [
      "price > 100.00 AND region = 'EU'",
      "(a = 1 OR a IS NULL) AND NOT (b IN (1, 2, NULL))",
      "f >= -0 AND f <> 'NaN' AND f < 'Infinity'",
      "ts = '2024-01-01T00:00:00.000001000' OR ltz < '1969-12-31T23:59:59.999000000'",
      "raw = X'00FF' OR ok = FALSE OR day > '2024-02-29' OR t <= '23:59:59.999'",
      "`odd name` NOT IN (1, 2) AND CONTAINS(region, 'x''y')",
    ];
    for (const t of texts) {
      const p = parsePredicate(t, schema);
      expect(predicateToString(p)).toBe(t);
      expect(parsePredicate(predicateToString(p), schema)).toEqual(p);
    }
  });

  it("pushes NOT down to the leaves (negation normal form)", () => {
    const p = parsePredicate(
      "NOT (a < 1 OR (b IS NULL AND NOT a IN (1, 2)) OR NOT STARTS_WITH(region, 'x'))",
      schema,
    );
    expect(predicateToString(toNegationNormalForm(p))).toBe(
      "a >= 1 AND (b IS NOT NULL OR a IN (1, 2)) AND STARTS_WITH(region, 'x')",
    );
    const q = parsePredicate("NOT (ENDS_WITH(region, 'x') AND a = 1)", schema);
    expect(predicateToString(toNegationNormalForm(q))).toBe("NOT ENDS_WITH(region, 'x') OR a <> 1");
  });
});
