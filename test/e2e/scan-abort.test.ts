// Aborting a log scan through its `signal` option rejects the iteration with the signal's reason,
// as Node's APIs do (signal.throwIfAborted(), fetch, web streams), so an aborted scan is never
// taken for one that finished; `close()` / `break` still end it quietly. The scanner lets go of a
// long-lived signal once it is done with it.

import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

let tc: TestCluster;

beforeAll(async () => {
  tc = await startCluster();
  await tc.conn.admin.createDatabase("abort");
  await tc.conn.admin.createTable("abort.events", { schema: "id BIGINT NOT NULL", buckets: 2 });
  const w = (await tc.conn.getTable("abort.events")).newAppendWriter();
  for (let i = 0; i < 10; i++) await w.append({ id: BigInt(i) });
  await w.close();
});

afterAll(async () => {
  await tc?.stop();
});

/** Reads until the scan ends or fails; returns what it read and how it ended. */
async function drain(iterable: AsyncIterable<unknown>): Promise<{ n: number; error: unknown }> {
  let n = 0;
  try {
    for await (const _ of iterable) n++;
  } catch (error) {
    return { n, error };
  }
  return { n, error: undefined };
}

describe("a log scan with a signal", () => {
  it("rejects with the reason given to abort(), after the rows read before it", async () => {
    const table = await tc.conn.getTable("abort.events");
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const scanner = table.newLogScanner({ from: "earliest", signal: controller.signal }); // follows
    let n = 0;
    let error: unknown;
    try {
      for await (const _ of scanner) {
        if (++n === 10) setTimeout(() => controller.abort(reason), 50); // while waiting for more
      }
    } catch (err) {
      error = err;
    }
    expect(n).toBe(10);
    expect(error).toBe(reason);
  });

  it("rejects with the default AbortError, also for Arrow batches", async () => {
    const table = await tc.conn.getTable("abort.events");
    const controller = new AbortController();
    const scanner = table.newLogScanner({ from: "latest", signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const { n, error } = await drain(scanner.batches());
    expect(n).toBe(0);
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe("AbortError");
  });

  it("rejects with AbortSignal.timeout()'s TimeoutError", async () => {
    const table = await tc.conn.getTable("abort.events");
    const { error } = await drain(table.newLogScanner({ from: "latest", signal: AbortSignal.timeout(100) }));
    expect((error as Error).name).toBe("TimeoutError");
  });

  it("rejects at once, reading nothing, when the signal is already aborted", async () => {
    const table = await tc.conn.getTable("abort.events");
    const reason = new Error("too late");
    const scanner = table.newLogScanner({ from: "earliest", signal: AbortSignal.abort(reason) });
    expect(await drain(scanner)).toEqual({ n: 0, error: reason });
    expect(scanner.stats().fetchedBatches).toBe(0);
  });

  it("ends quietly on close() and untilLatest, and removes its listener from the signal", async () => {
    const table = await tc.conn.getTable("abort.events");
    const controller = new AbortController();
    const finished = await drain(
      table.newLogScanner({ from: "earliest", untilLatest: true, signal: controller.signal }),
    );
    expect(finished).toEqual({ n: 10, error: undefined });
    const closed = table.newLogScanner({ from: "latest", signal: controller.signal });
    setTimeout(() => closed.close(), 50);
    expect(await drain(closed)).toEqual({ n: 0, error: undefined });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    controller.abort(); // after the scans: changes nothing
  });
});
