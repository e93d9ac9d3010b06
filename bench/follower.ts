// The consumer side of the latency workload, run in a worker thread so that it has its own event
// loop: the producer's work (building batches, pipelines) does not delay when rows are seen, and
// the consumer's work does not slow the producer. The main thread calls `startFollower`, waits for
// it to be attached, produces, then `finish(produced)`: the worker waits until it has seen every
// row (or 5 s more), and sends back the latencies it recorded (microseconds, after the warm-up).
// Rows carry their producer stamp from `nowMicros()` (CLOCK_MONOTONIC, shared by all threads).

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { nowMicros, tsOfEventBytes } from "./rows.ts";

export type FollowerSpec =
  | { system: "fluss"; bootstrap: string; table: string }
  | { system: "redis"; port: number; key: string; afterId: string }
  | { system: "nats"; port: number; stream: string };

interface FollowerInit {
  spec: FollowerSpec;
}

/** begin: rows stamped before `warmupUntilMicros` (decimal µs) are warm-up, not recorded. */
type ToWorker = { type: "begin"; warmupUntilMicros: string } | { type: "finish"; produced: number };
type FromWorker =
  | { type: "ready" }
  | { type: "done"; seen: number; latencies: Float64Array }
  | { type: "error"; message: string };

export interface FollowerResult {
  seen: number;
  /** Latencies in microseconds, ascending. */
  sorted: Float64Array;
}

export interface Follower {
  /** Production starts now; record rows stamped from `warmupUntilMicros` on. */
  begin(warmupUntilMicros: bigint): void;
  finish(produced: number): Promise<FollowerResult>;
}

const CATCH_UP_MS = 5_000;

/** Start a follower thread; resolves once it is attached and waiting for new rows. */
export function startFollower(spec: FollowerSpec): Promise<Follower> {
  const init: FollowerInit = { spec };
  const worker = new Worker(new URL(import.meta.url), { workerData: init });
  return new Promise((resolveReady, rejectReady) => {
    let finishing: { resolve: (r: FollowerResult) => void; reject: (e: Error) => void } | undefined;
    let ready = false;
    worker.on("message", (m: FromWorker) => {
      if (m.type === "ready") {
        ready = true;
        resolveReady({
          begin(warmupUntilMicros) {
            worker.postMessage({
              type: "begin",
              warmupUntilMicros: warmupUntilMicros.toString(),
            } satisfies ToWorker);
          },
          finish(produced) {
            return new Promise<FollowerResult>((resolve, reject) => {
              finishing = { resolve, reject };
              worker.postMessage({ type: "finish", produced } satisfies ToWorker);
            });
          },
        });
      } else if (m.type === "done") {
        void worker.terminate();
        finishing?.resolve({ seen: m.seen, sorted: m.latencies.sort() });
      } else {
        const err = new Error(`follower (${spec.system}): ${m.message}`);
        void worker.terminate();
        if (!ready) rejectReady(err);
        finishing?.reject(err);
      }
    });
    worker.on("error", (err) => {
      if (!ready) rejectReady(err);
      finishing?.reject(err);
    });
  });
}

// ---- worker side ------------------------------------------------------------------------------

/** Growable array of latencies (µs). */
class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  take(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}

async function runWorker(init: FollowerInit): Promise<void> {
  const port = parentPort!;
  // Until "begin" arrives nothing is recorded (those rows are warm-up anyway).
  let warmupUntil = 2n ** 62n;
  const samples = new Samples();
  let seen = 0;
  const record = (ts: bigint, now: bigint): void => {
    seen++;
    if (ts >= warmupUntil) samples.push(Number(now - ts));
  };
  const controller = new AbortController();
  let consuming: Promise<void>;
  let close: () => Promise<void>;
  const spec = init.spec;

  if (spec.system === "fluss") {
    const { connect } = await import("@fluss-ts/client");
    const conn = await connect({ bootstrap: spec.bootstrap });
    const table = await conn.getTable(spec.table);
    const scanner = table.newLogScanner({ from: "latest", signal: controller.signal });
    const batches = scanner.batches();
    // The first next() resolves the start ("latest"); wait for that before saying ready.
    const first = batches.next();
    consuming = (async () => {
      let r = await first;
      while (!r.done) {
        const now = nowMicros();
        const ts = r.value.recordBatch.getChild("ts")!.toArray() as BigInt64Array;
        for (let i = 0; i < ts.length; i++) record(ts[i]!, now);
        r = await batches.next();
      }
    })();
    close = () => conn.close();
    const deadline = Date.now() + 10_000;
    while (!scanner.positionsKnown && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // and let its first long poll reach the server.
    await new Promise((r) => setTimeout(r, 50));
  } else if (spec.system === "redis") {
    const { Redis } = await import("ioredis");
    const client = new Redis({ host: "127.0.0.1", port: spec.port, maxRetriesPerRequest: null });
    client.on("error", () => undefined);
    let lastId = spec.afterId;
    consuming = (async () => {
      while (!controller.signal.aborted) {
        const res = await client.xreadBuffer("COUNT", 10_000, "BLOCK", 100, "STREAMS", spec.key, lastId);
        if (!res) continue;
        const entries = res[0]![1];
        const now = nowMicros();
        for (const [, fields] of entries) record(tsOfEventBytes(fields[1]!), now);
        lastId = entries[entries.length - 1]![0].toString();
      }
    })();
    close = async () => {
      client.disconnect();
    };
    await client.ping();
  } else {
    const { connect } = await import("@nats-io/transport-node");
    const { DeliverPolicy, jetstream } = await import("@nats-io/jetstream");
    const nc = await connect({ servers: `127.0.0.1:${spec.port}` });
    const consumer = await jetstream(nc).consumers.get(spec.stream, { deliver_policy: DeliverPolicy.New });
    const msgs = await consumer.consume({ max_messages: 10_000 });
    consuming = (async () => {
      for await (const m of msgs) record(tsOfEventBytes(m.data), nowMicros());
    })();
    close = async () => {
      await msgs.close();
      await nc.close();
    };
    await new Promise((r) => setTimeout(r, 200));
  }

  let failure: unknown;
  consuming = consuming.catch((err: unknown) => {
    if (!controller.signal.aborted) failure = err;
  });
  port.postMessage({ type: "ready" } satisfies FromWorker);
  port.on("message", async (m: ToWorker) => {
    if (m.type === "begin") {
      warmupUntil = BigInt(m.warmupUntilMicros);
      return;
    }
    const deadline = Date.now() + CATCH_UP_MS;
    while (seen < m.produced && Date.now() < deadline && failure === undefined) {
      await new Promise((r) => setTimeout(r, 5));
    }
    controller.abort();
    await close().catch(() => undefined);
    await Promise.race([consuming, new Promise((r) => setTimeout(r, 1000))]);
    if (failure !== undefined) {
      port.postMessage({
        type: "error",
        message: String((failure as Error).message ?? failure),
      } satisfies FromWorker);
      return;
    }
    const latencies = samples.take();
    port.postMessage({ type: "done", seen, latencies } satisfies FromWorker, [
      latencies.buffer as ArrayBuffer,
    ]);
  });
}

if (!isMainThread && (workerData as FollowerInit | undefined)?.spec) {
  runWorker(workerData as FollowerInit).catch((err: unknown) => {
    parentPort!.postMessage({
      type: "error",
      message: (err as Error).stack ?? String(err),
    } satisfies FromWorker);
  });
}
