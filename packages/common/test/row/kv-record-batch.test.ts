// KV record batch (PutKv body): byte vectors produced by Fluss's own KvRecordBatchBuilder (Fluss
// main, Java 17), reading back, and CORRUPT_RECORD_EXCEPTION for bad CRC, truncation, bad magic,
// bad record framing and trailing bytes. Also the stored KV value (schema id + row).

import { describe, expect, it } from "vitest";
import { Errors } from "../../src/errors.ts";
import {
  buildKvRecordBatch,
  KV_BATCH_HEADER_SIZE,
  KvRecordBatchBuilder,
  kvRecordSize,
  readKvRecordBatch,
} from "../../src/row/kv-record-batch.ts";
import { decodeKvValue, encodeKvValue } from "../../src/row/kv-value.ts";
import { expectFlussError, fromHex, hex } from "./helpers.ts";

const ROW_B = fromHex("0201ffffffffffffffffff01"); // compacted (INT 1, STRING null, BIGINT -1)
const LONG_KEY = new Uint8Array(Array.from({ length: 200 }, (_, i) => i));

// Fluss: schema 1, writer 7, sequence 3; records ([1], ROW_B), ([2], delete), (LONG_KEY, ROW_B).
const KV1 =
  "0a010000" + // Length 266 (= size - 4)
  "00" + // Magic 0
  "74624cf2" + // CRC-32C of SchemaId..end
  "0100" + // SchemaId 1
  "00" + // Attributes
  "0700000000000000" + // WriterId 7
  "03000000" + // BatchSequence 3
  "03000000" + // RecordCount 3
  "0e000000" +
  "01" +
  "01" +
  hex(ROW_B) +
  "02000000" +
  "01" +
  "02" +
  "d6000000" +
  "c801" +
  hex(LONG_KEY) +
  hex(ROW_B);
// Fluss: schema 5, no writer state; one delete of key 010302.
const KV2 =
  "20000000" +
  "00" +
  "173aee42" +
  "0500" +
  "00" +
  "ffffffffffffffff" +
  "ffffffff" +
  "01000000" +
  "04000000" +
  "03010302";
// Fluss: schema 0, no records.
const KV3 = "18000000" + "00" + "9f0d54af" + "0000" + "00" + "ffffffffffffffff" + "ffffffff" + "00000000";

describe("buildKvRecordBatch", () => {
  it("matches Fluss's KvRecordBatchBuilder byte for byte", () => {
    const kv1 = buildKvRecordBatch({
      schemaId: 1,
      writerId: 7n,
      batchSequence: 3,
      records: [
        { key: new Uint8Array([1]), row: ROW_B },
        { key: new Uint8Array([2]), row: null },
        { key: LONG_KEY, row: ROW_B },
      ],
    });
    expect(hex(kv1)).toBe(KV1);
    expect(hex(buildKvRecordBatch({ schemaId: 5, records: [{ key: fromHex("010302"), row: null }] }))).toBe(
      KV2,
    );
    expect(hex(buildKvRecordBatch({ schemaId: 0, records: [] }))).toBe(KV3);
  });

  it("builder tracks size, respects the write limit and rebuilds with a new writer state", () => {
    const b = new KvRecordBatchBuilder(1, 60, 8);
    expect(b.hasRoomFor(LONG_KEY, ROW_B)).toBe(true); // the first record always fits
    b.append(new Uint8Array([1]), ROW_B);
    expect(b.sizeInBytes).toBe(KV_BATCH_HEADER_SIZE + kvRecordSize(new Uint8Array([1]), ROW_B));
    expect(b.hasRoomFor(new Uint8Array([2]), null)).toBe(true);
    expect(b.hasRoomFor(LONG_KEY, null)).toBe(false);
    const first = readKvRecordBatch(b.build({ writerId: 9n, batchSequence: 0 }));
    const retry = readKvRecordBatch(b.build({ writerId: 9n, batchSequence: 4 }));
    expect([first.batchSequence, retry.batchSequence, retry.recordCount]).toEqual([0, 4, 1]);
    expectFlussError(() => new KvRecordBatchBuilder(40000), Errors.INVALID_ARGUMENT, /schema id/);
  });
});

describe("readKvRecordBatch", () => {
  it("reads Fluss's batch: header and records (delete = null row)", () => {
    const batch = readKvRecordBatch(fromHex(KV1));
    expect({ ...batch, records: undefined }).toEqual({
      sizeInBytes: 270,
      magic: 0,
      crc: 0xf24c6274,
      schemaId: 1,
      attributes: 0,
      writerId: 7n,
      batchSequence: 3,
      recordCount: 3,
      records: undefined,
    });
    expect(batch.records.map((r) => [hex(r.key), r.row && hex(r.row)])).toEqual([
      ["01", hex(ROW_B)],
      ["02", null],
      [hex(LONG_KEY), hex(ROW_B)],
    ]);
    const none = readKvRecordBatch(fromHex(KV2));
    expect([none.writerId, none.batchSequence, none.schemaId]).toEqual([-1n, -1, 5]);
  });

  it("ignores bytes after the batch (sizeInBytes tells where the next starts)", () => {
    const two = fromHex(KV3 + KV2);
    const first = readKvRecordBatch(two);
    expect(first.sizeInBytes).toBe(28);
    expect(readKvRecordBatch(two.subarray(first.sizeInBytes)).recordCount).toBe(1);
  });

  it("rejects a bad CRC unless verification is off", () => {
    const bytes = fromHex(KV1);
    bytes[40] ^= 0x01; // inside the first record's row
    expectFlussError(() => readKvRecordBatch(bytes), Errors.CORRUPT_RECORD_EXCEPTION, /CRC mismatch/);
    expect(readKvRecordBatch(bytes, { verifyCrc: false }).recordCount).toBe(3);
    const header = fromHex(KV2);
    header[9] = 6; // schema id is covered by the CRC
    expectFlussError(() => readKvRecordBatch(header), Errors.CORRUPT_RECORD_EXCEPTION, /CRC/);
  });

  it("rejects truncated input at every length", () => {
    const bytes = fromHex(KV1);
    for (let cut = 0; cut < bytes.length; cut++) {
      expectFlussError(() => readKvRecordBatch(bytes.subarray(0, cut)), Errors.CORRUPT_RECORD_EXCEPTION);
    }
  });

  it("rejects bad magic, sizes, counts and record framing even without the CRC", () => {
    const bad = (edit: (b: Uint8Array, v: DataView) => void, message: RegExp) => {
      const b = fromHex(KV1);
      edit(b, new DataView(b.buffer));
      expectFlussError(
        () => readKvRecordBatch(b, { verifyCrc: false }),
        Errors.CORRUPT_RECORD_EXCEPTION,
        message,
      );
    };
    bad((b) => {
      b[4] = 1;
    }, /unsupported magic 1/);
    bad((_, v) => v.setInt32(0, 10, true), /smaller than the header/);
    bad((_, v) => v.setInt32(24, 4, true), /record 3 of 4 is truncated/);
    bad((_, v) => v.setInt32(24, 2, true), /bytes after the last of 2 records/);
    bad((_, v) => v.setInt32(24, -1, true), /negative record count/);
    bad((_, v) => v.setInt32(28, 0, true), /record 0 has bad length 0/);
    bad((_, v) => v.setInt32(28, 1000, true), /record 0 has bad length 1000/);
    bad((b) => {
      b[32] = 0x7f; // key length 127 in a 14-byte record
    }, /record 0 key length 127 overruns/);
  });
});

describe("KV value", () => {
  it("is the schema id (i16 little-endian) followed by the row", () => {
    const value = encodeKvValue(258, ROW_B);
    expect(hex(value)).toBe("0201" + hex(ROW_B));
    const decoded = decodeKvValue(value);
    expect([decoded.schemaId, hex(decoded.row)]).toEqual([258, hex(ROW_B)]);
    expectFlussError(() => decodeKvValue(fromHex("0100")), Errors.CORRUPT_RECORD_EXCEPTION, /holds no row/);
    expectFlussError(() => encodeKvValue(-1, ROW_B), Errors.INVALID_ARGUMENT, /schema id/);
  });
});
