// Loopback throughput of the RPC layer: a tiny request (DatabaseExists) with N in flight on one
// connection, and 1 MiB ProduceLog requests (client -> server) and 1 MiB FetchLog responses
// (server -> client). The server runs in a worker thread (its own core) unless --same-thread;
// each line also shows the CPU time per request (user + system, `process.threadCpuUsage`) of the
// client thread and, in a worker, of the server thread: where encoding and copying costs show,
// and steadier than throughput on a busy machine.
// Run: npx node packages/rpc/bench/loopback.ts [--same-thread] [--seconds=3] [--only=exists,produce,fetch]

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { ApiKeys, RpcConnection, RpcServer } from "../src/index.ts";

const recordsBytes = 1024 * 1024;

async function startServer(): Promise<RpcServer> {
  const server = new RpcServer({ host: "127.0.0.1", port: 0, requestsInFlightMax: 1024 });
  const records = new Uint8Array(recordsBytes).fill(7);
  let offset = 0n;
  server.handle(ApiKeys.DATABASE_EXISTS, (req) => ({ exists: req.databaseName.length > 0 }));
  server.handle(ApiKeys.PRODUCE_LOG, (req) => ({
    bucketsResp: req.bucketsReq.map((b) => {
      const baseOffset = offset;
      offset += BigInt(b.records.byteLength);
      return { bucketId: b.bucketId, baseOffset };
    }),
  }));
  server.handle(ApiKeys.FETCH_LOG, (req) => ({
    tablesResp: req.tablesReq.map((t) => ({
      tableId: t.tableId,
      bucketsResp: t.bucketsReq.map((b) => ({ bucketId: b.bucketId, highWatermark: 0n, records })),
    })),
  }));
  await server.listen();
  return server;
}

/** Requests done and their rate per second. */
async function closedLoop(
  inFlight: number,
  seconds: number,
  once: () => Promise<void>,
): Promise<{ done: number; rate: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await once();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, loop));
  return { done, rate: done / ((performance.now() - start) / 1000) };
}

/** CPU microseconds used so far by the client thread, and by the server's when it has its own. */
type CpuProbe = () => Promise<{ client: number; server: number | undefined }>;

function threadCpuUs(): number {
  const u = process.threadCpuUsage();
  return u.user + u.system;
}

/** Run `once` in a closed loop and print one line: rate, MiB/s when `bytes` > 0, CPU µs per request. */
async function measure(
  label: string,
  n: number,
  seconds: number,
  bytes: number,
  probe: CpuProbe,
  once: () => Promise<void>,
): Promise<void> {
  const before = await probe();
  const { done, rate } = await closedLoop(n, seconds, once);
  const after = await probe();
  const usPer = (a: number, b: number): string => `${Math.round((b - a) / done)} µs`;
  const cpu = [`client ${usPer(before.client, after.client)}`];
  if (before.server !== undefined && after.server !== undefined) {
    cpu.push(`server ${usPer(before.server, after.server)}`);
  }
  const volume = bytes > 0 ? ` = ${((rate * bytes) / 2 ** 20).toFixed(0)} MiB/s` : "";
  const shown = bytes > 0 ? rate.toFixed(0) : Math.round(rate).toLocaleString("en");
  const head = `${label} in-flight ${String(n).padStart(3)}: ${shown} req/s${volume}`;
  console.log(`${head}  (CPU per request: ${cpu.join(", ")})`);
}

async function runClient(port: number, seconds: number, only: Set<string>, probe: CpuProbe): Promise<void> {
  const conn = await RpcConnection.connect({ host: "127.0.0.1", port });
  const exists = async (): Promise<void> => {
    await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "bench" });
  };
  const records = new Uint8Array(recordsBytes).fill(3);
  const produce = async (): Promise<void> => {
    await conn.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: 1n,
      timeoutMs: 30_000,
      bucketsReq: [{ bucketId: 0, records }],
    });
  };
  const fetch = async (): Promise<void> => {
    await conn.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: recordsBytes * 2,
      tablesReq: [
        {
          tableId: 1n,
          projectionPushdownEnabled: false,
          bucketsReq: [{ bucketId: 0, fetchOffset: 0n, maxFetchBytes: recordsBytes * 2 }],
        },
      ],
    });
  };
  if (only.has("exists")) {
    await closedLoop(64, 0.5, exists); // warm up
    for (const n of [1, 64, 256]) await measure("DatabaseExists  ", n, seconds, 0, probe, exists);
  }
  if (only.has("produce")) {
    await closedLoop(4, 0.5, produce);
    for (const n of [1, 4, 16]) await measure("ProduceLog 1 MiB", n, seconds, recordsBytes, probe, produce);
  }
  if (only.has("fetch")) {
    await closedLoop(4, 0.5, fetch);
    for (const n of [1, 4, 16]) await measure("FetchLog 1 MiB  ", n, seconds, recordsBytes, probe, fetch);
  }
  await conn.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = Number(args.find((a) => a.startsWith("--seconds="))?.split("=")[1] ?? 3);
  const onlyArg = args.find((a) => a.startsWith("--only="))?.split("=")[1] ?? "exists,produce,fetch";
  const only = new Set(onlyArg.split(","));
  if (args.includes("--same-thread")) {
    const server = await startServer();
    console.log(`server in the same thread, ${process.version}`);
    const probe: CpuProbe = async () => ({ client: threadCpuUs(), server: undefined });
    await runClient(server.address.port, seconds, only, probe);
    await server.close();
    return;
  }
  const worker = new Worker(new URL(import.meta.url), { workerData: { server: true } });
  const port = await new Promise<number>((resolve) => worker.once("message", (m: number) => resolve(m)));
  console.log(`server in a worker thread, ${process.version}`);
  const probe: CpuProbe = async () => {
    const server = new Promise<number>((resolve) => worker.once("message", resolve));
    worker.postMessage("cpu");
    return { client: threadCpuUs(), server: await server };
  };
  await runClient(port, seconds, only, probe);
  await worker.terminate();
}

if (isMainThread) {
  await main();
} else if ((workerData as { server?: boolean }).server) {
  const server = await startServer();
  parentPort!.on("message", () => parentPort!.postMessage(threadCpuUs()));
  parentPort!.postMessage(server.address.port);
}
