// The zero-copy encoder against protobuf-es: for random messages of every fast schema (each
// optional field omitted, set, or an own property holding undefined; edge int32/int64 values,
// non-ASCII and lone-surrogate strings, empty and large bytes, views with an offset) the parts
// must concatenate to exactly `toBinary`'s bytes, large values must be the caller's own arrays,
// and whatever the encoder refuses must fall back to protobuf-es with the same bytes or error.

import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { create, fromBinary, isFieldSet, ScalarType, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeMessageParts, fastEncodeParts, fastSchemas, hasFastEncoder } from "../src/fast-encode.ts";
import type { FrameParts } from "../src/frame.ts";
import {
  DatabaseExistsResponseSchema,
  FetchLogResponseSchema,
  ProduceLogRequestSchema,
  PutKvRequestSchema,
} from "../src/gen/fluss/api_pb.ts";
import { hex, seededBytes } from "./helpers.ts";

type Fields = Record<string, unknown>;

const OMIT = Symbol("omit");

const int32Arb = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.constantFrom(0, 1, -1, 127, 128, 16_383, 16_384, 0x7fffffff, -0x80000000, -300),
);
const int64Arb = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 42n }),
  fc.constantFrom(
    0n,
    1n,
    -1n,
    127n,
    128n,
    2n ** 28n - 1n,
    2n ** 28n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 63n - 1n,
  ),
  fc.constant(-(2n ** 63n)),
);
const stringArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }), // lone surrogates included
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ minLength: 120, maxLength: 300 }),
);
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constant(new Uint8Array(0)),
  fc.integer({ min: 0, max: 70_000 }).map((n) => seededBytes(n + 1, n)),
  fc.integer({ min: 2, max: 5000 }).map((n) => seededBytes(n, n).subarray(1, n - 1)), // a view at an offset
);

function scalarArb(scalar: ScalarType): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.INT32:
      return int32Arb;
    case ScalarType.INT64:
      return int64Arb;
    case ScalarType.UINT32:
      return fc.integer({ min: 0, max: 0xffffffff });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return stringArb;
    case ScalarType.BYTES:
      return bytesArb;
    default:
      throw new Error(`no arbitrary for scalar ${scalar}`);
  }
}

function fieldArb(field: DescField): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarArb(field.scalar);
    case "enum":
      return int32Arb;
    case "message":
      return fc.constant(null).chain(() => messageArb(field.message));
    case "list":
      if (field.listKind === "message") {
        return fc.array(
          fc.constant(null).chain(() => messageArb(field.message)),
          { maxLength: 3 },
        );
      }
      return fc.array(scalarArb(field.listKind === "enum" ? ScalarType.INT32 : field.scalar), {
        maxLength: 6,
      });
    default:
      throw new Error(`no arbitrary for ${field.fieldKind}`);
  }
}

/** A message built by assignment: an optional field is omitted, set, or an own undefined. */
function messageArb(desc: DescMessage): fc.Arbitrary<Fields> {
  const fieldArbs = desc.fields.map((f) => {
    const value = fieldArb(f);
    if (f.fieldKind === "list" || f.presence === 3) return value; // lists, required fields
    return fc.oneof(fc.constant(OMIT), fc.constant(undefined), value);
  });
  return fc.tuple(...fieldArbs).map((values) => {
    const msg = create(desc) as unknown as Fields;
    desc.fields.forEach((f, i) => {
      if (values[i] !== OMIT) msg[f.localName] = values[i];
    });
    return msg;
  });
}

const fastDescs = [...fastSchemas];
const anyFastMessage = fc
  .constantFrom(...fastDescs)
  .chain((desc) => messageArb(desc).map((msg) => ({ desc, msg })));
const copyBytesMaxArb = fc.constantFrom(0, 1, 16, 1024, 16 * 1024, Number.POSITIVE_INFINITY);

function joined(frame: FrameParts): Buffer {
  return Buffer.concat(frame.parts);
}

/** Every `bytes` value of the message (nested included), in no particular order. */
function bytesValues(desc: DescMessage, msg: Fields, out: Uint8Array[] = []): Uint8Array[] {
  for (const f of desc.fields) {
    const v = msg[f.localName];
    if (v === undefined) continue;
    if (f.fieldKind === "scalar" && f.scalar === ScalarType.BYTES) out.push(v as Uint8Array);
    if (f.fieldKind === "message") bytesValues(f.message, v as Fields, out);
    if (f.fieldKind === "list" && f.listKind === "scalar" && f.scalar === ScalarType.BYTES) {
      out.push(...(v as Uint8Array[]));
    }
    if (f.fieldKind === "list" && f.listKind === "message") {
      for (const item of v as Fields[]) bytesValues(f.message, item, out);
    }
  }
  return out;
}

/** Presence of every field, recursively, as isFieldSet reports it. */
function presence(desc: DescMessage, msg: Fields): unknown {
  return desc.fields.map((f) => {
    const set = isFieldSet(msg as never, f);
    if (!set) return false;
    if (f.fieldKind === "message") return presence(f.message, msg[f.localName] as Fields);
    if (f.fieldKind === "list" && f.listKind === "message") {
      return (msg[f.localName] as Fields[]).map((item) => presence(f.message, item));
    }
    return true;
  });
}

describe("fastEncodeParts", () => {
  it("compiles a plan for every fast schema", () => {
    for (const desc of fastDescs) expect(hasFastEncoder(desc), desc.typeName).toBe(true);
    expect(hasFastEncoder(DatabaseExistsResponseSchema)).toBe(false);
  });

  it("writes the bytes toBinary writes, large values by reference", () => {
    fc.assert(
      fc.property(
        anyFastMessage,
        copyBytesMaxArb,
        fc.constantFrom(0, 9, 12),
        ({ desc, msg }, max, header) => {
          const expected = toBinary(desc, msg as never);
          const frame = fastEncodeParts(desc, msg, header, max);
          expect(frame).toBeDefined();
          const all = joined(frame!);
          expect(frame!.bodyBytes).toBe(expected.byteLength);
          expect(frame!.headerBytes).toBe(header);
          expect(all.byteLength).toBe(header + expected.byteLength);
          expect(hex(all.subarray(header))).toBe(hex(expected));
          // large values are the caller's arrays; every other part is a piece of one buffer
          const large = bytesValues(desc, msg).filter((b) => b.byteLength > max);
          for (const b of large) expect(frame!.parts.includes(b)).toBe(true);
          const own = frame!.parts.filter((p) => !large.includes(p));
          expect(own.length).toBeGreaterThan(0);
          for (const p of own) expect(p.buffer).toBe(frame!.parts[0]!.buffer);
          if (max === Number.POSITIVE_INFINITY) expect(frame!.parts.length).toBe(1);
          // and presence survives the round trip
          const back = fromBinary(desc, all.subarray(header)) as unknown as Fields;
          expect(presence(desc, back)).toEqual(presence(desc, msg));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("encodes a ProduceLog request byte for byte (negative int32 as 10 bytes)", () => {
    const records = new Uint8Array([1, 2, 3]);
    const msg = create(ProduceLogRequestSchema, {
      acks: -1,
      tableId: 1n,
      timeoutMs: 30_000,
      bucketsReq: [{ bucketId: 0, records }],
    });
    const frame = fastEncodeParts(ProduceLogRequestSchema, msg, 2, 2)!;
    expect(frame.parts.length).toBe(2);
    // after the 2 bytes of header room: acks -1 · table id 1 · timeout 30000 · bucket (id 0, records)
    expect(hex(frame.parts[0]!.subarray(2))).toBe(
      "08ffffffffffffffffff01" + "1001" + "18b0ea01" + "2207" + "1000" + "1a03",
    );
    expect(frame.parts[1]).toBe(records);
    expect(hex(joined(frame).subarray(2))).toBe(hex(toBinary(ProduceLogRequestSchema, msg)));
  });

  it("tells empty bytes from unset bytes, and writes packed target columns", () => {
    const set = create(FetchLogResponseSchema, {
      tablesResp: [{ tableId: 5n, bucketsResp: [{ bucketId: 1, records: new Uint8Array(0) }] }],
    });
    const unset = create(FetchLogResponseSchema, {
      tablesResp: [{ tableId: 5n, bucketsResp: [{ bucketId: 1 }] }],
    });
    for (const msg of [set, unset]) {
      const frame = fastEncodeParts(FetchLogResponseSchema, msg, 0, 0)!;
      expect(hex(joined(frame))).toBe(hex(toBinary(FetchLogResponseSchema, msg)));
    }
    expect(joined(fastEncodeParts(FetchLogResponseSchema, set, 0, 0)!).byteLength).toBe(
      joined(fastEncodeParts(FetchLogResponseSchema, unset, 0, 0)!).byteLength + 2,
    );
    const kv = create(PutKvRequestSchema, {
      acks: 1,
      tableId: 2n,
      timeoutMs: 3,
      targetColumns: [0, 300, -1],
      bucketsReq: [{ bucketId: 0, records: new Uint8Array(5) }],
    });
    const frame = fastEncodeParts(PutKvRequestSchema, kv, 0, 0)!;
    expect(hex(joined(frame))).toContain("220d" + "00" + "ac02" + "ffffffffffffffffff01");
    expect(hex(joined(frame))).toBe(hex(toBinary(PutKvRequestSchema, kv)));
  });
});

describe("fallback to protobuf-es", () => {
  const valid = (): Fields =>
    create(ProduceLogRequestSchema, {
      acks: 1,
      tableId: 7n,
      timeoutMs: 100,
      bucketsReq: [{ bucketId: 3, records: seededBytes(1, 100) }],
    }) as unknown as Fields;
  const bucket = (m: Fields): Fields => (m.bucketsReq as Fields[])[0]!;

  /** Same bytes as toBinary, or the same error. */
  function expectSameAsToBinary(msg: Fields): void {
    let expected: Uint8Array | Error;
    try {
      expected = toBinary(ProduceLogRequestSchema, msg as never);
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) {
      expect(() => encodeMessageParts(ProduceLogRequestSchema, msg as never, 0, 0)).toThrow(expected.message);
    } else {
      const frame = encodeMessageParts(ProduceLogRequestSchema, msg as never, 0, 0);
      expect(hex(joined(frame))).toBe(hex(expected));
    }
  }

  const cases: Array<[string, (m: Fields) => void]> = [
    ["a required field unset", (m) => delete m.tableId],
    ["a required nested field unset", (m) => delete bucket(m).bucketId],
    ["an int32 out of range", (m) => (m.acks = 2 ** 31)],
    ["a fractional int32", (m) => (m.timeoutMs = 1.5)],
    ["an int64 as a number", (m) => (m.tableId = 7)],
    ["an int64 as a string", (m) => (m.tableId = "7")],
    ["an int64 out of range", (m) => (m.tableId = 2n ** 63n)],
    ["bytes as a plain array", (m) => (bucket(m).records = [1, 2, 3])],
    [
      "a nested plain object",
      (m) => ((m.bucketsReq as unknown[])[0] = { bucketId: 1, records: new Uint8Array(1) }),
    ],
    ["a hole in a list", (m) => ((m.bucketsReq as unknown[]).length = 2)],
    ["a message of another type", (m) => (m.$typeName = "fluss.Other")],
  ];
  for (const [name, spoil] of cases) {
    it(`leaves ${name} to protobuf-es`, () => {
      const msg = valid();
      spoil(msg);
      expect(fastEncodeParts(ProduceLogRequestSchema, msg, 0, 0)).toBeUndefined();
      expectSameAsToBinary(msg);
    });
  }

  it("leaves messages with unknown fields to protobuf-es, which keeps them", () => {
    const known = toBinary(ProduceLogRequestSchema, valid() as never);
    const withUnknown = Buffer.concat([known, Buffer.from([0xf8, 0x01, 0x2a])]); // field 31 = 42
    const msg = fromBinary(ProduceLogRequestSchema, withUnknown) as unknown as Fields;
    expect(fastEncodeParts(ProduceLogRequestSchema, msg, 0, 0)).toBeUndefined();
    expect(hex(joined(encodeMessageParts(ProduceLogRequestSchema, msg as never, 0, 0)))).toBe(
      hex(withUnknown),
    );
  });

  it("encodes other schemas with toBinary, a large body as its own part", () => {
    const msg = create(DatabaseExistsResponseSchema, { exists: true });
    expect(fastEncodeParts(DatabaseExistsResponseSchema, msg, 0, 0)).toBeUndefined();
    const frame = encodeMessageParts(DatabaseExistsResponseSchema, msg, 9, 0);
    expect(frame.parts.map((p) => p.byteLength)).toEqual([9, 2]);
    expect(hex(frame.parts[1]!)).toBe("0801");
  });
});
