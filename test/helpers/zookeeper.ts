// Test helper: a real ZooKeeper server (Debian package `zookeeper`, standalone) on a free loopback
// port with a temporary data directory, started as `java ... QuorumPeerMain zoo.cfg` and ready
// once the `ruok` four-letter word answers `imok`. It can be stopped, killed (-9), paused
// (SIGSTOP) and resumed, and restarted on the same port and data (sessions survive a restart
// shorter than their timeout). `expireSession` ends a client's session on the server the way
// Curator's test kit does: a second client attaches to the same session id and password (the
// server drops the first client's connection) and closes it, so the server expires the session
// and the first client learns it at its next reconnect. That races with the first client
// reconnecting, so tests connect through a `ZooKeeperProxy` (a TCP proxy on loopback) whose
// `expireSession` first cuts the client off, and which can also freeze traffic both ways (a
// network partition: connections stay open, nothing gets through) and heal.
// Where the package is missing, `zooKeeperSkipReason()` says why and tests skip; with
// FLUSS_REQUIRE_ZOOKEEPER=1 (CI) a missing package fails instead.
// Invariant: every server started here is stopped by `stop()` (tests call it in afterAll) and its
// directory removed; a server process that exits unexpectedly is reported with its output.

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zookeeper from "node-zookeeper-client";

const JARS = [
  "/usr/share/java/zookeeper.jar",
  "/usr/share/java/zookeeper-jute.jar",
  "/usr/share/java/slf4j-api.jar",
  "/usr/share/java/slf4j-log4j12.jar",
  "/usr/share/java/log4j-1.2.jar",
];
const CONF_DIR = "/etc/zookeeper/conf";
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
/** ZooKeeper's tick: sessions are checked for expiry at this granularity. */
const TICK_MS = 250;

/** Why ZooKeeper tests cannot run here, or null when they can. Throws when CI requires them. */
export function zooKeeperSkipReason(): string | null {
  const missing = [...JARS, "/usr/bin/java"].filter((f) => !fs.existsSync(f));
  if (missing.length === 0) return null;
  const reason =
    `ZooKeeper is not installed (missing ${missing.join(", ")}); install the Debian package ` +
    "`zookeeper` (apt-get install -y zookeeper) to run these tests";
  if (process.env.FLUSS_REQUIRE_ZOOKEEPER === "1") {
    throw new Error(`FLUSS_REQUIRE_ZOOKEEPER=1 but ${reason}`);
  }
  return reason;
}

/** True when ZooKeeper tests can run; logs the reason once when they cannot. */
export function hasZooKeeper(): boolean {
  const reason = zooKeeperSkipReason();
  if (reason !== null && !warned) {
    warned = true;
    console.warn(`skipping ZooKeeper tests: ${reason}`);
  }
  return reason === null;
}
let warned = false;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Send a four-letter word; resolves with the answer ("" when the server does not answer). */
export function fourLetterWord(port: number, word: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (): void => {
      socket.destroy();
      resolve(out);
    };
    socket.setTimeout(timeoutMs, done);
    socket.on("connect", () => socket.write(word));
    socket.on("data", (d: Buffer) => {
      out += d.toString();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}

export class ZooKeeperServer {
  readonly port: number;
  readonly dir: string;
  private child: ChildProcess | null = null;
  private output = "";
  private exited: Promise<void> = Promise.resolve();

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** `host:port` for clients. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Start a fresh server (new data directory, free port). */
  static async start(): Promise<ZooKeeperServer> {
    const reason = zooKeeperSkipReason();
    if (reason !== null) throw new Error(reason);
    const dir = await mkdtemp(join(tmpdir(), "fluss-zk-"));
    for (let attempt = 1; ; attempt++) {
      const server = new ZooKeeperServer(await freePort(), dir);
      try {
        await server.launch();
        return server;
      } catch (err) {
        await server.stop(false);
        if (attempt >= 3) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  private async launch(): Promise<void> {
    const cfg = join(this.dir, "zoo.cfg");
    await writeFile(
      cfg,
      [
        `tickTime=${TICK_MS}`,
        `dataDir=${join(this.dir, "data")}`,
        `clientPort=${this.port}`,
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        "4lw.commands.whitelist=ruok,srvr,stat,mntr,cons,dump",
        "minSessionTimeout=1000",
        "maxSessionTimeout=120000",
        "maxClientCnxns=0",
        "",
      ].join("\n"),
    );
    this.output = "";
    const child = spawn(
      "java",
      [
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.root.logger=WARN,CONSOLE",
        "-Dzookeeper.console.threshold=WARN",
        "-cp",
        [CONF_DIR, ...JARS].join(":"),
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        cfg,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`ZooKeeper exited at start (${child.exitCode ?? child.signalCode}): ${this.output}`);
      }
      if ((await fourLetterWord(this.port, "ruok", 500)) === "imok") return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ZooKeeper did not answer ruok within ${READY_TIMEOUT_MS} ms: ${this.output}`);
  }

  /** The server's recent console output (warnings and errors), for failure messages. */
  get log(): string {
    return this.output;
  }

  /** Stop the server (SIGTERM, then SIGKILL); `removeData` also deletes its directory. */
  async stop(removeData = true): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    if (removeData) await rm(this.dir, { recursive: true, force: true });
  }

  /** kill -9 the server; its data stays for `restart()`. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null) return;
    child.kill("SIGKILL");
    await this.exited;
  }

  /** Start again on the same port and data directory (after `kill()` or `stop(false)`). */
  async restart(): Promise<void> {
    if (this.child !== null) await this.kill();
    await this.launch();
  }

  /** Freeze (SIGSTOP) / thaw (SIGCONT) the server process. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /**
   * Expire a client session on the server: attach a second client to the same session (which
   * takes the session's connection over) and close it. Resolves once the server has closed it.
   */
  async expireSession(sessionId: Buffer, sessionPassword: Buffer, timeoutMs = 10_000): Promise<void> {
    await expireSession(this.address, sessionId, sessionPassword, timeoutMs);
  }
}

/** Whether ZooKeeper's session tracker (four-letter word `dump`) still holds a session. */
export async function sessionAlive(port: number, sessionId: Buffer): Promise<boolean> {
  const sid = `0x${sessionId.readBigUInt64BE(0).toString(16)}`;
  const dump = await fourLetterWord(port, "dump");
  const tracked = dump.slice(0, Math.max(0, dump.indexOf("ephemeral nodes dump")));
  return tracked.split(/\s+/).includes(sid);
}

/**
 * See ZooKeeperServer.expireSession; usable with any server address. The session's own client
 * may reconnect and take the session back before our close reaches the server, so this repeats
 * until the server's session tracker no longer holds it.
 */
export async function expireSession(
  address: string,
  sessionId: Buffer,
  sessionPassword: Buffer,
  timeoutMs = 10_000,
): Promise<void> {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  const deadline = Date.now() + timeoutMs;
  while (await sessionAlive(port, sessionId)) {
    if (Date.now() > deadline)
      throw new Error(`session ${sessionId.toString("hex")} still alive after ${timeoutMs} ms`);
    await attachAndClose(address, sessionId, sessionPassword, timeoutMs);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function attachAndClose(
  address: string,
  sessionId: Buffer,
  sessionPassword: Buffer,
  timeoutMs: number,
): Promise<void> {
  const client = zookeeper.createClient(address, {
    sessionTimeout: 30_000,
    spinDelay: 100,
    retries: 0,
    ...({ sessionId, sessionPassword } as object),
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`could not attach to session ${sessionId.toString("hex")} in ${timeoutMs} ms`));
    }, timeoutMs);
    client.once("connected", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("expired", () => {
      clearTimeout(timer);
      client.close();
      resolve(); // already gone
    });
    client.connect();
  });
  await new Promise<void>((resolve) => {
    client.once("disconnected", () => resolve());
    client.close();
    setTimeout(resolve, timeoutMs).unref();
  });
}

/**
 * A TCP proxy in front of a ZooKeeper server, for faults between one set of clients and the
 * server: `cut` closes every connection and refuses new ones, `freeze` holds all traffic (open
 * connections, nothing delivered: a partition), `heal` lets everything through again.
 */
export class ZooKeeperProxy {
  readonly port: number;
  private readonly server: net.Server;
  private readonly target: ZooKeeperServer;
  private mode: "open" | "cut" | "frozen" = "open";
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  private constructor(server: net.Server, port: number, target: ZooKeeperServer) {
    this.server = server;
    this.port = port;
    this.target = target;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(target: ZooKeeperServer): Promise<ZooKeeperProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const proxy = new ZooKeeperProxy(server, (server.address() as net.AddressInfo).port, target);
    server.on("connection", (client) => proxy.accept(client));
    return proxy;
  }

  private accept(client: net.Socket): void {
    if (this.mode === "cut") {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port: this.target.port });
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.mode === "frozen") this.hold(pair);
  }

  private hold(pair: { client: net.Socket; upstream: net.Socket }): void {
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
  }

  /** Close every connection and refuse new ones until `heal`. */
  cut(): void {
    this.mode = "cut";
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Hold all traffic both ways (connections stay open) until `heal`. */
  freeze(): void {
    this.mode = "frozen";
    for (const p of this.pairs) this.hold(p);
  }

  heal(): void {
    const wasFrozen = this.mode === "frozen";
    this.mode = "open";
    if (!wasFrozen) return;
    for (const p of this.pairs) {
      p.client.pipe(p.upstream);
      p.upstream.pipe(p.client);
    }
  }

  /** Expire a session of a client connected through this proxy, without a race. */
  async expireSession(sessionId: Buffer, sessionPassword: Buffer, timeoutMs = 10_000): Promise<void> {
    const wasFrozen = this.mode === "frozen";
    this.cut();
    try {
      await expireSession(this.target.address, sessionId, sessionPassword, timeoutMs);
    } finally {
      if (wasFrozen) this.freeze();
      else this.heal();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
