// The RPC resource options (issue 11 item 9): defaults, parsing, validation. That they reach the
// RPC servers is checked end to end in test/e2e/rpc-honest-errors.test.ts.

import { Errors, FlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig, SERVER_OPTION_KEYS } from "../src/config.ts";

function refusal(overrides: Record<string, string>): FlussError {
  try {
    applyServerOptions(defaultServerConfig(), overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(FlussError);
    return err as FlussError;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
}

describe("rpc.request.buffer-bytes-max, rpc.request.read-timeout, connections.max.idle.ms", () => {
  it("have defaults: 256 MiB, 30 s, 10 min", () => {
    const c = defaultServerConfig();
    expect(c.rpcRequestBufferBytesMax).toBe(256 * 1024 * 1024);
    expect(c.rpcRequestReadTimeoutMs).toBe(30_000);
    expect(c.connectionIdleMsMax).toBe(600_000);
    expect(SERVER_OPTION_KEYS).toEqual(
      expect.arrayContaining([
        "rpc.request.buffer-bytes-max",
        "rpc.request.read-timeout",
        "connections.max.idle.ms",
      ]),
    );
  });

  it("parse sizes and durations", () => {
    const c = applyServerOptions(defaultServerConfig(), {
      "rpc.frame.max-size": "16 mb",
      "log.fetch.max-bytes": "8 mb",
      "log.replica.fetch.max-bytes": "8 mb", // follower fetch answers must fit a frame too
      "rpc.request.buffer-bytes-max": "64 mb",
      "rpc.request.read-timeout": "5 s",
      "connections.max.idle.ms": "120000",
    });
    expect(c.rpcRequestBufferBytesMax).toBe(64 * 1024 * 1024);
    expect(c.rpcRequestReadTimeoutMs).toBe(5000);
    expect(c.connectionIdleMsMax).toBe(120_000);
  });

  it("refuse zero, garbage, and a buffer smaller than the largest frame", () => {
    for (const [k, v] of [
      ["rpc.request.buffer-bytes-max", "0"],
      ["rpc.request.read-timeout", "0 ms"],
      ["connections.max.idle.ms", "0"],
      ["connections.max.idle.ms", "soon"],
      ["rpc.request.read-timeout", `${2 ** 31} ms`],
    ] as const) {
      const err = refusal({ [k]: v });
      expect(err.is(Errors.INVALID_CONFIG_EXCEPTION)).toBe(true);
      expect(err.message).toContain(k);
    }
    const small = refusal({ "rpc.request.buffer-bytes-max": "64 mb" }); // frame max is 128 MiB
    expect(small.message).toMatch(/rpc.request.buffer-bytes-max.*smaller than 'rpc.frame.max-size'/);
  });
});
