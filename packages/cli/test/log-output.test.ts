// log-output.ts in a child process whose stderr is a socket the parent reads late: Node makes fd 2
// non-blocking once `process.stderr` is touched, so a full socket answers writes with EAGAIN. Every
// log line must still arrive whole and in order (held start-up lines released at once, then lines
// written through), and the child must exit 0 — a log burst never crashes the server.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const modulePath = fileURLToPath(new URL("../src/log-output.ts", import.meta.url));
const HELD = 4_000;
const THROUGH = 4_000;
const pad = "x".repeat(200);

const childScript = `
import { readFileSync } from "node:fs";
const { logDestination } = await import(${JSON.stringify(modulePath)});
void process.stderr; // as any code may: fd 2 becomes non-blocking
const flags = /flags:\\s+(\\d+)/.exec(readFileSync("/proc/self/fdinfo/2", "utf8"))[1];
process.stdout.write("nonblocking " + ((parseInt(flags, 8) & 0o4000) !== 0) + "\\n");
const logs = logDestination(undefined);
const line = (i) => new Promise((resolve, reject) =>
  logs.stream.write(JSON.stringify({ i, pad: ${JSON.stringify(pad)} }) + "\\n", (err) => (err ? reject(err) : resolve())));
for (let i = 0; i < ${HELD}; i++) await line(i);
logs.release();
for (let i = ${HELD}; i < ${HELD + THROUGH}; i++) await line(i);
process.stdout.write("done\\n");
`;

describe.skipIf(process.platform !== "linux")("log destination on a full non-blocking stderr", () => {
  it("waits for room instead of failing with EAGAIN: every line arrives, in order, and the process exits 0", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", childScript], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const chunks: Buffer[] = [];
    child.stderr.pause();
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // Read nothing until the socket has long been full, then everything.
    await new Promise((r) => setTimeout(r, 1_000));
    child.stderr.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.resume();
    const code = await exited;
    const text = Buffer.concat(chunks).toString();
    expect(out).toContain("nonblocking true"); // the case under test really happened
    expect(code, text.slice(-500)).toBe(0);
    expect(out).toContain("done");
    const lines = text.split("\n").filter((l) => l.length > 0);
    expect(lines.length).toBe(HELD + THROUGH);
    lines.forEach((l, i) => {
      expect(JSON.parse(l)).toEqual({ i, pad });
    });
  });
});
