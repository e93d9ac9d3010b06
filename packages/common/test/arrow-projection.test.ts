// Buffer-level projection of IPC messages and of whole fetch responses (concatenated log batches).

import { describe, expect, it } from "vitest";
import { readMessageLayout } from "../src/arrow/ipc-metadata.ts";
import {
  type ArrowCompression,
  buildArrowLogBatch,
  buildRecordBatch,
  ChangeType,
  createProjectionPlan,
  decodeArrowLogBatch,
  decodeRecordBatchMessage,
  Errors,
  encodeRecordBatchMessage,
  type InputRow,
  isBatchValid,
  isFlussError,
  parseSchema,
  projectLogBatches,
  projectRecordBatchMessage,
  readBatchHeader,
  readRows,
  splitBatches,
  toArrowSchema,
} from "../src/index.ts";

const COMPRESSIONS: ArrowCompression[] = ["NONE", "LZ4_FRAME", "ZSTD"];

// 20 columns of equal weight: 10 BIGINT, 10 STRING of similar length.
const wide = parseSchema(
  Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `c${i} BIGINT` : `c${i} STRING`)).join(", "),
);

function wideRows(n: number): InputRow[] {
  const rows: InputRow[] = [];
  for (let r = 0; r < n; r++) {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) {
      row[`c${i}`] = i % 2 === 0 ? BigInt(r * 31 + i) * 1_000_003n : `v${r}-${i}`.padEnd(8, "x");
    }
    if (r % 10 === 3) row.c5 = null;
    rows.push(row);
  }
  return rows;
}

describe("projectRecordBatchMessage", () => {
  const rows = wideRows(1000);

  for (const type of COMPRESSIONS) {
    it(`keeps exactly the chosen columns in the chosen order (${type})`, () => {
      const message = encodeRecordBatchMessage(buildRecordBatch(wide, rows), { type, zstdLevel: 3 });
      const projected = projectRecordBatchMessage(message, wide, [17, 4, 5]);
      expect(readMessageLayout(projected).compression).toBe(type);
      const batch = decodeRecordBatchMessage(projected, toArrowSchema(wide, [17, 4, 5]));
      expect(batch.schema.fields.map((f) => f.name)).toEqual(["c17", "c4", "c5"]);
      const cols = [17, 4, 5].map((i) => wide.columns[i]!);
      const back = readRows(batch, cols);
      expect(back).toEqual(rows.map((r) => ({ c17: r.c17, c4: r.c4, c5: r.c5 ?? null })));
    });
  }

  it("shrinks the message roughly in proportion (2 of 20 columns < 20% of the bytes)", () => {
    const message = encodeRecordBatchMessage(buildRecordBatch(wide, rows), { type: "NONE", zstdLevel: 3 });
    const projected = projectRecordBatchMessage(message, wide, [2, 3]);
    expect(projected.byteLength).toBeLessThan(message.byteLength * 0.2);
    expect(projected.byteLength).toBeGreaterThan(message.byteLength * 0.05);
  });

  it("moves compressed buffers as they are, without decompressing", () => {
    const message = encodeRecordBatchMessage(buildRecordBatch(wide, rows), { type: "ZSTD", zstdLevel: 3 });
    const projected = projectRecordBatchMessage(message, wide, [0]);
    const src = readMessageLayout(message);
    const out = readMessageLayout(projected);
    const dvSrc = new DataView(message.buffer, message.byteOffset);
    const dvOut = new DataView(projected.buffer, projected.byteOffset);
    // column 0 owns buffers 0 (validity) and 1 (data): same lengths, same bytes
    for (const b of [0, 1]) {
      const srcOff = Number(dvSrc.getBigInt64(src.buffersPos + 16 * b, true));
      const len = Number(dvSrc.getBigInt64(src.buffersPos + 16 * b + 8, true));
      const outOff = Number(dvOut.getBigInt64(out.buffersPos + 16 * b, true));
      expect(Number(dvOut.getBigInt64(out.buffersPos + 16 * b + 8, true))).toBe(len);
      expect(projected.subarray(out.bodyStart + outOff, out.bodyStart + outOff + len)).toEqual(
        message.subarray(src.bodyStart + srcOff, src.bodyStart + srcOff + len),
      );
    }
  });

  it("refuses empty, out-of-range and repeated projections", () => {
    for (const bad of [[], [20], [-1], [1, 1]]) {
      try {
        createProjectionPlan(wide, bad);
        expect.unreachable();
      } catch (err) {
        expect(isFlussError(err) && err.is(Errors.INVALID_COLUMN_PROJECTION)).toBe(true);
      }
    }
  });

  it("refuses a message of another schema", () => {
    const other = parseSchema("a BIGINT, b STRING");
    const message = encodeRecordBatchMessage(buildRecordBatch(other, [{ a: 1, b: "x" }]), {
      type: "NONE",
      zstdLevel: 3,
    });
    expect(() => projectRecordBatchMessage(message, wide, [0])).toThrow(/schema expects 20/);
  });

  it("reuses one cached plan per schema and projection", () => {
    // c0 BIGINT owns buffers 0-1, c1 STRING 2-4, c2 BIGINT 5-6, c3 STRING 7-9
    expect(createProjectionPlan(wide, [3, 1])).toBe(createProjectionPlan(wide, [3, 1]));
    expect(createProjectionPlan(wide, [3, 1]).bufferIndexes).toEqual(Int32Array.of(7, 8, 9, 2, 3, 4));
  });
});

describe("projectLogBatches", () => {
  const schema = parseSchema("id BIGINT NOT NULL, name STRING, score DOUBLE");
  const rowsA: InputRow[] = [
    { id: 1, name: "a", score: 1.5 },
    { id: 2, name: null, score: 2.5 },
  ];
  const rowsB: InputRow[] = [{ id: 3, name: "c", score: 3.5 }];
  const plan = createProjectionPlan(schema, [1, 0]);

  for (const type of COMPRESSIONS) {
    it(`rewrites each whole batch and keeps its header fields (${type})`, () => {
      const compression = { type, zstdLevel: 3 };
      const a = buildArrowLogBatch({
        schema,
        schemaId: 2,
        rows: rowsA,
        compression,
        writerId: 7n,
        batchSequence: 4,
      });
      const empty = buildArrowLogBatch({
        schema,
        schemaId: 2,
        rows: [],
        changeTypes: new Uint8Array(0),
        compression,
      });
      const b = buildArrowLogBatch({
        schema,
        schemaId: 2,
        rows: rowsB,
        changeTypes: Uint8Array.of(ChangeType.DELETE),
        compression,
        baseOffset: 10n,
        commitTimestamp: 1234n,
      });
      const fetched = new Uint8Array([...a, ...empty, ...b, ...a.subarray(0, 30)]); // partial tail
      const out = projectLogBatches(fetched, plan);
      const batches = splitBatches(out, { verifyCrc: false, allowPartialTail: false });
      expect(batches).toHaveLength(3);
      expect(batches[1]!.bytes).toEqual(empty); // header-only batches pass through unchanged

      const src = [a, empty, b].map((x) => readBatchHeader(x));
      batches.forEach((batch, i) => {
        const { sizeBytes: _s, ...rest } = batch.header;
        const { sizeBytes: _t, ...expected } = src[i]!;
        expect(rest).toEqual(expected); // same offsets, timestamps, writer, sequence, counts, CRC field
      });
      expect(batches[0]!.bytes.byteLength).toBeLessThan(a.byteLength);

      const decodedA = decodeArrowLogBatch(batches[0]!.bytes, plan.columns);
      expect(decodedA.changeTypes).toBeNull();
      expect(readRows(decodedA.recordBatch, plan.columns)).toEqual([
        { name: "a", id: 1n },
        { name: null, id: 2n },
      ]);
      const decodedB = decodeArrowLogBatch(batches[2]!.bytes, plan.columns);
      expect([...decodedB.changeTypes!]).toEqual([ChangeType.DELETE]);
      expect(readRows(decodedB.recordBatch, plan.columns)).toEqual([{ name: "c", id: 3n }]);
    });
  }

  it("leaves the CRC as it was, so projected batches must be read without CRC checks", () => {
    const a = buildArrowLogBatch({
      schema,
      schemaId: 2,
      rows: rowsA,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    const out = projectLogBatches(a, plan);
    expect(isBatchValid(a)).toBe(true);
    expect(isBatchValid(out)).toBe(false);
    expect(() => decodeArrowLogBatch(out, plan.columns, { verifyCrc: true })).toThrow(/CRC/);
    expect(decodeArrowLogBatch(out, plan.columns).recordBatch.numRows).toBe(2);
  });

  it("picks the plan by each batch's schema id when given a resolver", () => {
    const v2 = parseSchema("id BIGINT NOT NULL, name STRING, score DOUBLE, extra STRING");
    const compression = { type: "NONE" as const, zstdLevel: 3 };
    const old = buildArrowLogBatch({ schema, schemaId: 1, rows: rowsA, compression });
    const cur = buildArrowLogBatch({ schema: v2, schemaId: 2, rows: [{ id: 9, extra: "e" }], compression });
    const plans = [createProjectionPlan(schema, [0]), createProjectionPlan(v2, [0])];
    const out = projectLogBatches(new Uint8Array([...old, ...cur]), (id) => plans[id - 1]!);
    const [a, b] = splitBatches(out, { verifyCrc: false, allowPartialTail: false });
    expect(readRows(decodeArrowLogBatch(a!.bytes, plans[0]!.columns).recordBatch, plans[0]!.columns)).toEqual(
      [{ id: 1n }, { id: 2n }],
    );
    expect(readRows(decodeArrowLogBatch(b!.bytes, plans[1]!.columns).recordBatch, plans[1]!.columns)).toEqual(
      [{ id: 9n }],
    );
    expect(() => projectLogBatches(cur, plans[0]!)).toThrow(/schema expects 3/);
  });

  it("returns nothing for a buffer holding only a partial batch", () => {
    const a = buildArrowLogBatch({
      schema,
      schemaId: 2,
      rows: rowsA,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    expect(projectLogBatches(a.subarray(0, a.byteLength - 1), plan).byteLength).toBe(0);
    expect(projectLogBatches(new Uint8Array(0), plan).byteLength).toBe(0);
  });
});
