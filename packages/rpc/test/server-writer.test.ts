// The server's response writer: a multi-MiB response reaches the socket in slices of at most
// `sliceBytesMax`, one per event-loop turn and after the socket drained, in queue order with other
// responses; a frame's completion (the pooled buffers' release) runs only once the socket's
// callback for its last byte ran, or when the connection closes with it unsent. Then the same
// through a real server and a client that stops reading: buffers overwritten at release never
// corrupt what the client receives.

import { EventEmitter } from "node:events";
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import { encodeRequestFrame, parseResponseFrame } from "../src/frame.ts";
import { ResponseWriter, type WritableSocket } from "../src/server-writer.ts";
import { rawConnect, readFrames, seededBytes, startServer } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A socket whose writes complete only when the test says the kernel took them. */
class FakeSocket extends EventEmitter implements WritableSocket {
  readonly writableHighWaterMark = 64 * 1024;
  writableLength = 0;
  writableNeedDrain = false;
  /** Chunks per uncorked batch (one writev each). */
  readonly batches: Uint8Array[][] = [];
  readonly pending: Array<{ bytes: number; cb?: (err?: Error | null) => void }> = [];
  #corked = 0;
  #batch: Uint8Array[] = [];
  ended = false;

  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean {
    this.#batch.push(chunk);
    if (this.#corked === 0) this.#seal();
    this.writableLength += chunk.byteLength;
    this.pending.push({ bytes: chunk.byteLength, cb });
    const ok = this.writableLength < this.writableHighWaterMark;
    if (!ok) this.writableNeedDrain = true;
    return ok;
  }
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    if (--this.#corked === 0 && this.#batch.length > 0) this.#seal();
  }
  end(cb?: () => void): void {
    this.ended = true;
    cb?.();
  }
  /** The kernel takes everything written so far. */
  takeAll(): void {
    for (const p of this.pending.splice(0)) {
      this.writableLength -= p.bytes;
      p.cb?.();
    }
    if (this.writableNeedDrain) {
      this.writableNeedDrain = false;
      this.emit("drain");
    }
  }
  #seal(): void {
    this.batches.push(this.#batch);
    this.#batch = [];
  }
}

function concat(batches: Uint8Array[][]): Buffer {
  return Buffer.concat(batches.flat());
}

describe("ResponseWriter", () => {
  it("writes a large frame in slices, one per turn after the socket drained, in order with others", async () => {
    const socket = new FakeSocket();
    const turns: Array<() => void> = [];
    const slice = 256 * 1024;
    const writer = new ResponseWriter(socket, { sliceBytesMax: slice, nextTurn: (fn) => turns.push(fn) });
    const a = seededBytes(1, 100);
    const bHead = seededBytes(2, 30);
    const bBody = seededBytes(3, 3 * 1024 * 1024 + 7);
    const bTail = seededBytes(4, 50);
    const c = seededBytes(5, 1000);
    const done: string[] = [];
    writer.write([a], () => done.push("a"));
    writer.write([bHead, bBody, bTail], () => done.push("b"));
    writer.write([c], () => done.push("c"));
    expect(socket.batches).toHaveLength(0); // the first flush runs on nextTick, with the whole tick's frames
    await new Promise((r) => process.nextTick(r));
    expect(socket.batches).toHaveLength(1);
    let guard = 0;
    while (writer.queuedBytes > 0) {
      expect(turns).toHaveLength(0); // nothing more until the socket drained
      socket.takeAll();
      expect(turns).toHaveLength(1); // ... and then only on the next turn
      turns.shift()!();
      expect(++guard).toBeLessThan(100);
    }
    const total = a.length + bHead.length + bBody.length + bTail.length + c.length;
    expect(socket.batches.length).toBe(Math.ceil(total / slice));
    for (const batch of socket.batches) {
      expect(batch.reduce((n, x) => n + x.byteLength, 0)).toBeLessThanOrEqual(slice);
    }
    expect(concat(socket.batches).equals(Buffer.concat([a, bHead, bBody, bTail, c]))).toBe(true);
    // the big body went out as views of its own memory, never copied
    const views = socket.batches.flat().filter((x) => x.buffer === bBody.buffer);
    expect(views.reduce((n, v) => n + v.byteLength, 0)).toBe(bBody.byteLength);
    expect(done).toEqual(["a"]); // b's and c's last bytes are written but not yet taken
    socket.takeAll();
    expect(done).toEqual(["a", "b", "c"]);
    expect(turns).toHaveLength(0);
  });

  it("runs a frame's completion only after the write holding its last byte completed", async () => {
    const socket = new FakeSocket();
    const turns: Array<() => void> = [];
    const writer = new ResponseWriter(socket, { sliceBytesMax: 1000, nextTurn: (fn) => turns.push(fn) });
    let released = 0;
    writer.write([seededBytes(1, 10), seededBytes(2, 2500)], () => released++);
    await new Promise((r) => process.nextTick(r));
    socket.takeAll(); // slice 1 of 3 taken
    turns.shift()!();
    socket.takeAll(); // slice 2 taken
    turns.shift()!();
    expect(released).toBe(0); // the last slice is written but the socket has not taken it
    expect(writer.queuedBytes).toBe(0);
    socket.takeAll();
    expect(released).toBe(1);
  });

  it("runs the completions of frames never sent when the connection closes, once", async () => {
    const socket = new FakeSocket();
    const turns: Array<() => void> = [];
    const writer = new ResponseWriter(socket, { sliceBytesMax: 1000, nextTurn: (fn) => turns.push(fn) });
    const done: string[] = [];
    writer.write([seededBytes(1, 5000)], () => done.push("big"));
    writer.write([seededBytes(2, 10)], () => done.push("small"));
    await new Promise((r) => process.nextTick(r));
    writer.close();
    expect(done).toEqual(["big", "small"]);
    writer.close();
    expect(done).toEqual(["big", "small"]);
  });

  it("ends the socket only after everything queued, the last frame included, was handed over", async () => {
    const socket = new FakeSocket();
    const turns: Array<() => void> = [];
    const writer = new ResponseWriter(socket, { sliceBytesMax: 1000, nextTurn: (fn) => turns.push(fn) });
    let ended = 0;
    writer.write([seededBytes(1, 2500)]);
    writer.end(() => ended++, seededBytes(2, 10));
    await new Promise((r) => process.nextTick(r));
    expect(socket.ended).toBe(false);
    socket.takeAll();
    turns.shift()!();
    socket.takeAll();
    turns.shift()!();
    expect(socket.ended).toBe(true);
    expect(ended).toBe(1);
    expect(concat(socket.batches).byteLength).toBe(2510);
  });
});

describe("large responses through a real server", () => {
  it("arrive intact and in order while a slow reader holds them; buffers are released only once the socket took them", async () => {
    const server = await startServer({ responseSliceBytesMax: 256 * 1024 });
    cleanups.push(() => server.close());
    const bodyBytes = 6 * 1024 * 1024;
    const expected = new Map<number, Buffer>();
    let released = 0;
    server.handle(ApiKeys.FETCH_LOG, (_req, ctx) => {
      const records = seededBytes(ctx.requestId + 1, bodyBytes);
      expected.set(ctx.requestId, Buffer.from(records));
      // as a pool would: the buffer is reused (here: zeroed) the moment it is released
      ctx.onResponseSent(() => {
        records.fill(0);
        released++;
      });
      return { tablesResp: [{ tableId: 1n, bucketsResp: [{ bucketId: 0, highWatermark: 1n, records }] }] };
    });
    server.handle(ApiKeys.DATABASE_EXISTS, (req) => ({ exists: req.databaseName === "yes" }));
    const socketWrite = vi.spyOn(net.Socket.prototype, "write");
    const client = await rawConnect(server.address.port);
    cleanups.push(() => client.destroy());
    const fetchBody = toBinary(
      ApiKeys.FETCH_LOG.request,
      create(ApiKeys.FETCH_LOG.request, { followerServerId: -1, maxBytes: 1 << 30 }),
    );
    const existsBody = toBinary(
      ApiKeys.DATABASE_EXISTS.request,
      create(ApiKeys.DATABASE_EXISTS.request, { databaseName: "yes" }),
    );
    const kinds: Array<"fetch" | "exists"> = ["fetch", "exists", "fetch", "exists", "fetch", "exists"];
    client.pause(); // a slow reader: the kernel buffers fill and the server must wait
    kinds.forEach((kind, id) => {
      const api = kind === "fetch" ? ApiKeys.FETCH_LOG : ApiKeys.DATABASE_EXISTS;
      client.write(encodeRequestFrame(api.key, 0, id, kind === "fetch" ? fetchBody : existsBody));
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(released).toBeLessThan(3); // 18 MiB cannot all sit in the kernel's buffers
    const frames = readFrames(client, kinds.length);
    client.resume();
    const responses = (await frames).map(parseResponseFrame);
    expect(responses.map((r) => ("requestId" in r ? r.requestId : -1))).toEqual(kinds.map((_, id) => id));
    responses.forEach((r, id) => {
      expect(r.type).toBe(0);
      if (kinds[id] === "exists") {
        expect(fromBinary(ApiKeys.DATABASE_EXISTS.response, r.body).exists).toBe(true);
        return;
      }
      const records = fromBinary(ApiKeys.FETCH_LOG.response, r.body).tablesResp[0]!.bucketsResp[0]!.records;
      expect(Buffer.from(records).equals(expected.get(id)!)).toBe(true);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toBe(3);
    const sizes = socketWrite.mock.calls.map((args) => (args[0] as Uint8Array).byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024); // no write of a whole 6 MiB body
  });
});
