// Out of file descriptors at accept: an RpcServer in a child process under `ulimit -n 48` is
// flooded with connections until accept(2) fails with EMFILE. The process must neither exit nor
// stall (libuv drops the connections it cannot take, keeping a spare descriptor for that), and it
// serves requests again once the flood's connections are gone.

import { spawn } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(process.platform !== "linux")("RpcServer out of descriptors", () => {
  it("survives EMFILE at accept and serves again once connections close", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "emfile-server.ts");
    const child = spawn("bash", ["-c", `ulimit -n 48 && exec '${process.execPath}' '${fixture}'`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(() => child.kill("SIGKILL"));
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    let ticks = 0;
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        for (const line of d.toString().split("\n")) {
          if (line === "alive") ticks++;
          else if (/^[0-9]+$/.test(line)) resolve(Number(line));
        }
      });
      child.once("exit", () => reject(new Error(`child exited early: ${stderr}`)));
    });
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    for (let i = 0; i < 120; i++) {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      s.on("close", () => closedByServer++);
      sockets.push(s);
    }
    await sleep(500);
    expect(closedByServer).toBeGreaterThan(0); // the ones past the limit were dropped
    const before = ticks;
    await sleep(300);
    expect(ticks).toBeGreaterThan(before); // the event loop still turns
    expect(child.exitCode).toBe(null);
    for (const s of sockets) s.destroy();
    await sleep(200);
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port });
    cleanups.push(() => conn.close());
    expect((await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "db" })).exists).toBe(true);
    expect(child.exitCode).toBe(null);
  });
});
