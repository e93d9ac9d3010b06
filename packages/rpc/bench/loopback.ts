// Loopback throughput of the RPC layer: a tiny request (DatabaseExists) with N in flight on one
// connection, and 1 MiB ProduceLog requests (client -> server) and 1 MiB FetchLog responses
// (server -> client). The server runs in a worker thread (its own core) unless --same-thread.
// Run: npx node packages/rpc/bench/loopback.ts [--same-thread] [--seconds=3]

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

async function closedLoop(inFlight: number, seconds: number, once: () => Promise<void>): Promise<number> {
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
  return done / ((performance.now() - start) / 1000);
}

async function runClient(port: number, seconds: number): Promise<void> {
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
  await closedLoop(64, 0.5, exists); // warm up
  for (const n of [1, 64, 256]) {
    const rate = await closedLoop(n, seconds, exists);
    console.log(
      `DatabaseExists  in-flight ${String(n).padStart(3)}: ${Math.round(rate).toLocaleString("en")} req/s`,
    );
  }
  await closedLoop(4, 0.5, produce);
  for (const n of [1, 4, 16]) {
    const rate = await closedLoop(n, seconds, produce);
    const mibs = (rate * recordsBytes) / 2 ** 20;
    console.log(
      `ProduceLog 1 MiB in-flight ${String(n).padStart(2)}: ${rate.toFixed(0)} req/s = ${mibs.toFixed(0)} MiB/s`,
    );
  }
  for (const n of [1, 4, 16]) {
    const rate = await closedLoop(n, seconds, fetch);
    const mibs = (rate * recordsBytes) / 2 ** 20;
    console.log(
      `FetchLog 1 MiB  in-flight ${String(n).padStart(2)}: ${rate.toFixed(0)} req/s = ${mibs.toFixed(0)} MiB/s`,
    );
  }
  await conn.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = Number(args.find((a) => a.startsWith("--seconds="))?.split("=")[1] ?? 3);
  if (args.includes("--same-thread")) {
    const server = await startServer();
    console.log(`server in the same thread, ${process.version}`);
    await runClient(server.address.port, seconds);
    await server.close();
    return;
  }
  const worker = new Worker(new URL(import.meta.url), { workerData: { server: true } });
  const port = await new Promise<number>((resolve) => worker.once("message", (m: number) => resolve(m)));
  console.log(`server in a worker thread, ${process.version}`);
  await runClient(port, seconds);
  await worker.terminate();
}

if (isMainThread) {
  await main();
} else if ((workerData as { server?: boolean }).server) {
  const server = await startServer();
  parentPort!.postMessage(server.address.port);
}
