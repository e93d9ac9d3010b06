// Round trips of every column type through build → IPC message (each compression) → decode →
// rows, with nulls and edge values; the stored Arrow values for temporal types; and interop with
// apache-arrow's own IPC reader and writer in both directions.

import {
  type Schema as ArrowSchema,
  CompressionType,
  Message,
  type RecordBatch,
  RecordBatchStreamWriter,
  tableFromIPC,
} from "apache-arrow";
import { describe, expect, it } from "vitest";
import { readMessageLayout } from "../src/arrow/ipc-metadata.ts";
import {
  type ArrowCompression,
  buildRecordBatch,
  decodeRecordBatchMessage,
  encodeRecordBatchMessage,
  ensureCodecsRegistered,
  type InputRow,
  parseSchema,
  readRows,
  rowToJson,
  toArrowSchema,
} from "../src/index.ts";

const schema = parseSchema(
  [
    "b BOOLEAN",
    "i8 TINYINT",
    "i16 SMALLINT",
    "i32 INT",
    "i64 BIGINT",
    "f32 FLOAT",
    "f64 DOUBLE",
    "d38 DECIMAL(38, 10)",
    "d5 DECIMAL(5, 2)",
    "s STRING",
    "c CHAR(3)",
    "bytes BYTES",
    "bin BINARY(4)",
    "day DATE",
    "t0 TIME(0)",
    "t3 TIME(3)",
    "t6 TIME(6)",
    "t9 TIME(9)",
    "ts0 TIMESTAMP(0)",
    "ts2 TIMESTAMP(2)",
    "ts3 TIMESTAMP(3)",
    "ts6 TIMESTAMP(6)",
    "ts9 TIMESTAMP(9)",
    "ltz3 TIMESTAMP_LTZ(3)",
    "ltz9 TIMESTAMP_LTZ(9)",
  ].join(", "),
);

const ISO = "2024-05-01T12:34:56.123456789";

const rowMin: InputRow = {
  b: false,
  i8: -128,
  i16: -32768,
  i32: -2147483648,
  i64: -(2n ** 63n),
  f32: -3.5,
  f64: -Number.MAX_VALUE,
  d38: "-1234567890123456789012345678.0123456789",
  d5: "-999.99",
  s: "",
  c: "é🌍x",
  bytes: new Uint8Array(0),
  bin: new Uint8Array([0, 0, 0, 0]),
  day: "0001-01-01",
  t0: "00:00:00",
  t3: "00:00:00.000",
  t6: "00:00:00.000001",
  t9: "00:00:00.000000001",
  ts0: "1969-12-31T23:59:59.999Z",
  ts2: ISO,
  ts3: ISO,
  ts6: ISO,
  ts9: ISO,
  ltz3: "2024-05-01T14:34:56.123+02:00",
  ltz9: "1969-12-31T23:59:59.999999999Z",
};

const rowMax: InputRow = {
  b: true,
  i8: 127,
  i16: "32767",
  i32: 2147483647n,
  i64: 2n ** 63n - 1n,
  f32: 1.5,
  f64: Number.MIN_VALUE,
  d38: "9999999999999999999999999999.9999999999",
  d5: 1.5,
  s: "héllo 🌍 日本 \u0000 end",
  c: "abc",
  bytes: "AAEC/w==",
  bin: "3q2+7w==",
  day: new Date(Date.UTC(9999, 11, 31)),
  t0: "23:59:59",
  t3: 45296789,
  t6: "23:59:59.999999",
  t9: "23:59:59.999999999",
  ts0: new Date(1714566896123),
  ts2: 1714566896129,
  ts3: new Date(1714566896123),
  ts6: 1714566896123456n,
  ts9: 1714566896123456789n,
  ltz3: 1714566896123,
  ltz9: "2262-04-11T23:47:16.854775807Z",
};

const rowNull: InputRow = Object.fromEntries(schema.columns.map((c) => [c.name, null]));

const expectedMin = {
  b: false,
  i8: -128,
  i16: -32768,
  i32: -2147483648,
  i64: -(2n ** 63n),
  f32: -3.5,
  f64: -Number.MAX_VALUE,
  d38: "-1234567890123456789012345678.0123456789",
  d5: "-999.99",
  s: "",
  c: "é🌍x",
  bytes: new Uint8Array(0),
  bin: new Uint8Array([0, 0, 0, 0]),
  day: "0001-01-01",
  t0: "00:00:00",
  t3: "00:00:00.000",
  t6: "00:00:00.000001",
  t9: "00:00:00.000000001",
  ts0: new Date(-1000), // floored to whole seconds
  ts2: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 120)), // floored to 1/100 s
  ts3: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 123)),
  ts6: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 123)),
  ts9: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 123)),
  ltz3: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 123)),
  ltz9: new Date(-1),
};

const expectedMax = {
  b: true,
  i8: 127,
  i16: 32767,
  i32: 2147483647,
  i64: 2n ** 63n - 1n,
  f32: 1.5,
  f64: Number.MIN_VALUE,
  d38: "9999999999999999999999999999.9999999999",
  d5: "1.50",
  s: "héllo 🌍 日本 \u0000 end",
  c: "abc",
  bytes: new Uint8Array([0, 1, 2, 255]),
  bin: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  day: "9999-12-31",
  t0: "23:59:59",
  t3: "12:34:56.789",
  t6: "23:59:59.999999",
  t9: "23:59:59.999999999",
  ts0: new Date(1714566896000),
  ts2: new Date(1714566896120),
  ts3: new Date(1714566896123),
  ts6: new Date(1714566896123),
  ts9: new Date(1714566896123),
  ltz3: new Date(1714566896123),
  ltz9: new Date(Date.UTC(2262, 3, 11, 23, 47, 16, 854)),
};

const COMPRESSIONS: ArrowCompression[] = ["NONE", "LZ4_FRAME", "ZSTD"];

function roundTrip(rows: readonly InputRow[], type: ArrowCompression): RecordBatch {
  const msg = encodeRecordBatchMessage(buildRecordBatch(schema, rows), { type, zstdLevel: 3 });
  expect(readMessageLayout(msg).compression).toBe(type);
  return decodeRecordBatchMessage(msg, toArrowSchema(schema));
}

describe("round trip of every type", () => {
  for (const type of COMPRESSIONS) {
    it(`keeps edge values and nulls with ${type}`, () => {
      const back = readRows(roundTrip([rowMin, rowNull, rowMax], type), schema.columns);
      expect(back[0]).toEqual(expectedMin);
      expect(back[1]).toEqual(rowNull);
      expect(back[2]).toEqual(expectedMax);
    });
  }

  it("stores timestamps in the unit of their precision, floored to the precision", () => {
    const rb = buildRecordBatch(schema, [{ ts0: ISO, ts2: ISO, ts3: ISO, ts6: ISO, ts9: ISO }]);
    const raw = (name: string): unknown => rb.getChild(name)!.data[0]!.values[0];
    expect(raw("ts0")).toBe(1714566896n);
    expect(raw("ts2")).toBe(1714566896120n);
    expect(raw("ts3")).toBe(1714566896123n);
    expect(raw("ts6")).toBe(1714566896123456n);
    expect(raw("ts9")).toBe(1714566896123456789n);
  });

  it("stores times of day in seconds / millis (32-bit) or micros / nanos (64-bit)", () => {
    const rb = buildRecordBatch(schema, [
      { t0: "01:02:03.9", t3: "01:02:03.456", t6: "01:02:03.4567", t9: "01:02:03.5" },
    ]);
    const raw = (name: string): unknown => rb.getChild(name)!.data[0]!.values[0];
    expect(raw("t0")).toBe(3723);
    expect(raw("t3")).toBe(3723456);
    expect(raw("t6")).toBe(3723456700n);
    expect(raw("t9")).toBe(3723500000000n);
  });

  it("stores decimals as 128-bit two's complement unscaled values", () => {
    const rb = buildRecordBatch(schema, [{ d5: "-1.25" }]);
    const words = rb.getChild("d5")!.data[0]!.values as Uint32Array;
    expect([...words.subarray(0, 4)]).toEqual([0xffffff83, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it("reads a large batch back identically under every compression", () => {
    const rows: InputRow[] = [];
    for (let i = 0; i < 5000; i++) {
      rows.push({ i64: BigInt(i) * 1_000_003n, s: i % 7 === 0 ? null : `value-${i % 50}`, f64: i / 3 });
    }
    const sizes = COMPRESSIONS.map((type) => {
      const msg = encodeRecordBatchMessage(buildRecordBatch(schema, rows), { type, zstdLevel: 3 });
      const back = readRows(decodeRecordBatchMessage(msg, toArrowSchema(schema)), schema.columns);
      expect(back.map((r) => [r.i64, r.s, r.f64])).toEqual(rows.map((r) => [r.i64, r.s, r.f64]));
      return msg.byteLength;
    });
    expect(sizes[1]).toBeLessThan(sizes[0]! / 2);
    expect(sizes[2]).toBeLessThan(sizes[0]! / 2);
  });
});

describe("sliced record batches", () => {
  it("encode and read only the rows of the slice (bit offsets and string offsets rebased)", () => {
    const rows: InputRow[] = [];
    for (let i = 0; i < 21; i++) {
      rows.push({ b: i % 3 === 0, i64: i, s: i % 4 === 1 ? null : `s${i}`, bytes: Uint8Array.of(i), day: i });
    }
    const full = readRows(buildRecordBatch(schema, rows), schema.columns);
    const sliced = buildRecordBatch(schema, rows).slice(5, 18);
    expect(readRows(sliced, schema.columns)).toEqual(full.slice(5, 18));
    for (const type of COMPRESSIONS) {
      const msg = encodeRecordBatchMessage(sliced, { type, zstdLevel: 3 });
      const back = readRows(decodeRecordBatchMessage(msg, toArrowSchema(schema)), schema.columns);
      expect(back).toEqual(full.slice(5, 18));
    }
  });
});

describe("rowToJson", () => {
  it("makes every value JSON-safe", () => {
    const back = readRows(roundTrip([rowMax], "NONE"), schema.columns)[0]!;
    const json = rowToJson(back, schema.columns);
    expect(json.i64).toBe("9223372036854775807");
    expect(json.bytes).toBe("AAEC/w==");
    expect(json.ts3).toBe("2024-05-01T12:34:56.123Z");
    expect(json.d5).toBe("1.50");
    expect(rowToJson({ i64: 42n, f64: Number.NaN }, schema.columns)).toMatchObject({
      i64: 42,
      f64: "NaN",
      s: null,
    });
    expect(() => JSON.stringify(json)).not.toThrow();
  });
});

// ---- interop with apache-arrow's IPC stream reader / writer ------------------------------------

function schemaMessage(arrowSchema: ArrowSchema): Uint8Array {
  const fb = Message.encode(Message.from(arrowSchema));
  const padded = (fb.byteLength + 7) & ~7;
  const out = new Uint8Array(8 + padded);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, -1, true);
  dv.setInt32(4, padded, true);
  out.set(fb, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const EOS = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

describe("interop with apache-arrow", () => {
  const simple = parseSchema("id BIGINT NOT NULL, name STRING, score DOUBLE, ok BOOLEAN, day DATE");
  const rows: InputRow[] = [];
  for (let i = 0; i < 300; i++) {
    rows.push({ id: i, name: i % 5 === 0 ? null : `n${i % 9}`, score: i / 4, ok: i % 2 === 0, day: i });
  }

  for (const type of COMPRESSIONS) {
    it(`apache-arrow reads our ${type} message`, () => {
      ensureCodecsRegistered();
      const msg = encodeRecordBatchMessage(buildRecordBatch(simple, rows), { type, zstdLevel: 3 });
      const table = tableFromIPC(concat(schemaMessage(toArrowSchema(simple)), msg, EOS));
      expect(table.numRows).toBe(300);
      expect(table.getChild("id")!.get(299)).toBe(299n);
      expect(table.getChild("name")!.get(5)).toBeNull();
      expect(table.getChild("name")!.get(7)).toBe("n7");
      expect(table.getChild("score")!.get(3)).toBe(0.75);
      expect(table.getChild("ok")!.get(3)).toBe(false);
    });
  }

  function arrowJsStreamMessage(code: CompressionType | null): Uint8Array {
    ensureCodecsRegistered();
    const writer = new RecordBatchStreamWriter({ compressionType: code });
    const stream = writer.writeAll([buildRecordBatch(simple, rows)]).toUint8Array(true);
    const schemaLength = new DataView(stream.buffer, stream.byteOffset).getInt32(4, true);
    return stream.subarray(8 + schemaLength);
  }

  it("we read apache-arrow's uncompressed stream message", () => {
    const batchMessage = arrowJsStreamMessage(null);
    const back = readRows(decodeRecordBatchMessage(batchMessage, toArrowSchema(simple)), simple.columns);
    expect(back.map((r) => r.id)).toEqual(rows.map((r) => BigInt(r.id as number)));
    expect(back.map((r) => r.name)).toEqual(rows.map((r) => r.name));
    expect(back[299]).toEqual({ id: 299n, name: "n2", score: 74.75, ok: false, day: "1970-10-27" });
  });

  it("refuses apache-arrow 21's compressed buffers, whose prefix is not the uncompressed length", () => {
    // apache-arrow 21.2 writes the *compressed* size into the i64 prefix that the Arrow format (and
    // Arrow Java, which Fluss uses) defines as the uncompressed size. If this starts failing,
    // apache-arrow fixed its writer and this interop can be tested positively.
    for (const code of [CompressionType.LZ4_FRAME, CompressionType.ZSTD]) {
      const batchMessage = arrowJsStreamMessage(code);
      expect(() => decodeRecordBatchMessage(batchMessage, toArrowSchema(simple))).toThrow(
        /Arrow (LZ4_FRAME|ZSTD)/,
      );
    }
  });
});
