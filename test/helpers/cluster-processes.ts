// Test helper: a cluster of separate processes — `fluss coordinator` and `fluss tablet-server`
// children on free ports (port 0), each with its own data directory, tablet servers given the
// coordinator's address (no ZooKeeper). Each role is ready once it printed its address; `kill`
// sends a signal to that one child (by its pid) and resolves when it exited.

import { type ChildProcess, spawn } from "node:child_process";

export interface RoleProcess {
  readonly address: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** stderr so far (logs at warn, stop messages). */
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const FLUSS = "packages/cli/bin/fluss.ts";

function spawnRole(args: readonly string[], readyMs: number): Promise<RoleProcess> {
  const child = spawn(process.execPath, [FLUSS, ...args, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise<RoleProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`fluss ${args[0]} did not start in ${readyMs} ms: ${err}`));
    }, readyMs);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /address:\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          address: m[1]!,
          child,
          exited,
          stderr: () => err,
          kill: (signal = "SIGTERM") => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fluss ${args[0]} exited with ${code} before starting: ${err}`));
    });
  });
}

/** `fluss coordinator` over `dataDir`, on `port` (0: a free one). */
export function startCoordinatorProcess(
  dataDir: string,
  port = 0,
  extra: readonly string[] = [],
): Promise<RoleProcess> {
  return spawnRole(
    ["coordinator", "--data-dir", dataDir, "--bind-listeners", `FLUSS://127.0.0.1:${port}`, ...extra],
    30_000,
  );
}

/** `fluss tablet-server --id <id>` on a free port over `dataDir`, joining `coordinator`. */
export function startTabletServerProcess(
  id: number,
  dataDir: string,
  coordinator: string,
  extra: readonly string[] = [],
): Promise<RoleProcess> {
  return spawnTabletServer(id, dataDir, ["--coordinator-address", coordinator, ...extra]);
}

/** `fluss tablet-server --id <id>` on a free port over `dataDir`, joining through ZooKeeper. */
export function startZkTabletServerProcess(
  id: number,
  dataDir: string,
  zookeeper: string,
  extra: readonly string[] = [],
): Promise<RoleProcess> {
  return spawnTabletServer(id, dataDir, ["--zookeeper-address", zookeeper, ...extra]);
}

function spawnTabletServer(id: number, dataDir: string, rest: readonly string[]): Promise<RoleProcess> {
  const args = ["tablet-server", "--id", String(id), "--data-dir", dataDir];
  return spawnRole([...args, "--bind-listeners", "FLUSS://127.0.0.1:0", ...rest], 60_000);
}
