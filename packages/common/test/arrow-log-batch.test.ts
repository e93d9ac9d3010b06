// buildArrowLogBatch / decodeArrowLogBatch: validity (CRC), header fields, change types, empty
// batches, prebuilt record batches and corrupt input.

import { describe, expect, it } from "vitest";
import {
  type ArrowCompression,
  buildArrowLogBatch,
  buildRecordBatch,
  ChangeType,
  decodeArrowLogBatch,
  Errors,
  HEADER_SIZE_V0,
  type InputRow,
  isBatchValid,
  isFlussError,
  parseSchema,
  readRows,
  stampBatch,
} from "../src/index.ts";

const schema = parseSchema("id BIGINT NOT NULL, name STRING, amount DECIMAL(10, 2)");
const rows: InputRow[] = [
  { id: 1, name: "one", amount: "1.10" },
  { id: 2, name: null, amount: null },
  { id: 3, name: "three", amount: -3 },
];

function errorKind(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isFlussError(err) ? err.kind.name : String(err);
  }
  return undefined;
}

describe("buildArrowLogBatch", () => {
  for (const type of ["NONE", "LZ4_FRAME", "ZSTD"] as ArrowCompression[]) {
    it(`produces a valid batch that decodes back (${type})`, () => {
      const batch = buildArrowLogBatch({ schema, schemaId: 1, rows, compression: { type, zstdLevel: 1 } });
      expect(isBatchValid(batch)).toBe(true);
      const decoded = decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true });
      expect(decoded.header.recordCount).toBe(3);
      expect(decoded.header.lastOffsetDelta).toBe(2);
      expect(decoded.changeTypes).toBeNull();
      expect(readRows(decoded.recordBatch, schema.columns)).toEqual([
        { id: 1n, name: "one", amount: "1.10" },
        { id: 2n, name: null, amount: null },
        { id: 3n, name: "three", amount: "-3.00" },
      ]);
    });
  }

  it("fails validation when any byte covered by the CRC changes", () => {
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    for (const pos of [25, 27, 44, HEADER_SIZE_V0 + 20, batch.byteLength - 9]) {
      const copy = batch.slice();
      copy[pos]! ^= 0x01;
      expect(isBatchValid(copy)).toBe(false);
      expect(errorKind(() => decodeArrowLogBatch(copy, schema.columns, { verifyCrc: true }))).toBe(
        "CORRUPT_RECORD_EXCEPTION",
      );
    }
  });

  it("stays valid when the server stamps base offset and commit timestamp", () => {
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    stampBatch(batch, 1000n, 1_700_000_000_000n);
    expect(isBatchValid(batch)).toBe(true);
    const { header } = decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true });
    expect(header.baseOffset).toBe(1000n);
    expect(header.commitTimestamp).toBe(1_700_000_000_000n);
  });

  it("carries change types, writer id and batch sequence", () => {
    const changeTypes = Uint8Array.of(ChangeType.INSERT, ChangeType.UPDATE_BEFORE, ChangeType.UPDATE_AFTER);
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 9,
      rows,
      changeTypes,
      compression: { type: "ZSTD", zstdLevel: 3 },
      writerId: 42n,
      batchSequence: 17,
    });
    const { header, changeTypes: back } = decodeArrowLogBatch(batch, schema.columns, { verifyCrc: true });
    expect(header.attributes & 1).toBe(0);
    expect(header.schemaId).toBe(9);
    expect(header.writerId).toBe(42n);
    expect(header.batchSequence).toBe(17);
    expect([...back!]).toEqual([1, 2, 3]);
  });

  it("writes a header-only batch for no records", () => {
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows: [],
      compression: { type: "LZ4_FRAME", zstdLevel: 3 },
    });
    expect(batch.byteLength).toBe(HEADER_SIZE_V0);
    expect(isBatchValid(batch)).toBe(true);
    const decoded = decodeArrowLogBatch(batch, schema.columns);
    expect(decoded.header.recordCount).toBe(0);
    expect(decoded.header.lastOffsetDelta).toBe(0);
    expect(decoded.recordBatch.numRows).toBe(0);
    expect(decoded.recordBatch.schema.fields.map((f) => f.name)).toEqual(["id", "name", "amount"]);
  });

  it("accepts a prebuilt RecordBatch and gives the same bytes as rows", () => {
    const compression = { type: "NONE" as const, zstdLevel: 3 };
    const fromRows = buildArrowLogBatch({ schema, schemaId: 1, rows, compression });
    const recordBatch = buildRecordBatch(schema, rows);
    expect(buildArrowLogBatch({ schema, schemaId: 1, recordBatch, compression })).toEqual(fromRows);
  });

  it("refuses inconsistent input", () => {
    const compression = { type: "NONE" as const, zstdLevel: 3 };
    expect(errorKind(() => buildArrowLogBatch({ schema, schemaId: 1, compression }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      errorKind(() =>
        buildArrowLogBatch({ schema, schemaId: 1, rows, changeTypes: Uint8Array.of(1), compression }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(
      errorKind(() =>
        buildArrowLogBatch({ schema, schemaId: 1, rows, changeTypes: Uint8Array.of(1, 9, 1), compression }),
      ),
    ).toBe("INVALID_ARGUMENT");
    const other = buildRecordBatch(parseSchema("x INT"), [{ x: 1 }]);
    expect(
      errorKind(() => buildArrowLogBatch({ schema, schemaId: 1, recordBatch: other, compression })),
    ).toBe(Errors.SCHEMA_MISMATCH.name);
  });

  it("refuses truncated or inconsistent batches when decoding", () => {
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    expect(
      errorKind(() => decodeArrowLogBatch(batch.subarray(0, batch.byteLength - 1), schema.columns)),
    ).toBe("CORRUPT_RECORD_EXCEPTION");
    const wrongCount = batch.slice();
    new DataView(wrongCount.buffer).setInt32(44, 4, true);
    expect(errorKind(() => decodeArrowLogBatch(wrongCount, schema.columns))).toBe("CORRUPT_RECORD_EXCEPTION");
    expect(errorKind(() => decodeArrowLogBatch(batch, schema.columns.slice(0, 2)))).toBe(
      "CORRUPT_RECORD_EXCEPTION",
    );
  });
});
