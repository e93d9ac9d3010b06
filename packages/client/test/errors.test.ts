// The error API an SDK user sees through @fluss-ts/client: FlussError, the Errors catalogue (every
// Fluss code with Fluss's name), the isFlussError guard with err.is(kind), and the retriable flag
// as an own property of each error.

import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Errors, FlussError, isFlussError } from "../src/index.ts";

// Fluss's own catalogue: org.apache.fluss.rpc.protocol.Errors (apache/fluss 545c553, 2026-08-22),
// code, name, and whether its exception extends RetriableException.
const FLUSS_ERRORS: ReadonlyArray<readonly [number, string]> = [
  [-1, "UNKNOWN_SERVER_ERROR"],
  [0, "NONE"],
  [1, "NETWORK_EXCEPTION"],
  [2, "UNSUPPORTED_VERSION"],
  [3, "CORRUPT_MESSAGE"],
  [4, "DATABASE_NOT_EXIST"],
  [5, "DATABASE_NOT_EMPTY"],
  [6, "DATABASE_ALREADY_EXIST"],
  [7, "TABLE_NOT_EXIST"],
  [8, "TABLE_ALREADY_EXIST"],
  [9, "SCHEMA_NOT_EXIST"],
  [10, "LOG_STORAGE_EXCEPTION"],
  [11, "KV_STORAGE_EXCEPTION"],
  [12, "NOT_LEADER_OR_FOLLOWER"],
  [13, "RECORD_TOO_LARGE_EXCEPTION"],
  [14, "CORRUPT_RECORD_EXCEPTION"],
  [15, "INVALID_TABLE_EXCEPTION"],
  [16, "INVALID_DATABASE_EXCEPTION"],
  [17, "INVALID_REPLICATION_FACTOR"],
  [18, "INVALID_REQUIRED_ACKS"],
  [19, "LOG_OFFSET_OUT_OF_RANGE_EXCEPTION"],
  [20, "NON_PRIMARY_KEY_TABLE_EXCEPTION"],
  [21, "UNKNOWN_TABLE_OR_BUCKET_EXCEPTION"],
  [22, "INVALID_UPDATE_VERSION_EXCEPTION"],
  [23, "INVALID_COORDINATOR_EXCEPTION"],
  [24, "FENCED_LEADER_EPOCH_EXCEPTION"],
  [25, "REQUEST_TIME_OUT"],
  [26, "STORAGE_EXCEPTION"],
  [27, "OPERATION_NOT_ATTEMPTED_EXCEPTION"],
  [28, "NOT_ENOUGH_REPLICAS_AFTER_APPEND_EXCEPTION"],
  [29, "NOT_ENOUGH_REPLICAS_EXCEPTION"],
  [30, "SECURITY_TOKEN_EXCEPTION"],
  [31, "OUT_OF_ORDER_SEQUENCE_EXCEPTION"],
  [32, "DUPLICATE_SEQUENCE_EXCEPTION"],
  [33, "UNKNOWN_WRITER_ID_EXCEPTION"],
  [34, "INVALID_COLUMN_PROJECTION"],
  [35, "INVALID_TARGET_COLUMN"],
  [36, "PARTITION_NOT_EXISTS"],
  [37, "TABLE_NOT_PARTITIONED_EXCEPTION"],
  [38, "INVALID_TIMESTAMP_EXCEPTION"],
  [39, "INVALID_CONFIG_EXCEPTION"],
  [40, "LAKE_STORAGE_NOT_CONFIGURED_EXCEPTION"],
  [41, "KV_SNAPSHOT_NOT_EXIST"],
  [42, "PARTITION_ALREADY_EXISTS"],
  [43, "PARTITION_SPEC_INVALID_EXCEPTION"],
  [44, "LEADER_NOT_AVAILABLE_EXCEPTION"],
  [45, "PARTITION_MAX_NUM_EXCEPTION"],
  [46, "AUTHENTICATE_EXCEPTION"],
  [47, "SECURITY_DISABLED_EXCEPTION"],
  [48, "AUTHORIZATION_EXCEPTION"],
  [49, "BUCKET_MAX_NUM_EXCEPTION"],
  [50, "FENCED_TIERING_EPOCH_EXCEPTION"],
  [51, "RETRIABLE_AUTHENTICATE_EXCEPTION"],
  [52, "INVALID_SERVER_RACK_INFO_EXCEPTION"],
  [53, "LAKE_SNAPSHOT_NOT_EXIST"],
  [54, "LAKE_TABLE_ALREADY_EXIST"],
  [55, "INELIGIBLE_REPLICA_EXCEPTION"],
  [56, "INVALID_ALTER_TABLE_EXCEPTION"],
  [57, "DELETION_DISABLED_EXCEPTION"],
  [58, "SERVER_NOT_EXIST_EXCEPTION"],
  [59, "SEVER_TAG_ALREADY_EXIST_EXCEPTION"],
  [60, "SEVER_TAG_NOT_EXIST_EXCEPTION"],
  [61, "REBALANCE_FAILURE_EXCEPTION"],
  [62, "NO_REBALANCE_IN_PROGRESS_EXCEPTION"],
  [63, "INVALID_PRODUCER_ID_EXCEPTION"],
  [64, "CONFIG_EXCEPTION"],
  [65, "NOT_COORDINATOR_LEADER_EXCEPTION"],
  [66, "SCANNER_EXPIRED"],
  [67, "UNKNOWN_SCANNER_ID"],
  [68, "INVALID_SCAN_REQUEST"],
  [69, "TOO_MANY_SCANNERS"],
  [70, "DISK_WRITE_LOCKED"],
  [71, "INSUFFICIENT_KV_LEADER_REPLICA_CAPACITY"],
  [72, "STORAGE_BACKPRESSURE_EXCEPTION"],
  [73, "HISTORICAL_PARTITION_THROTTLED"],
];
/** Codes whose exception extends Fluss's RetriableException (RETRIABLE_AUTHENTICATE is retried by its client). */
const FLUSS_RETRIABLE = new Set([1, 3, 9, 10, 11, 12, 14, 21, 25, 26, 28, 29, 44, 51, 70, 72, 73]);
/**
 * Where fluss-ts decides otherwise, on purpose: a log or KV storage failure takes the bucket offline
 * or fences its writes until restart (README, Guarantees), so retrying is futile; too many KV
 * scanners clears as scanners expire, so the snapshot scanner retries it.
 */
const DELIBERATELY_DIFFERENT = new Set([10, 11, 69]);

describe("the Errors catalogue", () => {
  it("has every Fluss code, with Fluss's name as both key and name", () => {
    const byCode = new Map(Object.entries(Errors).map(([key, k]) => [k.code, { key, k }]));
    for (const [code, name] of FLUSS_ERRORS) {
      const entry = byCode.get(code);
      expect(entry, `Fluss code ${code} (${name})`).toBeDefined();
      expect(entry!.key).toBe(name);
      expect(entry!.k.name).toBe(name);
    }
    const codes = Object.values(Errors).map((k) => k.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("marks retriable what Fluss retries, except the documented deviations", () => {
    for (const [code, name] of FLUSS_ERRORS) {
      if (code === 0 || DELIBERATELY_DIFFERENT.has(code)) continue;
      const k = Object.values(Errors).find((e) => e.code === code)!;
      expect(k.retriable, name).toBe(FLUSS_RETRIABLE.has(code));
    }
  });
});

describe("FlussError", () => {
  it("carries code, kind and retriable as own properties, shown when logged", () => {
    const err = new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "bucket 3 moved");
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(12);
    expect(err.kind).toBe(Errors.NOT_LEADER_OR_FOLLOWER);
    expect(err.retriable).toBe(true);
    expect(Object.keys(err)).toEqual(expect.arrayContaining(["code", "kind", "retriable"]));
    expect(inspect(err)).toContain("retriable: true");
    expect(String(err)).toBe("FlussError(NOT_LEADER_OR_FOLLOWER): bucket 3 moved");
    expect(new FlussError(Errors.TABLE_NOT_EXIST).retriable).toBe(false);
  });

  it("lets one error override its kind's flag (a corrupt batch is final for a reader)", () => {
    const err = new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, "at offset 9", { retriable: false });
    expect(err.kind.retriable).toBe(true);
    expect(err.retriable).toBe(false);
    expect(inspect(err)).toContain("retriable: false");
  });
});

describe("isFlussError", () => {
  const missing: unknown = new FlussError(Errors.TABLE_NOT_EXIST, "no table shop.x");

  it("recognises FlussErrors by brand, also from another copy of the module", () => {
    expect(isFlussError(missing)).toBe(true);
    expect(isFlussError(new Error("x"))).toBe(false);
    expect(isFlussError({ code: 7, message: "looks like one" })).toBe(false);
    expect(isFlussError(null)).toBe(false);
    expect(isFlussError("TABLE_NOT_EXIST")).toBe(false);
    const copy = Object.assign(Object.create(Error.prototype), { code: 7 }) as Record<symbol, boolean>;
    copy[Symbol.for("fluss-ts.error")] = true;
    expect(isFlussError(copy)).toBe(true);
  });

  it("narrows, then is(kind) tells the kind", () => {
    expect(isFlussError(missing) && missing.is(Errors.TABLE_NOT_EXIST)).toBe(true);
    expect(isFlussError(missing) && missing.is(Errors.DATABASE_NOT_EXIST)).toBe(false);
    if (isFlussError(missing)) expect(missing.retriable).toBe(false);
  });

  it("works as a filter callback, narrowing the array", () => {
    const errors: unknown[] = [new Error("a"), missing, new FlussError(Errors.REQUEST_TIME_OUT)];
    const fluss: FlussError[] = errors.filter(isFlussError);
    expect(fluss.map((e) => e.retriable)).toEqual([false, true]);
  });
});
