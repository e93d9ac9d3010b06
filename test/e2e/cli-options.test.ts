// The `fluss` command's global options and help: --version, --timeout against a server that never
// answers, FLUSS_BOOTSTRAP / FLUSS_TIMEOUT_MS from the environment, defaults and environment
// variables in --help; and `fluss local`'s output: its banner before any log line, warn by default,
// --log-level and --log-file.

import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("fluss global options", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("prints its version", async () => {
    const pkg = JSON.parse(readFileSync("packages/cli/package.json", "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it("shows defaults and environment variables in --help", async () => {
    const top = await runCli(["--help"]);
    expect(top.stdout).toMatch(
      /--bootstrap <host:port>\s+server to connect to \(default:\s+"localhost:9123",\s+env:\s+FLUSS_BOOTSTRAP\)/,
    );
    expect(top.stdout).toMatch(/--timeout <ms>[\s\S]*\(default:\s+30000,\s+env:\s+FLUSS_TIMEOUT_MS\)/);
    for (const v of ["FLUSS_BOOTSTRAP", "FLUSS_TIMEOUT_MS", "FLUSS_DATA_DIR", "FLUSS_DEBUG"]) {
      expect(top.stdout).toContain(`\n  ${v} `);
    }
    const consume = await runCli(["consume", "--help"]);
    expect(consume.stdout).toMatch(/--from <position>[\s\S]*\(default:\s+"earliest"\)/);
    expect(consume.stdout).toMatch(/--format <format>[\s\S]*\(default:\s+"json"\)/);
    expect(consume.stdout).toMatch(/--save-interval-ms <ms>[\s\S]*\(default:\s+1000\)/);
    const local = await runCli(["local", "--help"]);
    expect(local.stdout).toMatch(/--log-level <level>[\s\S]*\(default:\s+warn\)/);
    expect(local.stdout).toMatch(/--port <port>[\s\S]*\(default:\s+9123\)/);
    const produce = await runCli(["produce", "--help"]);
    expect(produce.stdout).toMatch(/--linger-ms <ms>[\s\S]*\(default:\s+100\)/);
  });

  it("takes the bootstrap and the timeout from the environment", async () => {
    const r = await runCli(["db", "list"], "", { FLUSS_BOOTSTRAP: tc.bootstrap });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toContain("fluss");
    const bad = await runCli(["db", "list"], "", { FLUSS_BOOTSTRAP: tc.bootstrap, FLUSS_TIMEOUT_MS: "soon" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be an integer, got 'soon'/);
  });

  it("fails a request the server never answers after --timeout", async () => {
    // A server that accepts connections and reads, but never answers.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => {
      sockets.push(s);
      s.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const args of [["--timeout", "400"], []]) {
        const env: Record<string, string> = args.length === 0 ? { FLUSS_TIMEOUT_MS: "300" } : {};
        const r = await runCli(["--bootstrap", `127.0.0.1:${port}`, ...args, "db", "list"], "", env);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(`timed out after ${args.length === 0 ? 300 : 400} ms \\[REQUEST_TIME_OUT\\]`),
        );
        expect(r.stderr.trim().split("\n").length).toBe(1);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

/** Run `fluss local` with stdout and stderr into one file, until it printed its banner; then stop it. */
async function localOutput(dataDir: string, extra: readonly string[]): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const outFile = join(dataDir, "out.txt");
  const fd = openSync(outFile, "w");
  const child = spawn(
    process.execPath,
    ["packages/cli/bin/fluss.ts", "local", "--data-dir", join(dataDir, "data"), "--port", "0", ...extra],
    { stdio: ["ignore", fd, fd] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!(await readFile(outFile, "utf8")).includes("Press Ctrl-C")) {
    if (Date.now() > deadline) throw new Error(`no banner: ${await readFile(outFile, "utf8")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  return readFile(outFile, "utf8");
}

describe("fluss local output", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-local-out-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints its banner before its log lines", async () => {
    const out = await localOutput(join(dir, "a"), ["--log-level", "info"]);
    const lines = out.split("\n");
    expect(lines[0]).toBe("fluss local is running");
    const bannerEnd = lines.indexOf("Press Ctrl-C to stop.");
    const firstLog = lines.findIndex((l) => l.startsWith("{"));
    expect(bannerEnd).toBeGreaterThan(0);
    expect(firstLog).toBeGreaterThan(bannerEnd);
    // Start-up lines logged at info are all there, after the banner.
    expect(out).toMatch(/"msg":"open files: limit/);
    expect(out).toMatch(/"msg":"coordinator listening"/);
  });

  it("logs at warn by default, or to a file", async () => {
    const quiet = await localOutput(join(dir, "b"), []);
    expect(quiet.split("\n").filter((l) => l.startsWith("{"))).toEqual([]);
    expect(quiet).toMatch(/stopped cleanly/);
    const logFile = join(dir, "c.log");
    const withFile = await localOutput(join(dir, "c"), ["--log-level", "info", "--log-file", logFile]);
    expect(withFile).toContain(`  logs:           ${logFile}`);
    expect(withFile.split("\n").filter((l) => l.startsWith("{"))).toEqual([]);
    const logged = await readFile(logFile, "utf8");
    expect(logged).toMatch(/"msg":"coordinator listening"/);
    expect(logged).toMatch(/"msg":"rpc server closed"/); // written up to the stop
  });
});
