// A full scan running in a worker thread (own connection, own event loop), for the mixed-load
// workload: it reads the whole table from earliest to latest with `newLogScanner({ untilLatest })`
// over Arrow batches, again and again, until told to stop; then it reports the rows it read and
// the seconds it spent. Running it in a thread keeps its decoding off the producer's event loop,
// so the producer's latencies are the server's, not the benchmark's.

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

interface ScanInit {
  bootstrap: string;
  table: string;
}

type ToWorker = { type: "stop" };
type FromWorker =
  | { type: "started" }
  | { type: "done"; rows: number; seconds: number; passes: number }
  | { type: "error"; message: string };

export interface ScanLoopResult {
  rows: number;
  seconds: number;
  /** Whole passes over the table completed (the last one may be cut short by stop). */
  passes: number;
}

export interface ScanLoop {
  stop(): Promise<ScanLoopResult>;
}

/** Start scanning `table` in a thread; resolves once its first fetch is under way. */
export function startScanLoop(bootstrap: string, table: string): Promise<ScanLoop> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { bootstrap, table } satisfies ScanInit,
  });
  return new Promise((resolveStarted, rejectStarted) => {
    let stopping: { resolve: (r: ScanLoopResult) => void; reject: (e: Error) => void } | undefined;
    worker.on("message", (m: FromWorker) => {
      if (m.type === "started") {
        resolveStarted({
          stop: () =>
            new Promise<ScanLoopResult>((resolve, reject) => {
              stopping = { resolve, reject };
              worker.postMessage({ type: "stop" } satisfies ToWorker);
            }),
        });
      } else if (m.type === "done") {
        void worker.terminate();
        stopping?.resolve({ rows: m.rows, seconds: m.seconds, passes: m.passes });
      } else {
        const err = new Error(`scan thread: ${m.message}`);
        void worker.terminate();
        rejectStarted(err);
        stopping?.reject(err);
      }
    });
    worker.on("error", (err) => {
      rejectStarted(err);
      stopping?.reject(err);
    });
  });
}

async function runWorker(init: ScanInit): Promise<void> {
  const port = parentPort!;
  const { connect } = await import("@fluss-ts/client");
  const conn = await connect({ bootstrap: init.bootstrap });
  const table = await conn.getTable(init.table);
  let stop = false;
  port.on("message", (m: ToWorker) => {
    if (m.type === "stop") stop = true;
  });
  let rows = 0;
  let passes = 0;
  const t0 = performance.now();
  port.postMessage({ type: "started" } satisfies FromWorker);
  while (!stop) {
    const controller = new AbortController();
    const scanner = table.newLogScanner({ untilLatest: true, signal: controller.signal });
    let cut = false;
    for await (const b of scanner.batches()) {
      rows += b.recordBatch.numRows;
      if (stop) {
        cut = true;
        controller.abort();
        break;
      }
    }
    if (!cut) passes++;
  }
  const seconds = (performance.now() - t0) / 1000;
  await conn.close().catch(() => undefined);
  port.postMessage({ type: "done", rows, seconds, passes } satisfies FromWorker);
}

if (!isMainThread && (workerData as ScanInit | undefined)?.bootstrap) {
  runWorker(workerData as ScanInit).catch((err: unknown) => {
    parentPort!.postMessage({
      type: "error",
      message: (err as Error).stack ?? String(err),
    } satisfies FromWorker);
  });
}
