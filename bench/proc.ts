// Process plumbing for the benchmark: free loopback ports, temp dirs, child servers, and one
// cleanup registry that stops every child and removes every temp dir on normal exit, on an error
// and on Ctrl-C / SIGTERM. Also: a server's RSS from /proc, a directory's size, and waiting.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

type Cleanup = () => Promise<void> | void;

const cleanups: Cleanup[] = [];
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let cleaning: Promise<void> | undefined;

/** Register work to undo at the end (run last-registered first). */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

/** Stop everything this benchmark started; safe to call more than once. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`cleanup: ${(err as Error).message}\n`);
      }
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

/** Install the exit / signal hooks once. */
export function installCleanupHooks(): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping the servers started by the benchmark...\n`);
    const hard = setTimeout(() => process.exit(130), 10_000);
    hard.unref();
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // Last resort, synchronous: no child and no temp dir outlives the benchmark.
  process.on("exit", () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

export function makeTempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `fluss-bench-${prefix}-`));
  tempDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Full path of an executable on PATH (plus the sbin dirs Debian puts servers in), or null. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far (bounded). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Start a server process whose lifetime the cleanup registry owns. */
export function startChild(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Child {
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  let out = "";
  const keep = (chunk: Buffer): void => {
    out += chunk.toString("utf8");
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => {
      children.delete(proc);
      resolve(code);
    });
    proc.once("error", (err) => {
      keep(Buffer.from(`spawn error: ${err.message}\n`));
      children.delete(proc);
      resolve(-1);
    });
  });
  const child: Child = {
    proc,
    pid: proc.pid ?? -1,
    output: () => out,
    exited,
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  onCleanup(() => child.stop());
  return child;
}

/** Thrown by a `waitFor` check to stop waiting at once (e.g. the server process exited). */
export class WaitAborted extends Error {}

/**
 * Poll `check` until it returns true (or throw after `timeoutMs`). A check that throws means "not
 * ready yet", except for WaitAborted, which ends the wait with that error.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size of a process in bytes (VmRSS from /proc), or null once it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Total size of the regular files under a directory. */
export function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += statSync(p).size;
    }
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] = utime, fields[12] = stime (in clock ticks; 100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
