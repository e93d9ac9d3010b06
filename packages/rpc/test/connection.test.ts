import net from "node:net";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";
import { encodeServerFailureFrame, FrameDecoder, parseRequestFrame } from "../src/frame.ts";
import type { RpcServer } from "../src/server.ts";
import type { Transport } from "../src/transport.ts";
import { socketTransport } from "../src/transport.ts";
import { deferred, ManualTimers, recordingLogger, startServer } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serverWithExists(options: Parameters<typeof startServer>[0] = {}): Promise<RpcServer> {
  const server = await startServer(options);
  server.handle(ApiKeys.DATABASE_EXISTS, (req) => ({ exists: req.databaseName === "yes" }));
  cleanups.push(() => server.close());
  return server;
}

async function connect(server: RpcServer, extra: Partial<Parameters<typeof RpcConnection.connect>[0]> = {}) {
  const conn = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port, ...extra });
  cleanups.push(() => conn.close());
  return conn;
}

async function rejection(p: Promise<unknown>): Promise<FlussError> {
  try {
    await p;
  } catch (err) {
    if (isFlussError(err)) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

/** A raw TCP server speaking whatever the test writes. */
async function rawServer(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  cleanups.push(() => server.unref());
  return (server.address() as net.AddressInfo).port;
}

describe("RpcConnection", () => {
  it("sends a request and decodes the typed response", async () => {
    const server = await serverWithExists();
    const conn = await connect(server);
    const yes = await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" });
    const no = await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "no" });
    expect([yes.exists, no.exists]).toEqual([true, false]);
  });

  it("matches 1000 concurrent requests answered in reverse order", async () => {
    const server = await startServer({ requestsInFlightMax: 1024 });
    cleanups.push(() => server.close());
    const waiting: Array<() => void> = [];
    const all = deferred();
    server.handle(ApiKeys.LIST_TABLES, (req) => {
      const d = deferred();
      waiting.push(() => d.resolve());
      if (waiting.length === 1000) all.resolve();
      return d.promise.then(() => ({ tableName: [req.databaseName] }));
    });
    const conn = await connect(server);
    const calls = Array.from({ length: 1000 }, (_, i) =>
      conn.request(ApiKeys.LIST_TABLES, { databaseName: `db${i}` }),
    );
    await all.promise;
    for (const release of waiting.reverse()) release();
    const results = await Promise.all(calls);
    for (const [i, r] of results.entries()) expect(r.tableName).toEqual([`db${i}`]);
    expect(conn.inFlightCount).toBe(0);
  });

  it("bounds requests in flight; extra callers wait for a slot", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    let running = 0;
    let runningMax = 0;
    server.handle(ApiKeys.DATABASE_EXISTS, async () => {
      running++;
      runningMax = Math.max(runningMax, running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return { exists: true };
    });
    const conn = await connect(server, { requestsInFlightMax: 8 });
    const calls = Array.from({ length: 200 }, () =>
      conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }),
    );
    expect(conn.inFlightCount).toBe(8);
    expect(conn.waitingCount).toBe(192);
    await Promise.all(calls);
    expect(runningMax).toBe(8);
  });

  it("fails fast when too many callers wait", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    server.handle(ApiKeys.DATABASE_EXISTS, () => new Promise(() => {}));
    const conn = await connect(server, { requestsInFlightMax: 1, requestsWaitingMax: 2 });
    const calls = Array.from({ length: 3 }, () =>
      conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }),
    );
    for (const c of calls) c.catch(() => {});
    const err = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    expect(err.is(Errors.REQUEST_TIME_OUT)).toBe(true);
    expect(err.message).toMatch(/wait for a slot/);
  });

  it("times out a request (REQUEST_TIME_OUT), frees its slot and drops the late response", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    const gate = deferred();
    server.handle(ApiKeys.DATABASE_EXISTS, async (req) => {
      if (req.databaseName === "slow") await gate.promise;
      return { exists: true };
    });
    const timers = new ManualTimers();
    const conn = await connect(server, { timers, requestsInFlightMax: 1, requestTimeoutMs: 1000 });
    const slow = conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "slow" }, { timeoutMs: 50 });
    const queued = conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "next" });
    expect(conn.waitingCount).toBe(1);
    expect(timers.fire(50)).toBe(1);
    const err = await rejection(slow);
    expect(err.is(Errors.REQUEST_TIME_OUT)).toBe(true);
    expect(err.retriable).toBe(true);
    expect((await queued).exists).toBe(true); // got the freed slot
    gate.resolve();
    await new Promise((r) => setTimeout(r, 20)); // the late response arrives and is dropped
    expect((await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" })).exists).toBe(true);
    expect(conn.isOpen).toBe(true);
  });

  it("aborts a request through its signal", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    server.handle(ApiKeys.DATABASE_EXISTS, () => new Promise(() => {}));
    const conn = await connect(server);
    const ac = new AbortController();
    const p = conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }, { signal: ac.signal });
    ac.abort();
    expect((await rejection(p)).is(Errors.ABORTED)).toBe(true);
    expect(conn.inFlightCount).toBe(0);
    const pre = await rejection(
      conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }, { signal: ac.signal }),
    );
    expect(pre.is(Errors.ABORTED)).toBe(true);
  });

  it("turns error responses into FlussErrors with the server's code and message", async () => {
    const logger = recordingLogger();
    const server = await startServer({ logger });
    cleanups.push(() => server.close());
    server.handle(ApiKeys.GET_TABLE_INFO, (req) => {
      throw new FlussError(Errors.TABLE_NOT_EXIST, `table ${req.tablePath?.tableName} does not exist`);
    });
    server.handle(ApiKeys.LIST_TABLES, async () => {
      throw new FlussError(Errors.DATABASE_NOT_EXIST);
    });
    server.handle(ApiKeys.DROP_TABLE, () => {
      throw new TypeError("oops");
    });
    const conn = await connect(server);
    const e1 = await rejection(
      conn.request(ApiKeys.GET_TABLE_INFO, { tablePath: { databaseName: "d", tableName: "t" } }),
    );
    expect([e1.code, e1.message]).toEqual([7, "table t does not exist"]);
    const e2 = await rejection(conn.request(ApiKeys.LIST_TABLES, { databaseName: "d" }));
    expect([e2.code, e2.message]).toEqual([4, Errors.DATABASE_NOT_EXIST.message]);
    const e3 = await rejection(
      conn.request(ApiKeys.DROP_TABLE, {
        tablePath: { databaseName: "d", tableName: "t" },
        ignoreIfNotExists: false,
      }),
    );
    expect([e3.code, e3.message]).toEqual([-1, "oops"]);
    const logged = logger.entries.find((e) => e.level === "error");
    expect(logged).toBeDefined();
    expect(logged!.obj).toMatchObject({ api: "DROP_TABLE" });
    expect((logged!.obj as { err: Error }).err.stack).toMatch(/TypeError: oops/);
    expect(conn.isOpen).toBe(true);
  });

  it("answers UNKNOWN_SERVER_ERROR when a handler returns an unencodable response", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    // required field `exists` missing
    server.handle(ApiKeys.DATABASE_EXISTS, () => ({}));
    const conn = await connect(server);
    const err = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    expect(err.code).toBe(-1);
    expect(err.message).toMatch(/cannot encode DATABASE_EXISTS response/);
  });

  it("refuses to send a request that cannot be encoded or is too large", async () => {
    const server = await serverWithExists();
    const conn = await connect(server, { frameBytesMax: 64 });
    // biome-ignore lint/suspicious/noExplicitAny: deliberately missing a required field
    const bad = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, {} as any));
    expect(bad.is(Errors.INVALID_ARGUMENT)).toBe(true);
    const big = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x".repeat(100) }));
    expect(big.is(Errors.INVALID_ARGUMENT)).toBe(true);
    const version = await rejection(
      conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }, { apiVersion: 3 }),
    );
    expect(version.is(Errors.UNSUPPORTED_VERSION)).toBe(true);
    expect((await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" })).exists).toBe(true);
  });

  it("fails every in-flight request with NETWORK_EXCEPTION on a server failure frame", async () => {
    const port = await rawServer((socket) => {
      const decoder = new FrameDecoder();
      let seen = 0;
      socket.on("data", (chunk) => {
        decoder.push(chunk);
        while (decoder.next()) seen++;
        if (seen === 3) socket.end(encodeServerFailureFrame({ code: 3, message: "bad bytes" }));
      });
    });
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port });
    cleanups.push(() => conn.close());
    const calls = ["a", "b", "c"].map((n) =>
      rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: `db${n}` })),
    );
    const errors = await Promise.all(calls);
    for (const e of errors) {
      expect(e.is(Errors.NETWORK_EXCEPTION)).toBe(true);
      expect(e.message).toMatch(/CORRUPT_MESSAGE: bad bytes/);
      expect(isFlussError(e.cause) && e.cause.code).toBe(3);
    }
    expect(conn.isOpen).toBe(false);
    const after = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    expect(after.is(Errors.NETWORK_EXCEPTION)).toBe(true);
  });

  it("fails in-flight requests with NETWORK_EXCEPTION when the server drops the connection", async () => {
    const received = deferred();
    const port = await rawServer((socket) => {
      socket.once("data", () => {
        received.resolve();
        socket.destroy();
      });
    });
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port });
    cleanups.push(() => conn.close());
    const p = rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    await received.promise;
    const err = await p;
    expect(err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(err.retriable).toBe(true);
    expect((await conn.closed).is(Errors.NETWORK_EXCEPTION)).toBe(true);
  });

  it("closes on a malformed response stream", async () => {
    const port = await rawServer((socket) => {
      socket.once("data", () => socket.write(Buffer.from([0, 0, 0, 5, 7, 0, 0, 0, 0])));
    });
    const logger = recordingLogger();
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port, logger });
    cleanups.push(() => conn.close());
    const err = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    expect(err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(err.message).toMatch(/unknown response type 7/);
    expect(logger.entries.some((e) => e.level === "warn")).toBe(true);
  });

  it("close() fails pending and later requests with CLIENT_CLOSED", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    server.handle(ApiKeys.DATABASE_EXISTS, () => new Promise(() => {}));
    const conn = await connect(server, { requestsInFlightMax: 1 });
    const inflight = rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "a" }));
    const waiting = rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "b" }));
    await conn.close();
    for (const e of await Promise.all([inflight, waiting])) expect(e.is(Errors.CLIENT_CLOSED)).toBe(true);
    const later = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "c" }));
    expect(later.is(Errors.CLIENT_CLOSED)).toBe(true);
    await conn.close(); // idempotent
  });

  it("rejects a connect to a port nobody listens on with NETWORK_EXCEPTION", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await rejection(RpcConnection.connect({ host: "127.0.0.1", port }));
    expect(err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
  });

  it("times out a connect that never completes", async () => {
    const timers = new ManualTimers();
    const p = rejection(
      RpcConnection.connect({
        host: "127.0.0.1",
        port: 1,
        timers,
        connectTimeoutMs: 5,
        connector: (target) =>
          new Promise<Transport>((_resolve, reject) => {
            target.timers?.setTimeout(
              () => reject(new FlussError(Errors.NETWORK_EXCEPTION, "connect timed out")),
              5,
            );
          }),
      }),
    );
    timers.fire();
    expect((await p).message).toMatch(/timed out/);
  });

  it("stops writing while the transport is full and resumes on drain", async () => {
    const server = await serverWithExists();
    let full = false;
    let writesWhileFull = 0;
    let drains = 0;
    const conn = await connect(server, {
      connector: (target, handlers) =>
        new Promise((resolve, reject) => {
          const socket = net.connect({ host: target.host, port: target.port }, () => {
            const inner = socketTransport(socket, handlers);
            let writes = 0;
            resolve({
              ...inner,
              remoteAddress: inner.remoteAddress,
              write(chunk) {
                if (full) writesWhileFull++;
                inner.write(chunk);
                if (++writes % 7 !== 0) return true;
                full = true; // pretend the buffer filled up; drain on the next macrotask
                setImmediate(() => {
                  full = false;
                  drains++;
                  handlers.onDrain();
                });
                return false;
              },
            });
          });
          socket.once("error", reject);
        }),
    });
    const calls = Array.from({ length: 100 }, (_, i) =>
      conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: i % 2 ? "yes" : "no" }),
    );
    const results = await Promise.all(calls);
    for (const [i, r] of results.entries()) expect(r.exists).toBe(i % 2 === 1);
    expect(drains).toBeGreaterThan(0);
    expect(writesWhileFull).toBe(0);
  });

  it("fails in-flight calls when an injected transport breaks", async () => {
    const server = await serverWithExists();
    const conn = await connect(server, {
      connector: (target, handlers) =>
        new Promise((resolve, reject) => {
          const socket = net.connect({ host: target.host, port: target.port }, () => {
            const inner = socketTransport(socket, handlers);
            resolve({
              ...inner,
              remoteAddress: undefined,
              write: () => {
                socket.destroy(new Error("injected"));
                return true;
              },
            });
          });
          socket.once("error", reject);
        }),
    });
    const err = await rejection(conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }));
    expect(err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(err.message).toMatch(/injected/);
  });

  it("numbers requests from 0, as Fluss clients do", async () => {
    // Observe ids on the wire with a raw echo server that answers every request with success.
    const ids: number[] = [];
    const port = await rawServer((socket) => {
      const decoder = new FrameDecoder();
      socket.on("data", (chunk) => {
        decoder.push(chunk);
        for (let f = decoder.next(); f; f = decoder.next()) {
          const req = parseRequestFrame(f);
          ids.push(req.requestId);
          const out = Buffer.from([0, 0, 0, 7, 0, 0, 0, 0, 0, 8, 1]);
          out.writeInt32BE(req.requestId, 5);
          socket.write(out);
        }
      });
    });
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port });
    cleanups.push(() => conn.close());
    for (let i = 0; i < 3; i++) await conn.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" });
    expect(ids).toEqual([0, 1, 2]);
  });
});
