// File descriptors under a low limit: `fluss local` runs as a child under `ulimit -n 256` (open
// files counted in /proc/<pid>/fd). A 300-bucket log table with many small segments (thousands of
// segment files) is written and read back whole, primary-key tables up to the budget the server
// logged at start work and one bucket more is refused with a clear error, a flood of connections
// is survived, and the server restarts on the same directory and serves everything — also when a
// lower budget leaves some primary-key buckets offline (they say why; the rest serves).

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type FlussConnection } from "@fluss-ts/client";
import { isFlussError } from "@fluss-ts/common";
import { afterAll, describe, expect, it } from "vitest";

const linux = process.platform === "linux";
const LIMIT = 256;
const BUCKETS = 300;
const ROWS = 12_000;

interface Server {
  readonly child: ChildProcess;
  readonly bootstrap: string;
  readonly tabletAddress: string;
  /** Parsed JSON log lines so far. */
  readonly logs: Array<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
  /** Largest /proc/<pid>/fd count seen by the sampler so far. */
  peakFds(): number;
  stop(): Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** `fluss local` under `ulimit -n <limit>`, logging at info (JSON lines on stderr). */
async function startServer(dataDir: string, limit: number, config: Record<string, string>): Promise<Server> {
  const args = [
    "packages/cli/bin/fluss.ts",
    "local",
    "--data-dir",
    dataDir,
    "--port",
    "0",
    "--log-level",
    "info",
  ];
  for (const [k, v] of Object.entries(config)) args.push("--config", `${k}=${v}`);
  const quoted = args.map((a) => `'${a}'`).join(" ");
  const child = spawn("bash", ["-c", `ulimit -n ${limit} && exec '${process.execPath}' ${quoted}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const logs: Array<Record<string, unknown>> = [];
  let errText = "";
  let pending = "";
  child.stderr!.on("data", (d: Buffer) => {
    pending += d.toString();
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf("\n");
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        errText += `${line}\n`;
      }
    }
  });
  let out = "";
  const started = await new Promise<{ bootstrap: string; tablet: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fluss local did not start: ${errText}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const b = /bootstrap:\s+(\S+)/.exec(out);
      const t = /tablet servers:\s+(\S+)/.exec(out);
      if (b && t) {
        clearTimeout(timer);
        resolve({ bootstrap: b[1]!, tablet: t[1]! });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fluss local exited with ${code}: ${errText}`));
    });
  });
  // Start-up log lines are held until the banner is printed, then written: wait for the budget.
  for (let i = 0; i < 200 && !logs.some((l) => String(l.msg).startsWith("open files:")); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // A server that dies under the test shows up as refused connections: say why it died.
  let stopping = false;
  void exited.then((code) => {
    if (stopping) return;
    const last = logs.filter((l) => Number(l.level) >= 40).slice(-5);
    console.error(`fluss local exited unasked with ${code}: ${errText}${JSON.stringify(last)}`);
  });
  let peak = openFds(child.pid!);
  const sampler = setInterval(() => {
    peak = Math.max(peak, openFds(child.pid!));
  }, 20);
  void exited.then(() => clearInterval(sampler));
  return {
    child,
    bootstrap: started.bootstrap,
    tabletAddress: started.tablet,
    logs,
    exited,
    peakFds: () => peak,
    async stop() {
      stopping = true;
      child.kill("SIGTERM");
      return exited;
    },
  };
}

interface Plan {
  limit: number;
  inUseAtStart: number;
  reserve: number;
  logOpenFilesMax: number;
  kvBucketsMax: number;
  kvBucketOpenFiles: number;
}

function planOf(server: Server): Plan {
  const line = server.logs.find((l) => String(l.msg).startsWith("open files:"));
  expect(line, "the open files budget is logged at start").toBeDefined();
  return line as unknown as Plan;
}

async function readAll(conn: FlussConnection, table: string): Promise<Map<bigint, string>> {
  const t = await conn.getTable(table);
  const rows = new Map<bigint, string>();
  for await (const r of t.newLogScanner({ untilLatest: true }))
    rows.set(r.row.id as bigint, r.row.pad as string);
  return rows;
}

async function errorOf(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isFlussError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a FlussError");
}

/** Open `count` raw connections to `address` (those the server refuses just close). */
async function flood(address: string, count: number): Promise<net.Socket[]> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.slice(address.lastIndexOf(":") + 1)),
  ];
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, host, () => resolve());
          s.on("error", () => resolve());
          s.on("close", () => resolve());
          sockets.push(s);
        }),
    ),
  );
  return sockets;
}

describe.skipIf(!linux)("file descriptors under ulimit -n 256", () => {
  it("serves a 300-bucket log table with thousands of segment files, bounds primary-key buckets, survives a connection flood and restarts", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "fluss-fd-"));
    dirs.push(dataDir);
    const options = { "log.segment.file-size": "2kb" };
    const a = await startServer(dataDir, LIMIT, options);
    const plan = planOf(a);
    expect(plan.limit).toBe(LIMIT);
    expect(plan.kvBucketsMax).toBeGreaterThan(4);
    const budget = (p: Plan) =>
      p.inUseAtStart + p.reserve + p.logOpenFilesMax + p.kvBucketsMax * p.kvBucketOpenFiles;
    expect(budget(plan)).toBeLessThanOrEqual(LIMIT);

    const conn = await connect({ bootstrap: a.bootstrap });
    await conn.admin.createTable("fluss.wide", {
      schema: "id BIGINT NOT NULL, pad STRING",
      buckets: BUCKETS,
      bucketKeys: ["id"],
    });
    const writer = (await conn.getTable("fluss.wide")).newAppendWriter({ batchSizeBytes: 1024, lingerMs: 5 });
    const expected = new Map<bigint, string>();
    for (let i = 0; i < ROWS; i++) {
      const row = { id: BigInt(i), pad: randomBytes(48).toString("hex") };
      expected.set(row.id, row.pad);
      await writer.append(row);
    }
    await writer.close();
    const segmentFiles = (dir: string): number =>
      readdirSync(dir, { recursive: true }).filter((n) => String(n).endsWith(".log")).length;
    const segments = segmentFiles(dataDir);
    expect(segments).toBeGreaterThan(2 * LIMIT); // three files each: several times the limit
    expect(await readAll(conn, "fluss.wide")).toEqual(expected);

    // Primary-key buckets: exactly the budget fits, one more is refused and named.
    await conn.admin.createTable("fluss.kv", {
      schema: "id BIGINT NOT NULL, v STRING, PRIMARY KEY (id)",
      buckets: plan.kvBucketsMax,
    });
    const refused = await errorOf(
      conn.admin.createTable("fluss.kv2", { schema: "id BIGINT NOT NULL, PRIMARY KEY (id)", buckets: 1 }),
    );
    expect(refused.code).toBe(49); // BUCKET_MAX_NUM_EXCEPTION
    expect(refused.message).toContain(`open files limit ${LIMIT}`);
    expect(refused.message).toContain("ulimit -n");
    expect(await conn.admin.tableExists("fluss.kv2")).toBe(false);
    const kv = await conn.getTable("fluss.kv");
    const upserts = kv.newUpsertWriter();
    for (let i = 0; i < 500; i++) await upserts.upsert({ id: BigInt(i), v: `v${i}` });
    await upserts.close();
    const lookuper = kv.newLookuper();
    for (const id of [0n, 17n, 250n, 499n])
      expect(await lookuper.lookup({ id })).toEqual({ id, v: `v${id}` });

    // A flood of connections: refused past the cap (or dropped by the kernel-level EMFILE path);
    // the open connection keeps writing and reading meanwhile, and new ones work after.
    const sockets = await flood(a.tabletAddress, 400);
    const w2 = (await conn.getTable("fluss.wide")).newAppendWriter();
    await w2.append({ id: BigInt(ROWS), pad: "during the flood" });
    await w2.close();
    expected.set(BigInt(ROWS), "during the flood");
    expect(await lookuper.lookup({ id: 3n })).toEqual({ id: 3n, v: "v3" });
    for (const s of sockets) s.destroy();
    expect(a.child.exitCode).toBe(null);
    const fresh = await connect({ bootstrap: a.bootstrap });
    expect((await readAll(fresh, "fluss.wide")).size).toBe(ROWS + 1);
    await fresh.close();
    await conn.close();
    const refusedConnections = a.logs.filter((l) => String(l.msg).startsWith("connection refused")).length;
    expect(refusedConnections).toBeGreaterThan(0);
    expect(a.peakFds()).toBeLessThanOrEqual(budget(plan));
    console.log(
      `fd-limit: ${segments} segment files in ${BUCKETS} buckets; plan ${JSON.stringify(plan)}; peak open files ${a.peakFds()} of ${LIMIT}; ${refusedConnections} of 400 flood connections refused`,
    );
    expect(await a.stop()).toBe(0);

    // Restart on the same directory under the same limit: everything is served again.
    const b = await startServer(dataDir, LIMIT, options);
    const conn2 = await connect({ bootstrap: b.bootstrap });
    expect(await readAll(conn2, "fluss.wide")).toEqual(expected);
    const lookuper2 = (await conn2.getTable("fluss.kv")).newLookuper();
    for (const id of [1n, 444n]) expect(await lookuper2.lookup({ id })).toEqual({ id, v: `v${id}` });
    await conn2.close();
    expect(b.peakFds()).toBeLessThanOrEqual(budget(planOf(b)));
    expect(await b.stop()).toBe(0);

    // A restart whose budget holds fewer primary-key buckets than the directory has: the server
    // starts, the buckets beyond the budget are offline saying why, everything else serves.
    const logFilesMax = planOf(b).logOpenFilesMax + 10 * 3;
    const c = await startServer(dataDir, LIMIT, { ...options, "log.open-files.max": String(logFilesMax) });
    expect(planOf(c).kvBucketsMax).toBeLessThan(plan.kvBucketsMax);
    const offline = c.logs.filter((l) => String(l.msg).includes("is offline"));
    expect(offline.length).toBe(plan.kvBucketsMax - planOf(c).kvBucketsMax);
    const conn3 = await connect({ bootstrap: c.bootstrap });
    expect(await readAll(conn3, "fluss.wide")).toEqual(expected);
    const lookuper3 = (await conn3.getTable("fluss.kv")).newLookuper();
    let served = 0;
    const reasons = new Set<string>();
    for (let i = 0; i < 200; i++) {
      try {
        expect(await lookuper3.lookup({ id: BigInt(i) })).toEqual({ id: BigInt(i), v: `v${i}` });
        served++;
      } catch (err) {
        if (!isFlussError(err)) throw err;
        reasons.add(err.message.includes("open files") ? "open files" : err.message);
      }
    }
    expect(served).toBeGreaterThan(0);
    expect([...reasons]).toEqual(["open files"]);
    await conn3.close();
    expect(c.peakFds()).toBeLessThanOrEqual(budget(planOf(c)));
    console.log(
      `fd-limit: restarts peaked at ${b.peakFds()} and ${c.peakFds()} open files; ${offline.length} primary-key buckets offline, ${served} of 200 lookups served`,
    );
    expect(await c.stop()).toBe(0);
  }, 240_000);
});
