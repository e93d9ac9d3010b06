import type net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Errors, isFlussError } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiDef } from "../src/api-keys.ts";
import { ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";
import { decodeWireError, encodeRequestFrame, FrameDecoder, parseResponseFrame } from "../src/frame.ts";
import { DatabaseExistsRequestSchema } from "../src/gen/fluss/api_pb.ts";
import { type RpcServer, RpcServer as RpcServerClass } from "../src/server.ts";
import {
  deferred,
  rawConnect,
  readBytes,
  readFrames,
  readUntilClose,
  recordingLogger,
  seededBytes,
  startServer,
} from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Parameters<typeof startServer>[0] = {}) {
  const logger = recordingLogger();
  const server = await startServer({ logger, ...options });
  server.handle(ApiKeys.DATABASE_EXISTS, (req) => ({ exists: req.databaseName === "yes" }));
  cleanups.push(() => server.close());
  const good = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
  cleanups.push(() => good.close());
  return { server, logger, good };
}

async function stillServes(good: RpcConnection): Promise<void> {
  expect((await good.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" })).exists).toBe(true);
}

async function raw(server: RpcServer): Promise<net.Socket> {
  const s = await rawConnect(server.address.port);
  cleanups.push(() => s.destroy());
  return s;
}

function existsFrame(requestId: number, apiKey = 1004, version = 0): Uint8Array {
  const body = toBinary(
    DatabaseExistsRequestSchema,
    create(DatabaseExistsRequestSchema, { databaseName: "yes" }),
  );
  return encodeRequestFrame(apiKey, version, requestId, body);
}

/** The only frame in `bytes`, parsed as a response. */
function onlyResponse(bytes: Uint8Array) {
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  const frame = decoder.next();
  expect(frame).toBeDefined();
  expect(decoder.next()).toBeUndefined();
  return parseResponseFrame(frame!);
}

function expectServerFailure(bytes: Uint8Array, text: RegExp): void {
  const resp = onlyResponse(bytes);
  expect(resp.type).toBe(2);
  const err = decodeWireError(resp.body);
  expect(err.code).toBe(Errors.CORRUPT_MESSAGE.code);
  expect(err.message).toMatch(text);
}

describe("RpcServer", () => {
  it("binds port 0 and exposes the bound address", async () => {
    const { server } = await setup();
    expect(server.address.host).toBe("127.0.0.1");
    expect(server.address.port).toBeGreaterThan(0);
  });

  it("answers ApiVersions itself from the registered handlers", async () => {
    const { server, good } = await setup({ serverType: 2 });
    server.handle(ApiKeys.PUT_KV, () => ({ bucketsResp: [] }));
    const resp = await good.request(ApiKeys.API_VERSIONS, {
      clientSoftwareName: "t",
      clientSoftwareVersion: "0",
    });
    expect(resp.apiVersions.map((v) => [v.apiKey, v.minVersion, v.maxVersion])).toEqual([
      [1000, 0, 0],
      [1004, 0, 0],
      [1016, 0, 2],
    ]);
    expect(resp.serverType).toBe(2);
    expect(() => server.handle(ApiKeys.API_VERSIONS, () => ({}))).toThrow(/answered by the server/);
    expect(() => server.handle(ApiKeys.PUT_KV, () => ({}))).toThrow(/already has a handler/);
  });

  it("passes the request context to handlers", async () => {
    const { server, good } = await setup();
    let seen: unknown;
    server.handle(ApiKeys.LOOKUP, (_req, ctx) => {
      seen = { ...ctx, signal: ctx.signal.aborted };
      return { bucketsResp: [] };
    });
    await good.request(ApiKeys.LOOKUP, { tableId: 1n, bucketsReq: [] }, { apiVersion: 1 });
    expect(seen).toMatchObject({ remoteAddress: "127.0.0.1", apiVersion: 1, signal: false });
    expect((seen as { connectionId: number }).connectionId).toBeGreaterThanOrEqual(0);
  });

  it("answers an unknown API key with UNSUPPORTED_VERSION and keeps the connection", async () => {
    const { server, good, logger } = await setup();
    const unknown: ApiDef = { ...ApiKeys.DATABASE_EXISTS, key: 1999, name: "MADE_UP" };
    const err = await good.request(unknown, { databaseName: "x" }).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.UNSUPPORTED_VERSION)).toBe(true);
    expect((err as Error).message).toMatch(/API key 1999/);
    // a known key without a handler is unknown to this server too
    const noHandler = await good
      .request(ApiKeys.PRODUCE_LOG, { acks: 1, tableId: 1n, timeoutMs: 1 })
      .catch((e) => e);
    expect(isFlussError(noHandler) && noHandler.is(Errors.UNSUPPORTED_VERSION)).toBe(true);
    await stillServes(good);
    expect(logger.entries.some((e) => e.level === "warn" && e.msg.includes("unknown API key"))).toBe(true);
    // the same on a raw socket: the error response carries the request id
    const s = await raw(server);
    const frames = readFrames(s, 2);
    s.write(Buffer.concat([existsFrame(42, 1999), existsFrame(43)]));
    const [unknownResp, okResp] = (await frames).map(parseResponseFrame);
    expect(unknownResp).toMatchObject({ type: 1, requestId: 42 });
    expect(decodeWireError(unknownResp!.body).code).toBe(Errors.UNSUPPORTED_VERSION.code);
    expect(okResp).toMatchObject({ type: 0, requestId: 43 });
  });

  it("answers an unsupported version with UNSUPPORTED_VERSION", async () => {
    const { good } = await setup();
    const v5: ApiDef = { ...ApiKeys.DATABASE_EXISTS, maxVersion: 5 };
    const err = await good.request(v5, { databaseName: "x" }, { apiVersion: 5 }).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.UNSUPPORTED_VERSION)).toBe(true);
    expect((err as Error).message).toMatch(/version 5 is not supported \(supported: 0-0\)/);
    await stillServes(good);
  });

  it("closes only the connection that sent a truncated frame", async () => {
    const { server, good } = await setup();
    const s = await raw(server);
    const frame = existsFrame(1);
    s.end(frame.subarray(0, frame.byteLength - 3));
    expect((await readUntilClose(s)).byteLength).toBe(0);
    await stillServes(good);
  });

  it("sends a server failure and closes the connection on a negative length", async () => {
    const { server, good, logger } = await setup();
    const s = await raw(server);
    const closed = readUntilClose(s);
    s.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    expectServerFailure(await closed, /negative/);
    expect(logger.entries.some((e) => e.level === "warn" && e.msg.includes("malformed"))).toBe(true);
    await stillServes(good);
  });

  it("refuses a frame over frameBytesMax before reading its body", async () => {
    const { server, good } = await setup({ frameBytesMax: 1024 });
    const s = await raw(server);
    const closed = readUntilClose(s);
    s.write(Buffer.from([0x00, 0x10, 0x00, 0x00])); // declares 1 MiB, sends nothing more
    expectServerFailure(await closed, /over the limit of 1024 bytes/);
    await stillServes(good);
    const s2 = await raw(server);
    const closed2 = readUntilClose(s2);
    s2.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    expectServerFailure(await closed2, /over the limit/);
  });

  it("closes the connection on a frame shorter than the request header", async () => {
    const { server, good } = await setup();
    const s = await raw(server);
    const closed = readUntilClose(s);
    s.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    expectServerFailure(await closed, /shorter than its header/);
    await stillServes(good);
  });

  it("closes the connection on a valid header with a garbage protobuf body", async () => {
    const { server, good } = await setup();
    const s = await raw(server);
    const closed = readUntilClose(s);
    s.write(encodeRequestFrame(1004, 0, 9, Buffer.alloc(11, 0xff)));
    expectServerFailure(await closed, /undecodable DATABASE_EXISTS request/);
    await stillServes(good);
  });

  it("survives random bytes on many connections", async () => {
    const { server, good } = await setup({ frameBytesMax: 64 * 1024 });
    for (let seed = 1; seed <= 20; seed++) {
      const s = await raw(server);
      const closed = readUntilClose(s);
      s.end(seededBytes(seed, 1 + ((seed * 997) % 5000)));
      await closed;
    }
    await stillServes(good);
    expect(server.connectionCount).toBe(1);
  });

  it("answers frames that arrive one byte at a time", async () => {
    const { server } = await setup();
    const s = await raw(server);
    const response = readBytes(s, 11 * 2);
    const bytes = Buffer.concat([existsFrame(1), existsFrame(2)]);
    for (const b of bytes) {
      s.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const out = await response;
    expect(out.toString("hex")).toBe("0000000700000000010801" + "0000000700000000020801");
  });

  it("answers 5000 frames from one write with a synchronous handler (no recursion)", async () => {
    const { server } = await setup();
    const s = await raw(server);
    const frames = readFrames(s, 5000);
    s.write(Buffer.concat(Array.from({ length: 5000 }, (_, i) => existsFrame(i))));
    const ids = (await frames)
      .map((f) => parseResponseFrame(f))
      .map((r) => (r.type === 0 ? r.requestId : -1));
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("pauses reading at requestsInFlightMax (backpressure)", async () => {
    const { server } = await setup({ requestsInFlightMax: 4 });
    let running = 0;
    let runningMax = 0;
    const gates: Array<() => void> = [];
    server.handle(ApiKeys.LIST_TABLES, async () => {
      running++;
      runningMax = Math.max(runningMax, running);
      const d = deferred();
      gates.push(d.resolve);
      await d.promise;
      running--;
      return { tableName: [] };
    });
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
    cleanups.push(() => conn.close());
    const calls = Array.from({ length: 40 }, () => conn.request(ApiKeys.LIST_TABLES, { databaseName: "d" }));
    while (gates.length < 4) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(running).toBe(4); // the other 36 are sent but not taken from the socket
    const pump = setInterval(() => {
      for (const g of gates.splice(0)) g();
    }, 1);
    await Promise.all(calls);
    clearInterval(pump);
    expect(runningMax).toBe(4);
  });

  it("refuses connections beyond connectionsMax", async () => {
    const { server, good, logger } = await setup({ connectionsMax: 1 });
    const extra = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
    cleanups.push(() => extra.close());
    const err = await extra.request(ApiKeys.DATABASE_EXISTS, { databaseName: "x" }).catch((e: unknown) => e);
    expect(isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(logger.entries.some((e) => e.msg.includes("connection refused"))).toBe(true);
    await stillServes(good);
  });

  it("aborts the handler signal when the connection closes", async () => {
    const { server } = await setup();
    const aborted = deferred();
    const started = deferred();
    server.handle(ApiKeys.LIST_TABLES, (_req, ctx) => {
      ctx.signal.addEventListener("abort", () => aborted.resolve());
      started.resolve();
      return new Promise(() => {});
    });
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
    conn.request(ApiKeys.LIST_TABLES, { databaseName: "d" }).catch(() => {});
    await started.promise;
    await conn.close();
    await aborted.promise;
  });

  it("close() answers running requests, then ends connections and stops accepting", async () => {
    const { server, good } = await setup();
    const gate = deferred();
    const started = deferred();
    server.handle(ApiKeys.LIST_TABLES, async () => {
      started.resolve();
      await gate.promise;
      return { tableName: ["done"] };
    });
    const running = good.request(ApiKeys.LIST_TABLES, { databaseName: "d" });
    await started.promise;
    const closing = server.close();
    setTimeout(() => gate.resolve(), 10);
    expect((await running).tableName).toEqual(["done"]);
    await closing;
    const err = await good.closed;
    expect(err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    await expect(
      RpcConnection.connect({ host: "127.0.0.1", port: server.address.port }),
    ).rejects.toMatchObject({
      code: Errors.NETWORK_EXCEPTION.code,
    });
  });

  it("close() gives up on handlers after closeTimeoutMs", async () => {
    const { server, good, logger } = await setup({ closeTimeoutMs: 30 });
    const started = deferred();
    server.handle(ApiKeys.LIST_TABLES, () => {
      started.resolve();
      return new Promise(() => {});
    });
    const hanging = good.request(ApiKeys.LIST_TABLES, { databaseName: "d" }).catch((e: unknown) => e);
    await started.promise;
    await server.close();
    const err = await hanging;
    expect(isFlussError(err) && err.is(Errors.NETWORK_EXCEPTION)).toBe(true);
    expect(logger.entries.some((e) => e.msg.includes("still running"))).toBe(true);
  });
});

describe("RequestContext.onResponseSent", () => {
  it("runs after the response was written, also for failed handlers", async () => {
    const server = new RpcServerClass();
    const order: string[] = [];
    server.handle(ApiKeys.DATABASE_EXISTS, (req, ctx) => {
      ctx.onResponseSent(() => order.push(`sent ${req.databaseName}`));
      if (req.databaseName === "bad") throw new Error("boom");
      order.push(`handled ${req.databaseName}`);
      return { exists: true };
    });
    const addr = await server.listen();
    const c = await RpcConnection.connect({ host: addr.host, port: addr.port });
    await c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "a" });
    await c.request(ApiKeys.DATABASE_EXISTS, { databaseName: "bad" }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(["handled a", "sent a", "sent bad"]);
    await c.close();
    await server.close();
  });
});
