// The replication options the protocol core reads, under Fluss's names and defaults, checked when
// they are applied (a refusal is INVALID_CONFIG_EXCEPTION naming the option).

import { Errors, FlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../../src/config.ts";

function refusal(overrides: Record<string, string>): FlussError | null {
  try {
    applyServerOptions(defaultServerConfig(), overrides);
  } catch (err) {
    if (err instanceof FlussError) return err;
    throw err;
  }
  return null;
}

describe("replication options", () => {
  it("default to Fluss's: 30 s max lag, 1 in-sync replica for acks=all", () => {
    const c = defaultServerConfig();
    expect(c.replicaMaxLagTimeMs).toBe(30_000);
    expect(c.minInSyncReplicas).toBe(1);
    const set = applyServerOptions(defaultServerConfig(), {
      "log.replica.max-lag-time": "10 s",
      "log.replica.min-in-sync-replicas-number": "2",
    });
    expect(set.replicaMaxLagTimeMs).toBe(10_000);
    expect(set.minInSyncReplicas).toBe(2);
  });

  it("default the follower fetch options to Fluss's: 1 s backoff, 500 ms wait, 1 byte, 16 MiB, 1 MiB per bucket", () => {
    const c = defaultServerConfig();
    expect(c.replicaFetchBackoffMs).toBe(1_000);
    expect(c.replicaFetchWaitMaxMs).toBe(500);
    expect(c.replicaFetchMinBytes).toBe(1);
    expect(c.replicaFetchBytesMax).toBe(16 * 1024 * 1024);
    expect(c.replicaFetchBucketBytesMax).toBe(1024 * 1024);
    const set = applyServerOptions(defaultServerConfig(), {
      "log.replica.fetch.backoff-interval": "200 ms",
      "log.replica.fetch.wait-max-time": "100 ms",
      "log.replica.fetch.max-bytes": "4 mb",
      "log.replica.fetch.max-bytes-for-bucket": "64 kb",
      "tablet-server.controlled-shutdown.max-retries": "5",
    });
    expect(set.replicaFetchBackoffMs).toBe(200);
    expect(set.replicaFetchWaitMaxMs).toBe(100);
    expect(set.replicaFetchBytesMax).toBe(4 * 1024 * 1024);
    expect(set.replicaFetchBucketBytesMax).toBe(64 * 1024);
    expect(set.controlledShutdownRetriesMax).toBe(5);
  });

  it("refuses a follower fetch wait not shorter than the max lag time", () => {
    const err = refusal({ "log.replica.max-lag-time": "1 s", "log.replica.fetch.wait-max-time": "1 s" });
    expect(err?.is(Errors.INVALID_CONFIG_EXCEPTION)).toBe(true);
    expect(err?.message).toContain("log.replica.fetch.wait-max-time");
    expect(err?.message).toContain("log.replica.max-lag-time");
  });

  it("refuses values outside their ranges, naming the option", () => {
    for (const [key, value] of [
      ["log.replica.fetch.backoff-interval", "0 ms"],
      ["log.replica.fetch.max-bytes", "10"],
      ["log.replica.fetch.max-bytes-for-bucket", "3 gb"],
      ["tablet-server.controlled-shutdown.max-retries", "-1"],
      ["log.replica.max-lag-time", "0 ms"],
      ["log.replica.max-lag-time", "30 d"],
      ["log.replica.min-in-sync-replicas-number", "0"],
      ["log.replica.min-in-sync-replicas-number", "many"],
    ]) {
      const err = refusal({ [key]: value });
      expect(err?.is(Errors.INVALID_CONFIG_EXCEPTION), `${key}=${value}`).toBe(true);
      expect(err?.message).toContain(key);
    }
  });
});
