// The error catalogue's boundary helpers: failed assertions are never turned into served errors,
// and client-side codes are told apart from Fluss wire codes.

import nodeAssert from "node:assert";
import { describe, expect, it } from "vitest";
import {
  AssertionError,
  assert,
  Errors,
  FlussError,
  isAssertionError,
  isWireCode,
  toFlussError,
} from "../src/errors.ts";

describe("toFlussError", () => {
  it("rethrows a failed assertion instead of mapping it to UNKNOWN_SERVER_ERROR", () => {
    let broken: unknown;
    try {
      assert(1 > 2, "one is more than two");
    } catch (err) {
      broken = err;
    }
    expect(broken).toBeInstanceOf(AssertionError);
    expect(() => toFlussError(broken)).toThrow(/assertion failed: one is more than two/);
    let fromNode: unknown;
    try {
      nodeAssert.strictEqual(1, 2);
    } catch (err) {
      fromNode = err;
    }
    expect(() => toFlussError(fromNode)).toThrow(fromNode as Error);
  });

  it("still maps expected and unknown failures", () => {
    const typed = new FlussError(Errors.TABLE_NOT_EXIST);
    expect(toFlussError(typed)).toBe(typed);
    expect(toFlussError(new Error("disk"))).toMatchObject({
      code: Errors.UNKNOWN_SERVER_ERROR.code,
      message: "disk",
    });
  });
});

describe("isAssertionError / isWireCode", () => {
  it("recognises assertions by brand, not by name", () => {
    expect(isAssertionError(new AssertionError("x"))).toBe(true);
    const lookalike = new Error("x");
    lookalike.name = "AssertionError";
    expect(isAssertionError(lookalike)).toBe(false);
    expect(isAssertionError(new FlussError(Errors.INVALID_ARGUMENT))).toBe(false);
    expect(isAssertionError("assertion failed")).toBe(false);
  });

  it("accepts Fluss codes only", () => {
    for (const k of Object.values(Errors)) expect(isWireCode(k.code)).toBe(k.code < 10000);
    expect(isWireCode(-2)).toBe(false);
    expect(isWireCode(73)).toBe(true); // a newer Fluss code we do not know is still a wire code
  });
});
