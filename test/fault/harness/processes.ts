// The cluster under test: a real ZooKeeper (helpers/zookeeper.ts), coordinators and tablet servers
// as separate `fluss` processes on loopback, each on a fixed port chosen at start (a restarted
// server comes back at the same address) and each reaching ZooKeeper through its own session proxy
// (zk-proxy.ts) so one process's session can be expired alone. The harness kills (-9), stops
// (SIGTERM), pauses (SIGSTOP) and resumes (SIGCONT) processes and starts them again over their data
// directories.
// An exit the harness did not cause is recorded: a coordinator that lost its election win exits
// by design (it is started again); any other exit (an assertion, a crash) is a failure of the run
// and keeps its stderr. With a log directory each process logs at info and its whole stderr is
// appended to <dir>/<role>-<id>.log too (kept after the run, for a failure's story).
// Invariants: each process's stderr is kept bounded in memory (its last STDERR_KEEP_BYTES);
// `close()` ends every process this harness started, by pid.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { ZooKeeperServer } from "../../helpers/zookeeper.ts";
import { ZkSessionProxy } from "./zk-proxy.ts";

const FLUSS = "packages/cli/bin/fluss.ts";
const STDERR_KEEP_BYTES = 64 * 1024;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export type RoleKind = "coordinator" | "tablet-server";

export interface UnexpectedExit {
  readonly role: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One server role: its identity, address and data survive restarts; its process does not. */
export class Role {
  readonly kind: RoleKind;
  readonly id: number;
  readonly port: number;
  readonly dir: string;
  readonly proxy: ZkSessionProxy;
  private readonly config: Readonly<Record<string, string>>;
  private readonly logFile: WriteStream | null;
  private readonly onUnexpectedExit: (e: UnexpectedExit) => void;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private expectExit = false;
  private stderrTail = "";
  paused = false;

  constructor(o: {
    kind: RoleKind;
    id: number;
    port: number;
    dir: string;
    proxy: ZkSessionProxy;
    config: Record<string, string>;
    logFile: string | null;
    onUnexpectedExit: (e: UnexpectedExit) => void;
  }) {
    this.kind = o.kind;
    this.id = o.id;
    this.port = o.port;
    this.dir = o.dir;
    this.proxy = o.proxy;
    this.config = o.config;
    this.logFile = o.logFile === null ? null : createWriteStream(o.logFile, { flags: "a" });
    this.onUnexpectedExit = o.onUnexpectedExit;
  }

  get name(): string {
    return this.kind === "coordinator" ? `coordinator-${this.id}` : `tablet-${this.id}`;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get up(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private args(): string[] {
    const args = this.kind === "coordinator" ? ["coordinator"] : ["tablet-server", "--id", String(this.id)];
    args.push("--data-dir", this.dir, "--bind-listeners", `FLUSS://127.0.0.1:${this.port}`);
    const level = this.logFile === null ? "warn" : "info";
    args.push("--zookeeper-address", this.proxy.address, "--log-level", level);
    for (const [k, v] of Object.entries(this.config)) args.push("-c", `${k}=${v}`);
    return args;
  }

  /** Start the process; resolves once it printed its address (ready), rejects if it exits first. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error(`${this.name} is already running`);
    await mkdir(this.dir, { recursive: true });
    const child = spawn(process.execPath, [FLUSS, ...this.args()], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.paused = false;
    this.expectExit = false;
    child.stderr!.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-STDERR_KEEP_BYTES);
      this.logFile?.write(d);
    });
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        if (this.child === child) this.child = null;
        if (!this.expectExit) this.reportExit(code, signal);
        resolve();
      }),
    );
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${this.name} did not start within ${READY_TIMEOUT_MS} ms: ${this.stderrTail}`));
      }, READY_TIMEOUT_MS);
      child.stdout!.on("data", (d: Buffer) => {
        if (out.length < 4096) out += d.toString();
        if (/address:\s+\S+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited while starting: ${this.stderrTail}`));
      });
    });
  }

  private reportExit(code: number | null, signal: string | null): void {
    // A coordinator that lost its election win ends itself; the harness starts it again.
    const lostWin =
      this.kind === "coordinator" && this.stderrTail.includes("no longer the active coordinator");
    if (lostWin && code === 1) return;
    this.onUnexpectedExit({ role: this.name, code, signal, stderr: this.stderrTail.slice(-8192) });
  }

  /** kill -9; resolves once it exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.expectExit = true;
    child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (a clean stop: a tablet server moves its leadership away first); -9 after STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.expectExit = true;
    if (this.paused) this.resume();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (this.child === null || this.paused) return;
    this.child.kill("SIGSTOP");
    this.paused = true;
  }

  resume(): void {
    if (this.child === null || !this.paused) return;
    this.child.kill("SIGCONT");
    this.paused = false;
  }

  /** Close the log file (after the process ended). */
  async closeLog(): Promise<void> {
    const f = this.logFile;
    if (f !== null) await new Promise<void>((resolve) => f.end(resolve));
  }

  /** Wait for the process to end on its own (a coordinator giving up its win). */
  waitExit(): Promise<void> {
    return this.exited;
  }
}

export interface FaultClusterOptions {
  readonly dir: string;
  readonly tabletServers: number;
  readonly coordinators: number;
  /** Options every server gets (`-c key=value`). */
  readonly config: Record<string, string>;
  /** A directory to append each process's whole stderr to (logged at info), or null (warn, kept bounded in memory). */
  readonly logDir: string | null;
}

export class FaultCluster {
  readonly zk: ZooKeeperServer;
  readonly coordinators: Role[];
  readonly tablets: Role[];
  readonly unexpectedExits: UnexpectedExit[];

  private constructor(zk: ZooKeeperServer, coordinators: Role[], tablets: Role[], exits: UnexpectedExit[]) {
    this.zk = zk;
    this.coordinators = coordinators;
    this.tablets = tablets;
    this.unexpectedExits = exits;
  }

  static async start(o: FaultClusterOptions): Promise<FaultCluster> {
    if (o.logDir !== null) await mkdir(o.logDir, { recursive: true });
    const zk = await ZooKeeperServer.start();
    const exits: UnexpectedExit[] = [];
    const role = async (kind: RoleKind, id: number): Promise<Role> =>
      new Role({
        kind,
        id,
        port: await freePort(),
        dir: join(o.dir, kind === "coordinator" ? `c${id}` : `ts-${id}`),
        proxy: await ZkSessionProxy.start(zk.address),
        config: o.config,
        logFile: o.logDir === null ? null : join(o.logDir, `${kind}-${id}.log`),
        onUnexpectedExit: (e) => exits.push(e),
      });
    const coordinators: Role[] = [];
    const tablets: Role[] = [];
    for (let i = 0; i < o.coordinators; i++) coordinators.push(await role("coordinator", i));
    for (let i = 0; i < o.tabletServers; i++) tablets.push(await role("tablet-server", i));
    const cluster = new FaultCluster(zk, coordinators, tablets, exits);
    try {
      for (const c of coordinators) await c.start();
      await Promise.all(tablets.map((t) => t.start()));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** Every address a client may bootstrap from (tablet servers answer metadata too). */
  get bootstrap(): string[] {
    return [...this.coordinators, ...this.tablets].map((r) => r.address);
  }

  get roles(): Role[] {
    return [...this.coordinators, ...this.tablets];
  }

  /** Resume what is paused, start what is down (coordinators that lost their win included). */
  async heal(): Promise<void> {
    for (const r of this.roles) {
      r.proxy.heal();
      r.resume();
    }
    await Promise.all(this.roles.filter((r) => !r.up).map((r) => r.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.roles.map((r) => r.stop().catch(() => undefined)));
    for (const r of this.roles) await r.proxy.close();
    for (const r of this.roles) await r.closeLog();
    await this.zk.stop();
  }
}
