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

  it("refuses values outside their ranges, naming the option", () => {
    for (const [key, value] of [
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
