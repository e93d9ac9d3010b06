// Test helper: `fluss local` as a child process (for kill -9 tests), on free ports, waiting until
// it prints its bootstrap address.

import { type ChildProcess, spawn } from "node:child_process";

export interface LocalProcess {
  bootstrap: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

export async function startLocalProcess(dataDir: string, extraArgs: string[] = []): Promise<LocalProcess> {
  const child = spawn(
    process.execPath,
    [
      "packages/cli/bin/fluss.ts",
      "local",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--log-level",
      "warn",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fluss local did not start in 20 s: ${err}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /bootstrap:\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fluss local exited with ${code}: ${err}`));
    });
  });
  return { bootstrap, child, exited, kill: (s) => child.kill(s) };
}
