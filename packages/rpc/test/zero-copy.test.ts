// The fast encoder wired into both ends: a ProduceLog request leaves the client with the caller's
// records array itself as a frame part, a FetchLog response leaves the server with the handler's
// records array itself, and both arrive intact (same bytes as protobuf-es would have sent).

import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import { RpcConnection } from "../src/connection.ts";
import { FrameDecoder, parseRequestFrame } from "../src/frame.ts";
import { ProduceLogRequestSchema } from "../src/gen/fluss/api_pb.ts";
import type { Transport } from "../src/transport.ts";
import { hex, seededBytes, startServer } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("zero-copy data path", () => {
  it("writes ProduceLog records from the caller's array, in one corked batch", async () => {
    const written: Uint8Array[] = [];
    let corks = 0;
    const conn = await RpcConnection.connect({
      host: "fake",
      port: 1,
      connector: async () => {
        const transport: Transport = {
          write: (chunk) => written.push(chunk) > 0,
          cork: () => corks++,
          uncork: () => {},
          pause: () => {},
          resume: () => {},
          end: () => {},
          destroy: () => {},
          remoteAddress: undefined,
        };
        return transport;
      },
    });
    cleanups.push(() => conn.close());
    const records = seededBytes(7, 256 * 1024);
    const small = seededBytes(8, 100);
    const request = {
      acks: -1,
      tableId: 9n,
      timeoutMs: 1000,
      bucketsReq: [
        { bucketId: 0, records },
        { bucketId: 1, partitionId: 4n, records: small },
      ],
    };
    void conn.request(ApiKeys.PRODUCE_LOG, request).catch(() => {});
    expect(corks).toBe(1);
    expect(written).toContain(records); // by reference
    expect(written).not.toContain(small); // copied next to its header
    const decoder = new FrameDecoder();
    for (const chunk of written) decoder.push(chunk);
    const frame = parseRequestFrame(decoder.next()!);
    expect(frame).toMatchObject({ apiKey: ApiKeys.PRODUCE_LOG.key, apiVersion: 0, requestId: 0 });
    const expected = toBinary(ProduceLogRequestSchema, create(ProduceLogRequestSchema, request));
    expect(hex(frame.body)).toBe(hex(expected));
  });

  it("round-trips large ProduceLog records and FetchLog records through a real server", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    const fetched = seededBytes(11, 256 * 1024);
    let produced: Uint8Array | undefined;
    server.handle(ApiKeys.PRODUCE_LOG, (req) => {
      produced = Buffer.from(req.bucketsReq[0]!.records);
      return { bucketsResp: [{ bucketId: 0, baseOffset: 5n }] };
    });
    server.handle(ApiKeys.FETCH_LOG, () => ({
      tablesResp: [{ tableId: 1n, bucketsResp: [{ bucketId: 0, highWatermark: 42n, records: fetched }] }],
    }));
    const socketWrite = vi.spyOn(net.Socket.prototype, "write");
    const conn = await RpcConnection.connect({ host: "127.0.0.1", port: server.address.port });
    cleanups.push(() => conn.close());

    const records = seededBytes(10, 256 * 1024);
    const produceResp = await conn.request(ApiKeys.PRODUCE_LOG, {
      acks: -1,
      tableId: 1n,
      timeoutMs: 1000,
      bucketsReq: [{ bucketId: 0, records }],
    });
    expect(produceResp.bucketsResp[0]!.baseOffset).toBe(5n);
    expect(Buffer.compare(produced!, records)).toBe(0);

    const fetchResp = await conn.request(ApiKeys.FETCH_LOG, {
      followerServerId: -1,
      maxBytes: 2 << 20,
      tablesReq: [
        {
          tableId: 1n,
          projectionPushdownEnabled: false,
          bucketsReq: [{ bucketId: 0, fetchOffset: 0n, maxFetchBytes: 2 << 20 }],
        },
      ],
    });
    const bucket = fetchResp.tablesResp[0]!.bucketsResp[0]!;
    expect(bucket.highWatermark).toBe(42n);
    expect(Buffer.compare(bucket.records, fetched)).toBe(0);
    // both large arrays went to a socket as they were (the response maybe cut in slices: views)
    const chunks = socketWrite.mock.calls.map((args) => args[0]);
    expect(chunks).toContain(records);
    const views = chunks.filter(
      (c): c is Uint8Array => c instanceof Uint8Array && c.buffer === fetched.buffer,
    );
    expect(views.reduce((n, v) => n + v.byteLength, 0)).toBe(fetched.byteLength);
  });
});
