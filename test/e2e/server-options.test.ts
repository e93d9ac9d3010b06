// `fluss local` refuses bad server options before it starts anything: an out-of-range value or a
// flag contradicting a --config pair exits 2 (bad input) with the option's name on stderr.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Exit {
  code: number | null;
  stderr: string;
  /** True when the command was still running after the deadline (it started a cluster). */
  running: boolean;
}

/** Run `fluss local ...`; a command that is still up after `deadlineMs` is stopped and reported. */
function runLocal(args: readonly string[], deadlineMs = 15_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["packages/cli/bin/fluss.ts", "local", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let running = false;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      running = true;
      child.kill("SIGKILL");
    }, deadlineMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, running });
    });
  });
}

describe("fluss local refuses bad server options", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-options-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 naming log.segment.file-size=0", async () => {
    const r = await runLocal(["--data-dir", dir, "--port", "0", "--config", "log.segment.file-size=0"]);
    expect(r.running).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("log.segment.file-size");
    expect(r.stderr).toContain("INVALID_CONFIG_EXCEPTION");
  });

  it("exits 2 when --host contradicts --config bind.host", async () => {
    const r = await runLocal([
      "--data-dir",
      dir,
      "--port",
      "0",
      "--host",
      "127.0.0.2",
      "--config",
      "bind.host=127.0.0.1",
    ]);
    expect(r.running).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--host");
    expect(r.stderr).toContain("bind.host");
  });
});
