import {
  detectInvalidName,
  Errors,
  isFlussError,
  parsePartitionName,
  partitionMatches,
  partitionNameOf,
  partitionSpecOf,
  partitionValuesOf,
  qualifiedPartitionName,
  validatePartitionSpec,
  validatePartitionValues,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";

function specError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isFlussError(err) && err.is(Errors.PARTITION_SPEC_INVALID_EXCEPTION)).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected PARTITION_SPEC_INVALID_EXCEPTION");
}

describe("partition values", () => {
  it("accepts ASCII letters, digits, '_' and '-' up to 200 characters", () => {
    expect(detectInvalidName("2024-11-11_a-Z9")).toBeNull();
    expect(detectInvalidName("x".repeat(200))).toBeNull();
    expect(detectInvalidName("x".repeat(201))).toBe(
      `the length of '${"x".repeat(201)}' is longer than the max allowed length 200`,
    );
  });

  it("refuses empty, '.', '..' and any other character", () => {
    expect(detectInvalidName("")).toBe("the empty string is not allowed");
    expect(detectInvalidName(".")).toBe("'.' is not allowed");
    expect(detectInvalidName("..")).toBe("'..' is not allowed");
    for (const bad of ["$1", "?1", "a b", "a.b", "a/b", "é", "a$b", "日本"]) {
      expect(detectInvalidName(bad)).toBe(
        `'${bad}' contains one or more characters other than ASCII alphanumerics, '_' and '-'`,
      );
    }
  });

  it("refuses the reserved '__' prefix on create only", () => {
    const msg = specError(() => validatePartitionValues(["__p1", "2"], true));
    expect(msg).toContain("the partition value __p1 is invalid: '__' is not allowed as prefix");
    expect(() => validatePartitionValues(["__p1", "2"], false)).not.toThrow();
    expect(specError(() => validatePartitionValues(["?1"], false))).toContain(
      "the partition value ?1 is invalid",
    );
  });
});

describe("partition specs and names", () => {
  const keys = ["region", "dt"];

  it("joins values in partition-key order with '$', whatever the spec's key order", () => {
    const values = validatePartitionSpec("db.t", keys, { dt: "20240101", region: "eu" }, true);
    expect(values).toEqual(["eu", "20240101"]);
    expect(partitionNameOf(values)).toBe("eu$20240101");
    expect(qualifiedPartitionName(keys, values)).toBe("region=eu/dt=20240101");
  });

  it("parses a name back into its spec", () => {
    expect(parsePartitionName(keys, "eu$20240101")).toEqual({ region: "eu", dt: "20240101" });
    expect(parsePartitionName(["dt"], "20240101")).toEqual({ dt: "20240101" });
    expect(partitionSpecOf(keys, ["a", "b"])).toEqual({ region: "a", dt: "b" });
    expect(specError(() => partitionValuesOf(keys, "eu"))).toContain("has 1 value(s)");
    expect(specError(() => partitionValuesOf(["dt"], "a$b"))).toContain("has 2 value(s)");
  });

  it("refuses a spec with missing, extra or invalid values", () => {
    expect(specError(() => validatePartitionSpec("db.t", keys, {}, true))).toContain(
      "has 0 value(s) but partitioned table db.t has 2 partition key(s)",
    );
    expect(specError(() => validatePartitionSpec("db.t", keys, { region: "eu", day: "1" }, true))).toContain(
      "does not contain partition key 'dt'",
    );
    expect(
      specError(() => validatePartitionSpec("db.t", keys, { region: "eu", dt: "2024.01" }, true)),
    ).toContain("the partition value 2024.01 is invalid");
    expect(specError(() => validatePartitionSpec("db.t", keys, { region: "e$u", dt: "1" }, true))).toContain(
      "'e$u' contains one or more characters",
    );
  });

  it("matches a partial spec by its keys; an unknown key is an error", () => {
    expect(partitionMatches(keys, ["eu", "1"], {})).toBe(true);
    expect(partitionMatches(keys, ["eu", "1"], { region: "eu" })).toBe(true);
    expect(partitionMatches(keys, ["eu", "1"], { dt: "2" })).toBe(false);
    expect(specError(() => partitionMatches(keys, ["eu", "1"], { city: "x" }))).toContain(
      "'city' is not a partition key",
    );
  });
});
