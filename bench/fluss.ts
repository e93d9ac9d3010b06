// Fluss for the benchmark: start `fluss local` as a SEPARATE process (so the server's CPU is not
// mixed into the benchmark client's event loop, and its RSS can be read from /proc), in a temp
// data dir on a free port, parse the bootstrap address it prints, and connect the TypeScript SDK.
// Also the helpers the workloads share: create a fresh table, append rows from one writer, scan.

import { rmSync } from "node:fs";
import { join } from "node:path";
import type { FlussConnection, Table } from "@fluss-ts/client";
import { ServerProbe } from "./probe.ts";
import {
  type Child,
  makeTempDir,
  onCleanup,
  removeTempDir,
  startChild,
  WaitAborted,
  waitFor,
} from "./proc.ts";

const REPO_ROOT = join(import.meta.dirname, "..");
const FLUSS_BIN = join(REPO_ROOT, "packages", "cli", "bin", "fluss.ts");
const PROBE_MODULE = join(import.meta.dirname, "server-probe.ts");

export interface FlussServer {
  bootstrap: string;
  pid: number;
  dataDir: string;
  child: Child;
  conn: FlussConnection;
  /** Server options it was started with (`--config k=v`). */
  config: Readonly<Record<string, string>>;
  /** The server's event-loop delay and GC pauses, window by window (server-probe.ts). */
  probe: ServerProbe;
  stop(): Promise<void>;
}

/** Start `fluss local --port 0` in a temp dir and connect to it. */
export async function startFluss(config: Readonly<Record<string, string>> = {}): Promise<FlussServer> {
  const dataDir = makeTempDir("fluss");
  // FLUSS_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
  const nodeArgs = (process.env.FLUSS_BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const args = [
    ...nodeArgs,
    "--import",
    PROBE_MODULE,
    FLUSS_BIN,
    "local",
    "--data-dir",
    dataDir,
    "--port",
    "0",
    "--log-level",
    "warn",
  ];
  for (const [k, v] of Object.entries(config)) args.push("--config", `${k}=${v}`);
  const probeFile = `${dataDir}.probe.json`;
  onCleanup(() => rmSync(probeFile, { force: true }));
  // process.execPath is the Node 24 that runs the benchmark (npm puts node_modules/.bin first).
  const child = startChild(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, FLUSS_BENCH_PROBE_FILE: probeFile },
  });
  let bootstrap = "";
  await waitFor(
    "fluss local to print its bootstrap address",
    () => {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
        throw new WaitAborted(
          `fluss local exited (${child.proc.exitCode ?? child.proc.signalCode}):\n${child.output()}`,
        );
      }
      const m = /bootstrap:\s+(\S+)/.exec(child.output());
      if (m) bootstrap = m[1]!;
      return bootstrap !== "";
    },
    60_000,
  ).catch((err: Error) => {
    if (err instanceof WaitAborted) throw err;
    throw new Error(`${err.message}\n--- fluss local output ---\n${child.output()}`);
  });
  // Loaded here, not at the top: if the SDK does not load, the peer rows still run.
  const { connect } = await import("@fluss-ts/client");
  const conn = await connect({ bootstrap });
  await conn.admin.createDatabase("bench", { ignoreIfExists: true });
  return {
    bootstrap,
    pid: child.pid,
    dataDir,
    child,
    conn,
    config,
    probe: new ServerProbe(child.pid, probeFile),
    async stop() {
      await conn.close().catch(() => undefined);
      await child.stop();
      removeTempDir(dataDir);
      rmSync(probeFile, { force: true });
    },
  };
}

/** Create (or re-create) `bench.<name>` (partitioned by `partitionKeys` if any) and return its handle. */
export async function freshTable(
  server: FlussServer,
  name: string,
  schema: string,
  buckets: number,
  options: Readonly<Record<string, string>> = {},
  partitionKeys: readonly string[] = [],
): Promise<Table> {
  const path = `bench.${name}`;
  await server.conn.admin.dropTable(path, { ignoreIfNotExists: true });
  await server.conn.admin.createTable(path, {
    schema,
    buckets,
    options: { ...options },
    ...(partitionKeys.length > 0 ? { partitionKeys } : {}),
  });
  return server.conn.getTable(path);
}

/** Bytes of the Arrow buffers of a record batch (what a scan hands to the application). */
export function arrowBytes(rb: {
  data: {
    children: readonly {
      values?: { byteLength: number };
      valueOffsets?: { byteLength: number };
      nullBitmap?: { byteLength: number };
    }[];
  };
}): number {
  let n = 0;
  for (const c of rb.data.children) {
    n += (c.values?.byteLength ?? 0) + (c.valueOffsets?.byteLength ?? 0) + (c.nullBitmap?.byteLength ?? 0);
  }
  return n;
}

/** Read a table from the earliest to the latest offset; rows and Arrow bytes seen. */
export async function scanAll(
  table: Table,
  columns?: readonly string[],
  onBatch?: () => void,
): Promise<{ rows: number; arrowBytes: number; seconds: number }> {
  let rows = 0;
  let bytes = 0;
  const t0 = performance.now();
  const scanner = table.newLogScanner({ untilLatest: true, ...(columns ? { columns } : {}) });
  for await (const b of scanner.batches()) {
    rows += b.recordBatch.numRows;
    bytes += arrowBytes(b.recordBatch);
    onBatch?.();
  }
  return { rows, arrowBytes: bytes, seconds: (performance.now() - t0) / 1000 };
}
