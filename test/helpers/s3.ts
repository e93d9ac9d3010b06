// Test helper: a local S3-compatible server — moto's `moto_server` (PyPI `moto[s3]` with flask and
// flask-cors, installed by .ci/run into /opt/fluss-moto) — on a free loopback port, in memory,
// ready once it answers HTTP. Found through FLUSS_MOTO_SERVER, then /opt/fluss-moto/bin, then PATH.
// Where it is missing, `s3SkipReason()` says why and tests skip; with FLUSS_REQUIRE_S3=1 (CI) a
// missing server fails instead. Every server started here is stopped by `stop()` (afterAll).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";

const READY_TIMEOUT_MS = 30_000;
/** Credentials moto accepts (any); set explicitly so no real ones are ever read. */
export const S3_TEST_CREDENTIALS = { accessKeyId: "fluss-test", secretAccessKey: "fluss-test-secret" };

function motoServerPath(): string | null {
  const candidates = [
    process.env.FLUSS_MOTO_SERVER,
    "/opt/fluss-moto/bin/moto_server",
    "/opt/moto/bin/moto_server",
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return execFileSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Why S3 tests cannot run here, or null when they can. Throws when CI requires them. */
export function s3SkipReason(): string | null {
  if (motoServerPath() !== null) return null;
  const reason =
    "no local S3 server: moto_server not found (install: python3 -m venv /opt/fluss-moto && " +
    "/opt/fluss-moto/bin/pip install 'moto[s3]' flask flask-cors; or set FLUSS_MOTO_SERVER)";
  if (process.env.FLUSS_REQUIRE_S3 === "1") throw new Error(`FLUSS_REQUIRE_S3=1 but ${reason}`);
  return reason;
}

let warned = false;
/** True when S3 tests can run; logs the reason once when they cannot. */
export function hasS3(): boolean {
  const reason = s3SkipReason();
  if (reason !== null && !warned) {
    warned = true;
    console.warn(`skipping S3 tests: ${reason}`);
  }
  return reason === null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface S3Server {
  readonly endpoint: string;
  /** A fresh bucket, created on the server. */
  createBucket(): Promise<string>;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  const bin = motoServerPath();
  if (bin === null) throw new Error(s3SkipReason() ?? "no moto_server");
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const early = await Promise.race([
      exited,
      new Promise<"running">((r) => setTimeout(() => r("running"), 200)),
    ]);
    if (early !== "running") throw new Error(`moto_server exited with ${early}: ${stderr}`);
    const ok = await fetch(`${endpoint}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not answer within ${READY_TIMEOUT_MS} ms: ${stderr}`);
    }
  }
  return {
    endpoint,
    async createBucket() {
      const bucket = `fluss-${randomBytes(6).toString("hex")}`;
      const r = await fetch(`${endpoint}/${bucket}`, { method: "PUT" });
      if (!r.ok) throw new Error(`create bucket ${bucket}: HTTP ${r.status}`);
      return bucket;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const done = await Promise.race([
        exited,
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000)),
      ]);
      if (done === "timeout") child.kill("SIGKILL");
    },
  };
}
