// The data-directory lock is enforced by the kernel: of several processes racing for one
// directory exactly one wins, every round, including right after the holder was killed with
// SIGKILL (no stale lock to take over, no takeover race); within one process a second cluster on
// the same directory is refused too.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Errors, isFlussError } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyServerOptions, defaultServerConfig } from "../src/config.ts";
import { DataDirLock } from "../src/data-dir-lock.ts";
import { LocalCluster } from "../src/local-cluster.ts";
import { silentLogger } from "../src/logging.ts";

const CONTENDER = join(import.meta.dirname, "fixtures", "lock-contender.ts");
const CONTENDERS = 3;
const RELEASE_ROUNDS = 25;
const KILL_ROUNDS = 5;

class Contender {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  private readonly lines: string[] = [];
  private waiter: ((line: string) => void) | null = null;

  constructor(dir: string) {
    this.child = spawn(process.execPath, [CONTENDER, dir], { stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.child.on("exit", () => resolve()));
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(line);
      } else this.lines.push(line);
    });
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async ask(command: string): Promise<string> {
    this.child.stdin.write(`${command}\n`);
    return this.next();
  }

  async killHard(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited; // reaped: its pid is gone
  }
}

async function startContender(dir: string): Promise<Contender> {
  const c = new Contender(dir);
  expect(await c.next()).toBe("ready");
  return c;
}

/** All contenders try at once; exactly one must win. Returns the winner. */
async function race(contenders: readonly Contender[]): Promise<Contender> {
  const answers = await Promise.all(contenders.map((c) => c.ask("go")));
  const winners = contenders.filter((_, i) => answers[i] === "won");
  expect(answers.filter((a) => a === "won")).toHaveLength(1);
  for (const a of answers) if (a !== "won") expect(a).toMatch(/^lost data directory .* is in use by/);
  return winners[0]!;
}

describe("data directory lock", () => {
  let dir: string;
  let contenders: Contender[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-lock-"));
  });
  afterAll(async () => {
    for (const c of contenders) c.child.kill("SIGKILL");
    await Promise.all(contenders.map((c) => c.exited));
    await rm(dir, { recursive: true, force: true });
  });

  it("lets exactly one of several racing processes win, every round", async () => {
    contenders = await Promise.all(Array.from({ length: CONTENDERS }, () => startContender(dir)));
    for (let round = 0; round < RELEASE_ROUNDS; round++) {
      const winner = await race(contenders);
      expect(await winner.ask("release")).toBe("released");
    }
  });

  it("after kill -9 of the holder, exactly one of the next starters wins", async () => {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const winner = await race(contenders);
      const holder = Number((await readFile(join(dir, ".lock"), "utf8")).trim());
      expect(holder).toBe(winner.child.pid);
      await winner.killHard();
      contenders = [...contenders.filter((c) => c !== winner), await startContender(dir)];
    }
  });

  it("refuses a second lock and a second cluster on the same directory in one process", async () => {
    for (const c of contenders) c.child.kill("SIGKILL");
    await Promise.all(contenders.map((c) => c.exited));
    contenders = [];
    const own = await mkdtemp(join(tmpdir(), "fluss-lock-own-"));
    try {
      const config = applyServerOptions(defaultServerConfig(), {
        "data.dir": own,
        "coordinator.port": "0",
        "tablet-server.port": "0",
      });
      const cluster = await LocalCluster.start({ config, logger: silentLogger });
      try {
        expect(() => DataDirLock.acquire(own)).toThrow(/in use by process/);
        let refused: unknown;
        try {
          await (await LocalCluster.start({ config, logger: silentLogger })).stop();
        } catch (err) {
          refused = err;
        }
        expect(isFlussError(refused) && refused.is(Errors.INVALID_CONFIG_EXCEPTION)).toBe(true);
      } finally {
        await cluster.stop();
      }
      // Stopped: the directory is free again (the lock file stays).
      const again = DataDirLock.acquire(own);
      expect(again.held).toBe(true);
      again.release();
      expect(again.held).toBe(false);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
