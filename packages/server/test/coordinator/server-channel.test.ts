// The coordinator's ordered channel to one tablet server: requests go one at a time in the order
// queued; a retriable failure reconnects and resends the same request after a backoff on the
// injected Scheduler; a refusal fails that request alone; close fails everything pending; the
// queue is bounded.

import { Errors, FlussError, isFlussError, ManualScheduler } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import { describe, expect, it } from "vitest";
import { type ControlConnection, ServerChannel } from "../../src/coordinator/server-channel.ts";
import { silentLogger } from "../../src/logging.ts";

type Answer = { kind: "ok" } | { kind: "fail"; error: FlussError } | { kind: "hang" };

/** Connections whose answers the test scripts, recording what was sent and how many overlap. */
function fakeConnections(script: Answer[]) {
  const sent: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let connects = 0;
  const connect = async (): Promise<ControlConnection> => {
    connects++;
    let open = true;
    return {
      get isOpen() {
        return open;
      },
      async request(_api, message) {
        const n = (message as { coordinatorEpoch: number }).coordinatorEpoch;
        sent.push(n);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await Promise.resolve();
        inFlight--;
        const a = script.shift() ?? { kind: "ok" };
        if (a.kind === "hang") return new Promise(() => undefined);
        if (a.kind === "fail") {
          if (a.error.retriable) open = false;
          throw a.error;
        }
        return { notifyBucketsLeaderResp: [] } as never;
      },
      async close() {
        open = false;
      },
    };
  };
  return { connect, sent, stats: () => ({ maxInFlight, connects }) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("ServerChannel", () => {
  it("sends in order, one at a time", async () => {
    const s = new ManualScheduler();
    const f = fakeConnections([]);
    const ch = new ServerChannel({ name: "ts 1", connect: f.connect, scheduler: s, logger: silentLogger });
    const all = [1, 2, 3, 4].map((n) =>
      ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: n, notifyBucketsLeaderReq: [] }),
    );
    await Promise.all(all);
    expect(f.sent).toEqual([1, 2, 3, 4]);
    expect(f.stats().maxInFlight).toBe(1);
    expect(f.stats().connects).toBe(1);
  });

  it("resends after a retriable failure (reconnecting, with backoff) and fails a refusal alone", async () => {
    const s = new ManualScheduler();
    const f = fakeConnections([
      { kind: "fail", error: new FlussError(Errors.NETWORK_EXCEPTION, "gone") },
      { kind: "ok" },
      { kind: "fail", error: new FlussError(Errors.INVALID_COORDINATOR_EXCEPTION, "fenced") },
    ]);
    const ch = new ServerChannel({
      name: "ts 1",
      connect: f.connect,
      scheduler: s,
      logger: silentLogger,
      backoffMsMin: 100,
    });
    const first = ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 1, notifyBucketsLeaderReq: [] });
    const second = ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, {
      coordinatorEpoch: 2,
      notifyBucketsLeaderReq: [],
    });
    const third = ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 3, notifyBucketsLeaderReq: [] });
    await flush();
    expect(f.sent).toEqual([1]);
    s.advance(99);
    await flush();
    expect(f.sent).toEqual([1]);
    s.advance(1);
    await first;
    const err = await second.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(err) && err.code).toBe(Errors.INVALID_COORDINATOR_EXCEPTION.code);
    await third;
    expect(f.sent).toEqual([1, 1, 2, 3]);
    expect(f.stats().connects).toBe(2);
  });

  it("close fails everything pending; the queue is bounded", async () => {
    const s = new ManualScheduler();
    const f = fakeConnections([{ kind: "hang" }]);
    const ch = new ServerChannel({
      name: "ts 1",
      connect: f.connect,
      scheduler: s,
      logger: silentLogger,
      requestsMax: 2,
    });
    const a = ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 1, notifyBucketsLeaderReq: [] });
    const b = ch.send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 2, notifyBucketsLeaderReq: [] });
    const over = await ch
      .send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 3, notifyBucketsLeaderReq: [] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isFlussError(over) && over.code).toBe(Errors.STORAGE_BACKPRESSURE_EXCEPTION.code);
    await flush();
    ch.close();
    for (const p of [a, b]) {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      expect(isFlussError(e) && e.code).toBe(Errors.NETWORK_EXCEPTION.code);
    }
    const late = await ch
      .send(ApiKeys.NOTIFY_LEADER_AND_ISR, { coordinatorEpoch: 4, notifyBucketsLeaderReq: [] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isFlussError(late)).toBe(true);
  });
});
