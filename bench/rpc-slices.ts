// A focused A/B of the RPC server's sliced response writes (packages/rpc/src/server-writer.ts):
// the server (this thread) answers FetchLog requests with N-MiB records arrays to a reader in a
// worker thread that keeps `--inflight` fetches in flight (default 2), while a second connection of the worker sends a
// small request every 2 ms. Rounds alternate between `responseSliceBytesMax` 256 KiB (the
// default) and 1 GiB (each response in one corked writev: the behaviour before slicing), in the
// same process and run. Prints per round the server's event-loop delay p99 / max
// (monitorEventLoopDelay, 1 ms resolution), the small requests' round-trip p99 and MiB/s fetched.
//   npx node bench/rpc-slices.ts [--mib 8] [--seconds 4] [--rounds 3] [--mode both|sliced|whole] [--inflight 2]

import net from "node:net";
import { createHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { ApiKeys, create, encodeRequestFrame, RpcServer, toBinary } from "@fluss-ts/rpc";

interface WorkerInput {
  port: number;
  seconds: number;
  inflight: number;
}
interface WorkerResult {
  fetchedBytes: number;
  smallRttP99Ms: number;
  smallCount: number;
}

/** Counts whole frames in a byte stream by their 4-byte length prefixes. */
function frameCounter(onFrame: (bytes: number) => void): (chunk: Buffer) => void {
  let need = -1; // bytes of the current frame's body still to come; -1: reading a prefix
  let prefix = Buffer.alloc(0);
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (need < 0) {
        const take = Math.min(4 - prefix.length, chunk.length - at);
        prefix = Buffer.concat([prefix, chunk.subarray(at, at + take)]);
        at += take;
        if (prefix.length === 4) {
          need = prefix.readInt32BE(0);
          prefix = Buffer.alloc(0);
        }
        continue;
      }
      const take = Math.min(need, chunk.length - at);
      need -= take;
      at += take;
      if (need === 0) {
        need = -1;
        onFrame(take);
      }
    }
  };
}

async function runClient(input: WorkerInput): Promise<WorkerResult> {
  const connect = (): Promise<net.Socket> =>
    new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: input.port }, () => resolve(s));
    });
  const big = await connect();
  const small = await connect();
  const fetchBody = toBinary(
    ApiKeys.FETCH_LOG.request,
    create(ApiKeys.FETCH_LOG.request, { followerServerId: -1, maxBytes: 1 << 30 }),
  );
  const smallBody = toBinary(
    ApiKeys.DATABASE_EXISTS.request,
    create(ApiKeys.DATABASE_EXISTS.request, { databaseName: "x" }),
  );
  let id = 0;
  let fetchedBytes = 0;
  let stop = false;
  const fetch = (): void => {
    if (!stop) big.write(encodeRequestFrame(ApiKeys.FETCH_LOG.key, 0, id++, fetchBody));
  };
  big.on("data", (c: Buffer) => {
    fetchedBytes += c.length;
  });
  big.on(
    "data",
    frameCounter(() => fetch()),
  );
  for (let i = 0; i < input.inflight; i++) fetch();
  const rtts: number[] = [];
  let sentAt = 0;
  small.on(
    "data",
    frameCounter(() => {
      rtts.push(performance.now() - sentAt);
    }),
  );
  const timer = setInterval(() => {
    sentAt = performance.now();
    small.write(encodeRequestFrame(ApiKeys.DATABASE_EXISTS.key, 0, id++, smallBody));
  }, 2);
  await new Promise((r) => setTimeout(r, input.seconds * 1000));
  stop = true;
  clearInterval(timer);
  big.destroy();
  small.destroy();
  rtts.sort((a, b) => a - b);
  const p99 = rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))] ?? Number.NaN;
  return { fetchedBytes, smallRttP99Ms: p99, smallCount: rtts.length };
}

async function round(sliceBytesMax: number, mib: number, seconds: number, inflight: number): Promise<string> {
  const server = new RpcServer({ responseSliceBytesMax: sliceBytesMax });
  const records = Buffer.alloc(mib << 20, 7);
  server.handle(ApiKeys.FETCH_LOG, () => ({
    tablesResp: [{ tableId: 1n, bucketsResp: [{ bucketId: 0, highWatermark: 1n, records }] }],
  }));
  server.handle(ApiKeys.DATABASE_EXISTS, () => ({ exists: true }));
  const { port } = await server.listen();
  const h = monitorEventLoopDelay({ resolution: 1 });
  const writes = createHistogram(); // the server's socket.write calls (each a system call when uncorked)
  const original = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    const t0 = process.hrtime.bigint();
    try {
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    } finally {
      writes.record(Number(process.hrtime.bigint() - t0) || 1);
    }
  } as typeof original;
  const uncork = net.Socket.prototype.uncork;
  net.Socket.prototype.uncork = function (this: net.Socket) {
    const t0 = process.hrtime.bigint();
    try {
      uncork.call(this);
    } finally {
      writes.record(Number(process.hrtime.bigint() - t0) || 1);
    }
  };
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, seconds, inflight } });
  await new Promise((r) => setTimeout(r, 300)); // warm-up
  h.enable();
  const result = await new Promise<WorkerResult>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  h.disable();
  net.Socket.prototype.write = original;
  net.Socket.prototype.uncork = uncork;
  await worker.terminate();
  await server.close();
  const ms = (ns: number): string => (ns / 1e6).toFixed(2);
  const slice = sliceBytesMax >= 1 << 30 ? "one writev" : `${sliceBytesMax >> 10} KiB`;
  return (
    `slice ${slice.padEnd(10)} loop delay p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms; ` +
    `socket write/uncork p99 ${ms(writes.percentile(99))} max ${ms(writes.max)} ms; ` +
    `small request RTT p99 ${result.smallRttP99Ms.toFixed(2)} ms (${result.smallCount}); ` +
    `${(result.fetchedBytes / 2 ** 20 / seconds).toFixed(0)} MiB/s`
  );
}

if (isMainThread) {
  const { values } = parseArgs({
    options: {
      mib: { type: "string", default: "8" },
      seconds: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      mode: { type: "string", default: "both" }, // both | sliced | whole
      inflight: { type: "string", default: "2" },
    },
  });
  const mib = Number(values.mib);
  const seconds = Number(values.seconds);
  for (let i = 0; i < Number(values.rounds); i++) {
    const modes: Record<string, number[]> = {
      both: [256 * 1024, 1 << 30],
      sliced: [256 * 1024],
      whole: [1 << 30],
    };
    for (const slice of modes[values.mode] ?? [])
      console.log(`round ${i + 1}: ${await round(slice, mib, seconds, Number(values.inflight))}`);
  }
} else {
  const result = await runClient(workerData as WorkerInput);
  parentPort?.postMessage(result);
}
