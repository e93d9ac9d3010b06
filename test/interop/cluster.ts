// The interop suite's cluster: `fluss local` as a child process on free ports in a fresh temp data
// directory (exactly what a user runs), a TypeScript SDK connection to it, and `run` for the client
// processes a test starts (output captured, bounded by a timeout, never left running).

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { type LocalProcess, startLocalProcess } from "../helpers/process.ts";

export interface InteropCluster {
  readonly bootstrap: string;
  readonly conn: FlussConnection;
  stop(): Promise<void>;
}

export async function startInteropCluster(): Promise<InteropCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), "fluss-interop-"));
  let server: LocalProcess | undefined;
  try {
    server = await startLocalProcess(dataDir);
    const conn = await connect({ bootstrap: server.bootstrap });
    const s = server;
    return {
      bootstrap: s.bootstrap,
      conn,
      async stop() {
        await conn.close();
        s.kill("SIGTERM");
        await s.exited;
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    server?.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a client process to its end (SIGKILL after `timeoutMs`), echoing its output as it comes. */
export function run(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (d: Buffer) => {
      output += d.toString();
      process.stdout.write(d);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => {
      output += `\n[killed after ${opts.timeoutMs} ms]\n`;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
