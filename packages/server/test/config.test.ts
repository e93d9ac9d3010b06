// Server options are checked when they are applied: every option has a range, and options that
// depend on each other are cross-checked. A refusal is INVALID_CONFIG_EXCEPTION naming the option.

import { Errors, FlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig, validateServerConfig } from "../src/config.ts";

function refusal(overrides: Record<string, string>): FlussError {
  try {
    applyServerOptions(defaultServerConfig(), overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(FlussError);
    return err as FlussError;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
}

function expectRefused(overrides: Record<string, string>, ...mentions: string[]): void {
  const err = refusal(overrides);
  expect(err.is(Errors.INVALID_CONFIG_EXCEPTION)).toBe(true);
  for (const m of mentions) expect(err.message).toContain(m);
}

describe("server option ranges", () => {
  it("refuses the zero sizes and intervals that used to start and then break tables or scans", () => {
    expectRefused({ "log.segment.file-size": "0" }, "log.segment.file-size", "[1024, 2147483647]");
    expectRefused({ "log.index.interval-size": "0" }, "log.index.interval-size");
    expectRefused({ "log.flush.interval": "0" }, "log.flush.interval");
    expectRefused({ "log.flush.mode": "interval", "log.flush.interval": "0 ms" }, "log.flush.interval");
    expectRefused({ "log.fetch.max-bytes": "0" }, "log.fetch.max-bytes");
  });

  it("refuses values above what storage, timers and frames can hold", () => {
    expectRefused({ "log.segment.file-size": "3 gb" }, "log.segment.file-size");
    // Node timers fire after 1 ms when asked for more than 2^31-1 ms.
    expectRefused({ "log.retention.check-interval": "30 d" }, "log.retention.check-interval", "2147483647");
    expectRefused({ "kv.snapshot.interval": "30 d" }, "kv.snapshot.interval");
    expectRefused({ "auto-partition.check.interval": "30 d" }, "auto-partition.check.interval");
    expectRefused({ "log.fetch.wait-max-time": "30 d" }, "log.fetch.wait-max-time");
    expectRefused({ "kv.snapshot.interval": "10 ms" }, "kv.snapshot.interval");
  });

  it("refuses empty paths and hosts", () => {
    expectRefused({ "data.dir": "" }, "data.dir");
    expectRefused({ "remote.data.dir": " " }, "remote.data.dir");
    expectRefused({ "bind.host": "" }, "bind.host");
  });

  it("accepts the defaults and sensible values", () => {
    expect(validateServerConfig(defaultServerConfig())).toBeUndefined();
    const c = applyServerOptions(defaultServerConfig(), {
      "log.segment.file-size": "64 mb",
      "log.index.interval-size": "8 kb",
      "log.flush.mode": "interval",
      "log.flush.interval": "200 ms",
      "log.fetch.max-bytes": "16 mb",
      "log.fetch.wait-max-time": "0",
    });
    expect(c.logSegmentBytesMax).toBe(64 * 1024 * 1024);
    expect(c.logIndexIntervalBytes).toBe(8 * 1024);
    expect(c.logFlushIntervalMs).toBe(200);
    expect(c.fetchBytesMax).toBe(16 * 1024 * 1024);
    expect(c.fetchWaitMsMax).toBe(0);
  });
});

describe("server option cross-checks", () => {
  it("refuses an index interval larger than the segment size when both are given", () => {
    expectRefused(
      { "log.segment.file-size": "1 mb", "log.index.interval-size": "2 mb" },
      "log.index.interval-size",
      "log.segment.file-size",
    );
  });

  it("lowers the default index interval to a smaller segment size (no conflicting input)", () => {
    const c = applyServerOptions(defaultServerConfig(), { "log.segment.file-size": "2 kb" });
    expect(c.logSegmentBytesMax).toBe(2048);
    expect(c.logIndexIntervalBytes).toBe(2048);
  });

  it("refuses a fetch size that does not fit in one RPC frame", () => {
    expectRefused(
      { "log.fetch.max-bytes": "200 mb", "rpc.frame.max-size": "128 mb" },
      "log.fetch.max-bytes",
      "rpc.frame.max-size",
    );
  });

  it("refuses a default bucket number above max.bucket.num", () => {
    expectRefused(
      { "default.bucket.number": "10", "max.bucket.num": "8" },
      "default.bucket.number",
      "max.bucket.num",
    );
  });

  it("takes a default replication factor from 1 to 64 (the live servers are checked at create)", () => {
    const c = applyServerOptions(defaultServerConfig(), { "default.replication.factor": "3" });
    expect(c.defaultReplicationFactor).toBe(3);
    expectRefused({ "default.replication.factor": "0" }, "default.replication.factor");
    expectRefused({ "default.replication.factor": "65" }, "default.replication.factor");
  });

  it("refuses port ranges that overflow or collide", () => {
    expectRefused({ "tablet-server.port": "65535", "tablet-server.count": "2" }, "tablet-server.port");
    expectRefused(
      { "coordinator.port": "9200", "tablet-server.port": "9199", "tablet-server.count": "3" },
      "coordinator.port",
    );
    expectRefused({ "metrics.port": "9123" }, "metrics.port", "coordinator.port");
    expectRefused(
      { "metrics.port": "9125", "tablet-server.count": "2" },
      "metrics.port",
      "tablet-server.port",
    );
    const free = applyServerOptions(defaultServerConfig(), {
      "coordinator.port": "0",
      "tablet-server.port": "0",
      "metrics.port": "0",
      "tablet-server.count": "3",
    });
    expect(free.tabletServers).toBe(3);
  });

  it("checks a config built in code the same way (LocalCluster.start calls this)", () => {
    const bad = { ...defaultServerConfig(), logSegmentBytesMax: 0 };
    expect(() => validateServerConfig(bad)).toThrow(/log\.segment\.file-size/);
    const conflicting = { ...defaultServerConfig(), logSegmentBytesMax: 1024, logIndexIntervalBytes: 4096 };
    expect(() => validateServerConfig(conflicting)).toThrow(/log\.index\.interval-size/);
    const fetchZero = { ...defaultServerConfig(), fetchBytesMax: 0 };
    expect(() => validateServerConfig(fetchZero)).toThrow(/log\.fetch\.max-bytes/);
  });
});
