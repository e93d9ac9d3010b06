// Byte-level checks of an ARROW log batch: header fields at their documented offsets
// (little-endian), the CRC-32C checked against an independent bitwise implementation, and the IPC
// message metadata checked with apache-arrow's own flatbuffer decoder.

import { Message, MessageHeader } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { buildArrowLogBatch, isBatchValid, NO_COMPRESSION, parseSchema } from "../src/index.ts";

/** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), independent of @node-rs/crc32. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

describe("CRC-32C reference", () => {
  it("matches the standard check value", () => {
    expect(crc32cBitwise(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });
});

describe("ARROW log batch bytes", () => {
  const schema = parseSchema("id INT NOT NULL");
  const batch = buildArrowLogBatch({
    schema,
    schemaId: 3,
    rows: [{ id: 7 }],
    compression: NO_COMPRESSION,
    writerId: 5n,
    batchSequence: 9,
  });
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);

  it("has the expected total size: 48 header + 8 prefix + 136 metadata + 8 body", () => {
    // metadata: 88 fixed flatbuffer bytes + 1 field node (16) + 2 buffers (32)
    expect(batch.byteLength).toBe(200);
  });

  it("puts every header field at its offset, little-endian", () => {
    expect(hex(batch.subarray(0, 8))).toBe("0000000000000000"); // base offset
    expect(hex(batch.subarray(8, 12))).toBe("bc000000"); // length = 200 - 12 = 188
    expect(batch[12]).toBe(0); // magic
    expect(hex(batch.subarray(13, 21))).toBe("0000000000000000"); // commit timestamp
    expect(hex(batch.subarray(25, 27))).toBe("0300"); // schema id
    expect(batch[27]).toBe(1); // attributes: append-only
    expect(hex(batch.subarray(28, 32))).toBe("00000000"); // last offset delta
    expect(hex(batch.subarray(32, 40))).toBe("0500000000000000"); // writer id
    expect(hex(batch.subarray(40, 44))).toBe("09000000"); // batch sequence
    expect(hex(batch.subarray(44, 48))).toBe("01000000"); // record count
  });

  it("stores the CRC-32C of bytes 25.. at offset 21", () => {
    expect(dv.getUint32(21, true)).toBe(crc32cBitwise(batch.subarray(25)));
    expect(isBatchValid(batch)).toBe(true);
  });

  it("starts the body with one IPC stream message: continuation, metadata length, body", () => {
    expect(hex(batch.subarray(48, 52))).toBe("ffffffff");
    expect(dv.getInt32(52, true)).toBe(136);
    // body: validity omitted (no nulls), data buffer 07000000 padded to 8 bytes
    expect(hex(batch.subarray(192, 200))).toBe("0700000000000000");
  });

  it("writes flatbuffer metadata that apache-arrow decodes", () => {
    const message = Message.decode(batch.subarray(56, 56 + 136));
    expect(message.headerType).toBe(MessageHeader.RecordBatch);
    expect(message.bodyLength).toBe(8);
    expect(message.version).toBe(4); // MetadataVersion V5
    const header = message.header() as {
      length: number;
      nodes: { length: number; nullCount: number }[];
      buffers: { offset: number; length: number }[];
      compression: unknown;
    };
    expect(header.length).toBe(1);
    expect(header.nodes.map((n) => [n.length, n.nullCount])).toEqual([[1, 0]]);
    expect(header.buffers.map((b) => [b.offset, b.length])).toEqual([
      [0, 0],
      [0, 4],
    ]);
    expect(header.compression).toBeNull();
  });

  it("writes change types before the message and clears append-only", () => {
    const cdc = buildArrowLogBatch({
      schema,
      schemaId: 3,
      rows: [{ id: 1 }, { id: 2 }],
      changeTypes: Uint8Array.of(1, 4),
      compression: NO_COMPRESSION,
    });
    const v = new DataView(cdc.buffer, cdc.byteOffset, cdc.byteLength);
    expect(cdc[27]).toBe(0);
    expect(v.getInt32(28, true)).toBe(1); // last offset delta
    expect(v.getInt32(44, true)).toBe(2); // record count
    expect(v.getBigInt64(32, true)).toBe(-1n); // no writer id
    expect(v.getInt32(40, true)).toBe(-1); // no batch sequence
    expect(hex(cdc.subarray(48, 54))).toBe("0104ffffffff");
    expect(v.getUint32(21, true)).toBe(crc32cBitwise(cdc.subarray(25)));
  });
});
