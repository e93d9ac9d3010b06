// Resource bounds of the RPC server against stalled and idle peers (issue 11 item 9): a
// server-wide budget of bytes held for incoming requests (reading pauses, nobody well-behaved is
// killed), a read timeout for a started frame, an idle-connection timeout. Real sockets on port 0.

import type net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Errors } from "@fluss-ts/common";
import { afterEach, describe, expect, it } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";
import { encodeRequestFrame, parseResponseFrame } from "../src/frame.ts";
import { DatabaseExistsRequestSchema } from "../src/gen/fluss/api_pb.ts";
import type { RpcServer, RpcServerOptions } from "../src/server.ts";
import { deferred, rawConnect, readFrames, recordingLogger, startServer } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const KiB = 1024;
/** Node reads a socket in chunks of at most this many bytes. */
const socketReadBytesMax = 64 * KiB;

async function setup(options: RpcServerOptions) {
  const logger = recordingLogger();
  const server = await startServer({ logger, ...options });
  server.handle(ApiKeys.DATABASE_EXISTS, (req) => ({ exists: req.databaseName === "yes" }));
  cleanups.push(() => server.close());
  const good = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
  cleanups.push(() => good.close());
  return { server, logger, good };
}

async function raw(server: RpcServer): Promise<net.Socket> {
  const s = await rawConnect(server.address.port);
  s.on("error", () => {});
  cleanups.push(() => s.destroy());
  return s;
}

/** A DatabaseExists frame whose whole size (length prefix included) is `frameBytes`. */
function frameOfSize(frameBytes: number, requestId = 1): Buffer {
  // 12 bytes of frame header, then the name field: a tag byte, a varint length, the characters
  const varintBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : 3);
  let chars = frameBytes - 12 - 4;
  while (12 + 1 + varintBytes(chars) + chars < frameBytes) chars++;
  const name = "x".repeat(chars);
  const body = toBinary(
    DatabaseExistsRequestSchema,
    create(DatabaseExistsRequestSchema, { databaseName: name }),
  );
  const frame = Buffer.from(encodeRequestFrame(1004, 0, requestId, body));
  expect(frame.byteLength).toBe(frameBytes);
  return frame;
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function closeOf(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.once("close", () => resolve());
  });
}

describe("request buffer bound (rpc.request.buffer-bytes-max)", () => {
  it("holds stalled half frames within the bound, pausing reads, while a normal client is served", async () => {
    const frameBytes = 300 * KiB;
    const bytesMax = 1024 * KiB; // three such frames fit, with room left for small requests
    const { server, good } = await setup({
      frameBytesMax: 512 * KiB,
      requestBufferBytesMax: bytesMax,
      requestReadTimeoutMs: 60_000,
    });
    const stalled: net.Socket[] = [];
    for (let i = 0; i < 32; i++) {
      const s = await raw(server);
      s.write(frameOfSize(frameBytes).subarray(0, 150 * KiB)); // half a frame, then nothing
      stalled.push(s);
    }
    // 3 frames hold a reservation; the other 29 connections stop reading after their first chunk
    const heldBytesMax = 3 * frameBytes + 29 * socketReadBytesMax;
    await until(
      "29 connections wait for the buffer (or the bound is broken)",
      () =>
        server.requestBufferStats().waitingConnections === 29 ||
        server.requestBufferStats().heldBytes > heldBytesMax,
    );
    const stats = server.requestBufferStats();
    // bytes actually held: the 3 reserved halves plus at most one socket read per paused connection
    expect(stats.heldBytes).toBeLessThanOrEqual(heldBytesMax);
    expect(stats.reservedBytes).toBe(3 * frameBytes);
    expect(stats.reservedBytesPeak).toBeLessThanOrEqual(bytesMax);
    // a well-behaved client keeps working meanwhile (small requests fit in what is left)
    for (let i = 0; i < 20; i++) {
      expect((await good.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" })).exists).toBe(true);
    }
    // when reserved connections go away, waiting ones get their turn
    for (const s of stalled.slice(0, 32)) s.destroy();
    await until("every stalled connection is gone", () => server.connectionCount === 1);
    expect(server.requestBufferStats()).toMatchObject({
      reservedBytes: 0,
      waitingConnections: 0,
      heldBytes: 0,
    });
    expect(server.requestBufferStats().reservedBytesPeak).toBeLessThanOrEqual(bytesMax);
  });

  it("lets a waiting connection finish once bytes are released (no lost wake-up)", async () => {
    const frameBytes = 300 * KiB;
    const { server } = await setup({
      frameBytesMax: 512 * KiB,
      requestBufferBytesMax: 512 * KiB, // one such frame at a time
      requestReadTimeoutMs: 60_000,
    });
    const first = await raw(server);
    const firstFrame = frameOfSize(frameBytes, 1);
    first.write(firstFrame.subarray(0, 100 * KiB));
    await until(
      "the first frame holds its reservation",
      () => server.requestBufferStats().reservedBytes === frameBytes,
    );
    const second = await raw(server);
    const secondAnswer = readFrames(second, 1);
    second.write(frameOfSize(frameBytes, 2)); // complete, but must wait for the budget
    await until("the second connection waits", () => server.requestBufferStats().waitingConnections === 1);
    const firstAnswer = readFrames(first, 1);
    first.write(firstFrame.subarray(100 * KiB)); // the first frame completes and is answered
    expect(parseResponseFrame((await firstAnswer)[0]!)).toMatchObject({ type: 0, requestId: 1 });
    expect(parseResponseFrame((await secondAnswer)[0]!)).toMatchObject({ type: 0, requestId: 2 });
    expect(server.requestBufferStats().reservedBytesPeak).toBeLessThanOrEqual(512 * KiB);
  });

  it("completes concurrent large frames that together exceed the budget (no deadlock on partial frames)", async () => {
    const frameBytes = 200 * KiB;
    const { server } = await setup({
      frameBytesMax: 256 * KiB,
      requestBufferBytesMax: 256 * KiB, // one frame at a time; each started frame can finish
      requestReadTimeoutMs: 60_000,
    });
    const answers: Array<Promise<Uint8Array[]>> = [];
    for (let i = 0; i < 6; i++) {
      const s = await raw(server);
      answers.push(readFrames(s, 1));
      s.write(frameOfSize(frameBytes, i));
    }
    const frames = await Promise.all(answers);
    expect(frames.map((f) => parseResponseFrame(f[0]!).type)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(server.requestBufferStats().reservedBytesPeak).toBeLessThanOrEqual(256 * KiB);
  });

  it("refuses a budget smaller than the largest frame", async () => {
    await expect(
      startServer({ frameBytesMax: 1024 * KiB, requestBufferBytesMax: 512 * KiB }),
    ).rejects.toThrow(/requestBufferBytesMax .* must be at least frameBytesMax/);
  });
});

describe("read timeout of a started frame (rpc.request.read-timeout)", () => {
  it("closes a connection whose frame stalls half-way, logs it, and keeps serving others", async () => {
    const { server, good, logger } = await setup({ requestReadTimeoutMs: 100 });
    const s = await raw(server);
    const closed = closeOf(s);
    s.write(frameOfSize(4 * KiB).subarray(0, 1000));
    await closed;
    const line = logger.entries.find((e) => e.msg.includes("not received in time"));
    expect(line?.level).toBe("warn");
    expect(line?.obj).toMatchObject({ frameBytes: 4 * KiB, receivedBytes: 1000, timeoutMs: 100 });
    await until("the frame's reservation is released", () => server.requestBufferStats().reservedBytes === 0);
    expect((await good.request(ApiKeys.DATABASE_EXISTS, { databaseName: "yes" })).exists).toBe(true);
  });

  it("does not count time the server itself paused reading", async () => {
    const { server } = await setup({ requestReadTimeoutMs: 50, requestsInFlightMax: 1 });
    const gate = deferred<void>();
    server.handle(ApiKeys.LIST_TABLES, async () => {
      await gate.promise;
      return { tableName: ["t"] };
    });
    const s = await raw(server);
    const answers = readFrames(s, 2);
    const listTables = encodeRequestFrame(1008, 0, 7, new Uint8Array([0x0a, 0x01, 0x64]));
    const second = frameOfSize(2 * KiB, 8);
    // one request in flight (the limit): reading pauses with half of the next frame read
    s.write(Buffer.concat([listTables, second.subarray(0, 1000)]));
    await new Promise((r) => setTimeout(r, 300)); // six read timeouts
    expect(s.destroyed).toBe(false);
    gate.resolve();
    s.write(second.subarray(1000));
    const ids = (await answers)
      .map((f) => parseResponseFrame(f))
      .map((r) => (r.type === 2 ? -1 : r.requestId));
    expect(ids.sort()).toEqual([7, 8]);
  });
});

describe("idle connections (connections.max.idle.ms)", () => {
  it("closes a connection without traffic, but not one with a request in flight", async () => {
    const { server, logger } = await setup({ connectionIdleMsMax: 100 });
    const gate = deferred<void>();
    server.handle(ApiKeys.LIST_TABLES, async () => {
      await gate.promise;
      return { tableName: ["t"] };
    });
    const idle = await raw(server);
    const busy = await raw(server);
    const answer = readFrames(busy, 1);
    busy.write(encodeRequestFrame(1008, 0, 1, new Uint8Array([0x0a, 0x01, 0x64])));
    await closeOf(idle);
    expect(logger.entries.some((e) => e.msg === "idle connection closed")).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // three idle periods with the request in flight
    expect(busy.destroyed).toBe(false);
    gate.resolve();
    expect(parseResponseFrame((await answer)[0]!)).toMatchObject({ type: 0, requestId: 1 });
    await closeOf(busy); // idle once answered
  });
});

describe("client-side idle close (RpcConnection idleMsMax)", () => {
  it("closes an idle client connection before the server would, never one with a call pending", async () => {
    const { server } = await setup({ connectionIdleMsMax: 60_000 });
    const gate = deferred<void>();
    server.handle(ApiKeys.LIST_TABLES, async () => {
      await gate.promise;
      return { tableName: ["t"] };
    });
    const c = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port, idleMsMax: 100 });
    cleanups.push(() => c.close());
    const pending = c.request(ApiKeys.LIST_TABLES, { databaseName: "d" });
    await new Promise((r) => setTimeout(r, 300)); // three idle periods with a call pending
    expect(c.isOpen).toBe(true);
    gate.resolve();
    expect((await pending).tableName).toEqual(["t"]);
    const cause = await c.closed; // idle once answered
    expect(cause.is(Errors.NETWORK_EXCEPTION) && cause.message.includes("idle")).toBe(true);
    expect(c.isOpen).toBe(false);
  });
});
