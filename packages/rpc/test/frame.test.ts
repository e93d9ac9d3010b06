import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Errors, isFlussError } from "@fluss-ts/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiKeys } from "../src/api-keys.ts";
import {
  bodyFrameParts,
  decodeWireError,
  encodeErrorFrame,
  encodeRequestFrame,
  encodeServerFailureFrame,
  encodeSuccessFrame,
  FrameDecoder,
  fillRequestHeader,
  fillResponseHeader,
  parseRequestFrame,
  parseResponseFrame,
  requestFrameHeaderBytes,
  responseFrameHeaderBytes,
} from "../src/frame.ts";
import { CreateDatabaseRequestSchema, DatabaseExistsResponseSchema } from "../src/gen/fluss/api_pb.ts";
import { hex } from "./helpers.ts";

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    decoder.push(c);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(f);
  }
  return out;
}

function expectProtocolError(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isFlussError(err) && err.is(Errors.PROTOCOL_ERROR)).toBe(true);
    expect((err as Error).message).toMatch(text);
    return;
  }
  throw new Error("expected a protocol error");
}

describe("frame encoding", () => {
  it("encodes a CreateDatabase request with Fluss's exact header", () => {
    const body = toBinary(
      CreateDatabaseRequestSchema,
      create(CreateDatabaseRequestSchema, { databaseName: "db", ignoreIfExists: true }),
    );
    const frame = encodeRequestFrame(ApiKeys.CREATE_DATABASE.key, 0, 7, body);
    // length 14 · api key 1001 · version 0 · request id 7 · body (field 1 "db", field 2 true)
    expect(hex(frame)).toBe("0000000e" + "03e9" + "0000" + "00000007" + "0a026462" + "1001");
    const parsed = parseRequestFrame(frame.subarray(4));
    expect(parsed).toMatchObject({ apiKey: 1001, apiVersion: 0, requestId: 7 });
    expect(fromBinary(CreateDatabaseRequestSchema, parsed.body).databaseName).toBe("db");
  });

  it("encodes the request id and api fields as signed big-endian", () => {
    const frame = encodeRequestFrame(1016, 2, 0x7fffffff, new Uint8Array(0));
    expect(hex(frame)).toBe("00000008" + "03f8" + "0002" + "7fffffff");
    expect(parseRequestFrame(frame.subarray(4))).toMatchObject({
      apiKey: 1016,
      apiVersion: 2,
      requestId: 0x7fffffff,
    });
    expect(() => encodeRequestFrame(1016, 0, 2 ** 31, new Uint8Array(0))).toThrow(/int32/);
  });

  it("fills a header into parts whose body is written by reference", () => {
    const body = new Uint8Array([1, 2, 3, 4]);
    const request = bodyFrameParts(body, requestFrameHeaderBytes, 3);
    const parts = fillRequestHeader(request, 1014, 0, 9);
    expect(parts.map(hex)).toEqual(["0000000c" + "03f6" + "0000" + "00000009", "01020304"]);
    expect(parts[1]).toBe(body);
    const response = fillResponseHeader(bodyFrameParts(body, responseFrameHeaderBytes), 0, 9);
    expect(response.map(hex)).toEqual(["00000009" + "00" + "00000009" + "01020304"]);
    // header room of the other kind of frame is a bug, not a frame
    expect(() => fillResponseHeader(request, 0, 1)).toThrow(/no room/);
  });

  it("round-trips a success response", () => {
    const body = toBinary(
      DatabaseExistsResponseSchema,
      create(DatabaseExistsResponseSchema, { exists: true }),
    );
    const frame = encodeSuccessFrame(4, body);
    expect(hex(frame)).toBe("00000007" + "00" + "00000004" + "0801");
    const parsed = parseResponseFrame(frame.subarray(4));
    expect(parsed.type).toBe(0);
    if (parsed.type === 2) throw new Error("unreachable");
    expect(parsed.requestId).toBe(4);
    expect(fromBinary(DatabaseExistsResponseSchema, parsed.body).exists).toBe(true);
  });

  it("round-trips an error response", () => {
    const frame = encodeErrorFrame(5, { code: 7, message: "x" });
    expect(hex(frame)).toBe("0000000a" + "01" + "00000005" + "0807120178");
    const parsed = parseResponseFrame(frame.subarray(4));
    expect(parsed).toMatchObject({ type: 1, requestId: 5 });
    expect(decodeWireError(parsed.body)).toEqual({ code: 7, message: "x" });
  });

  it("round-trips a server failure without a request id", () => {
    const frame = encodeServerFailureFrame({ code: 3, message: undefined });
    expect(hex(frame)).toBe("00000003" + "02" + "0803");
    const parsed = parseResponseFrame(frame.subarray(4));
    expect(parsed.type).toBe(2);
    expect(decodeWireError(parsed.body)).toEqual({ code: 3, message: undefined });
    const negative = parseResponseFrame(encodeServerFailureFrame({ code: -1, message: "boom" }).subarray(4));
    expect(decodeWireError(negative.body)).toEqual({ code: -1, message: "boom" });
  });

  it("rejects short headers and unknown response types", () => {
    expectProtocolError(() => parseRequestFrame(new Uint8Array(7)), /shorter than its header/);
    expectProtocolError(() => parseResponseFrame(new Uint8Array([0, 0, 0])), /shorter than its header/);
    expectProtocolError(() => parseResponseFrame(new Uint8Array([9, 0, 0, 0, 0])), /unknown response type 9/);
    expectProtocolError(() => parseResponseFrame(new Uint8Array(0)), /empty/);
  });
});

describe("FrameDecoder", () => {
  const frames = [
    encodeRequestFrame(1004, 0, 1, new Uint8Array([1, 2, 3])),
    encodeRequestFrame(1014, 0, 2, new Uint8Array(1000).fill(9)),
    encodeRequestFrame(1000, 0, 3, new Uint8Array(0)),
    encodeErrorFrame(4, { code: 12, message: "not leader" }),
  ];
  const stream = Buffer.concat(frames);
  const bodies = frames.map((f) => hex(f.subarray(4)));

  it("decodes a stream fed one byte at a time", () => {
    const chunks = [...stream].map((b) => new Uint8Array([b]));
    const decoder = new FrameDecoder();
    expect(decodeAll(decoder, chunks).map(hex)).toEqual(bodies);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("decodes many frames from one chunk without copying", () => {
    const decoder = new FrameDecoder();
    const out = decodeAll(decoder, [stream]);
    expect(out.map(hex)).toEqual(bodies);
    for (const f of out) expect(f.buffer).toBe(stream.buffer);
  });

  it("copies a frame spanning chunks exactly once into a buffer of its size", () => {
    const decoder = new FrameDecoder();
    const out = decodeAll(decoder, [stream.subarray(0, 30), stream.subarray(30)]);
    expect(out.map(hex)).toEqual(bodies);
    expect(out[1]!.byteLength).toBe(frames[1]!.byteLength - 4);
  });

  it("decodes any split of the stream identically", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.byteLength }), { maxLength: 20 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.byteLength];
        const chunks = points.slice(1).map((end, i) => stream.subarray(points[i]!, end));
        expect(decodeAll(new FrameDecoder(), chunks).map(hex)).toEqual(bodies);
      }),
    );
  });

  it("waits for more bytes and keeps a partial frame", () => {
    const decoder = new FrameDecoder();
    decoder.push(stream.subarray(0, 3));
    expect(decoder.next()).toBeUndefined();
    decoder.push(stream.subarray(3, 10));
    expect(decoder.next()).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(10);
  });

  it("refuses a negative length as soon as the prefix arrives", () => {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array([0xff, 0xff]));
    expect(decoder.next()).toBeUndefined();
    decoder.push(new Uint8Array([0xff, 0xfe]));
    expectProtocolError(() => decoder.next(), /negative/);
    expectProtocolError(() => decoder.next(), /negative/);
  });

  it("enforces frameBytesMax counting the length prefix", () => {
    const decoder = new FrameDecoder({ frameBytesMax: 16 });
    decoder.push(new Uint8Array([0, 0, 0, 12, ...new Uint8Array(12)]));
    expect(decoder.next()?.byteLength).toBe(12);
    decoder.push(new Uint8Array([0, 0, 0, 13]));
    expectProtocolError(() => decoder.next(), /over the limit of 16 bytes/);
    const big = new FrameDecoder();
    big.push(new Uint8Array([0x7f, 0xff, 0xff, 0xff]));
    expectProtocolError(() => big.next(), /over the limit/);
  });

  it("returns an empty frame for length 0", () => {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 42]));
    expect(decoder.next()?.byteLength).toBe(0);
    expect([...(decoder.next() ?? [])]).toEqual([42]);
  });
});
