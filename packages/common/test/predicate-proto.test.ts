// The Fluss wire form of predicates: the exact PbPredicate shapes (codes, field ids, literal
// fields per type), NOT pushed down, the refusal (or relaxation) of NOT over string functions, and
// malformed messages.

import { describe, expect, it } from "vitest";
import {
  isFlussError,
  type PbPredicateShape,
  parsePredicate,
  parseSchema,
  predicateFromPb,
  predicateToPb,
  predicateToString,
} from "../src/index.ts";

const schema = parseSchema(
  "id BIGINT, name STRING, c CHAR(2), price DECIMAL(10, 2), big DECIMAL(20, 0), day DATE, t TIME(3), ts TIMESTAMP(6), ok BOOLEAN, f FLOAT, raw BYTES, i8 TINYINT",
);

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return isFlussError(err) ? `${err.kind.name}: ${err.message}` : String(err);
  }
  return "no error";
}

describe("predicateToPb / predicateFromPb", () => {
  it("writes Fluss's codes, field ids and literal fields", () => {
    const p = parsePredicate("id > 5 AND (name IS NULL OR price IN (1.5, NULL))", schema);
    const pb = predicateToPb(p, schema);
    expect(pb).toEqual({
      type: 1,
      compound: {
        function: 0,
        children: [
          {
            type: 0,
            leaf: { function: 4, fieldId: 0, literals: [{ literalType: 4, isNull: false, bigintValue: 5n }] },
          },
          {
            type: 1,
            compound: {
              function: 1,
              children: [
                { type: 0, leaf: { function: 6, fieldId: 1, literals: [] } },
                {
                  type: 0,
                  leaf: {
                    function: 11,
                    fieldId: 3,
                    literals: [
                      { literalType: 9, isNull: false, decimalValue: 150n },
                      { literalType: 9, isNull: true },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    } satisfies PbPredicateShape);
    expect(predicateFromPb(pb, schema)).toEqual(p);
  });

  it("encodes every literal type as Fluss's PredicateMessageUtils does", () => {
    const literal = (text: string) => {
      const pb = predicateToPb(parsePredicate(text, schema), schema);
      return pb.leaf!.literals[0];
    };
    expect(literal("name = 'x'")).toEqual({ literalType: 8, isNull: false, stringValue: "x" });
    expect(literal("c = 'x'")).toEqual({ literalType: 7, isNull: false, stringValue: "x" });
    expect(literal("big = -1")).toEqual({ literalType: 9, isNull: false, decimalBytes: Uint8Array.of(0xff) });
    expect(literal("day = '1970-01-03'")).toEqual({ literalType: 10, isNull: false, bigintValue: 2n });
    expect(literal("t = '00:00:01'")).toEqual({ literalType: 11, isNull: false, intValue: 1000 });
    expect(literal("ts = '1970-01-01T00:00:00.001002'")).toEqual({
      literalType: 12,
      isNull: false,
      timestampMillisValue: 1n,
      timestampNanoOfMillisValue: 2000,
    });
    expect(literal("ok = TRUE")).toEqual({ literalType: 0, isNull: false, booleanValue: true });
    expect(literal("f = 0.5")).toEqual({ literalType: 5, isNull: false, floatValue: 0.5 });
    expect(literal("raw = X'01'")).toEqual({ literalType: 15, isNull: false, binaryValue: Uint8Array.of(1) });
    expect(literal("i8 = -3")).toEqual({ literalType: 1, isNull: false, intValue: -3 });
  });

  it("pushes NOT down, and refuses or relaxes NOT over string functions", () => {
    const p = parsePredicate("NOT (id < 3 OR name = 'a')", schema);
    expect(predicateToString(predicateFromPb(predicateToPb(p, schema), schema))).toBe(
      "id >= 3 AND name <> 'a'",
    );
    const q = parsePredicate("id = 1 AND NOT STARTS_WITH(name, 'a')", schema);
    expect(errorOf(() => predicateToPb(q, schema))).toMatch(/^INVALID_ARGUMENT: NOT STARTS_WITH/);
    expect(
      predicateToString(predicateFromPb(predicateToPb(q, schema, { relaxUnsupported: true }), schema)),
    ).toBe("id = 1 AND TRUE");
  });

  it("reads decoded messages whose unset fields hold defaults", () => {
    const pb: PbPredicateShape = {
      type: 0,
      leaf: {
        function: 0,
        fieldId: 3,
        literals: [
          {
            literalType: 9,
            isNull: false,
            decimalValue: 1234n,
            decimalBytes: new Uint8Array(0),
            intValue: 0,
          },
        ],
      },
    };
    expect(predicateToString(predicateFromPb(pb, schema))).toBe("price = 12.34");
  });

  it("refuses malformed messages", () => {
    const leaf = (over: object): PbPredicateShape => ({
      type: 0,
      leaf: {
        function: 0,
        fieldId: 0,
        literals: [{ literalType: 4, isNull: false, bigintValue: 1n }],
        ...over,
      },
    });
    expect(errorOf(() => predicateFromPb(leaf({ fieldId: 99 }), schema))).toBe(
      "INVALID_ARGUMENT: no column has field id 99",
    );
    expect(errorOf(() => predicateFromPb(leaf({ function: 13 }), schema))).toBe(
      "INVALID_ARGUMENT: unknown leaf function 13",
    );
    expect(
      errorOf(() =>
        predicateFromPb(leaf({ literals: [{ literalType: 8, isNull: false, stringValue: "x" }] }), schema),
      ),
    ).toBe("INVALID_ARGUMENT: literal type STRING does not match the column type BIGINT");
    expect(errorOf(() => predicateFromPb(leaf({ literals: [] }), schema))).toMatch(
      /EQUAL takes one literal, got 0/,
    );
    expect(errorOf(() => predicateFromPb({ type: 2 }, schema))).toBe(
      "INVALID_ARGUMENT: unknown predicate type 2",
    );
    expect(errorOf(() => predicateFromPb({ type: 1 }, schema))).toBe(
      "INVALID_ARGUMENT: compound predicate without its compound",
    );
  });
});
