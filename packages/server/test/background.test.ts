// Background task failures: expected ones are logged and survived, broken invariants crash.

import { AssertionError, Errors, FlussError } from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import type { Logger } from "../src/logging.ts";
import { backgroundFailure } from "../src/util/background.ts";

function recordingLogger(lines: string[]): Logger {
  const at =
    (level: string) =>
    (a: object | string, b?: string): void => {
      lines.push(`${level}: ${typeof a === "string" ? a : (b ?? "")}`);
    };
  const logger: Logger = {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: () => logger,
  };
  return logger;
}

describe("backgroundFailure", () => {
  it("logs an expected failure at error and does not crash", () => {
    const lines: string[] = [];
    const crashed: unknown[] = [];
    backgroundFailure(recordingLogger(lines), "log retention", (e) => crashed.push(e))(
      new FlussError(Errors.LOG_STORAGE_EXCEPTION, "disk gone"),
    );
    expect(lines).toEqual(["error: log retention failed"]);
    expect(crashed).toEqual([]);
  });

  it("crashes on a failed assertion after logging it at fatal", () => {
    const lines: string[] = [];
    const crashed: unknown[] = [];
    const broken = new AssertionError("segments are contiguous");
    backgroundFailure(recordingLogger(lines), "kv snapshot", (e) => crashed.push(e))(broken);
    expect(lines).toEqual(["fatal: kv snapshot: invariant broken"]);
    expect(crashed).toEqual([broken]);
  });
});
