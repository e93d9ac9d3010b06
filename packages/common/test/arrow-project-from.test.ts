// Projecting a batch from its first bytes plus ranged reads gives exactly what projecting the
// whole batch in memory gives, and reads only the selected columns' buffers.

import { describe, expect, it } from "vitest";
import {
  buildArrowLogBatch,
  ChangeType,
  createProjectionPlan,
  makeSchema,
  projectBatchFrom,
  projectLogBatches,
  readBatchHeader,
} from "../src/index.ts";

const schema = makeSchema([
  { name: "id", type: "BIGINT NOT NULL" },
  { name: "a", type: "STRING" },
  { name: "b", type: "DOUBLE" },
  { name: "c", type: "STRING" },
]);
const rows = Array.from({ length: 500 }, (_, i) => ({
  id: BigInt(i),
  a: `a${i}`.repeat(5),
  b: i / 3,
  c: i % 3 ? null : "c",
}));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

describe("projectBatchFrom", () => {
  for (const type of ["NONE", "ZSTD", "LZ4_FRAME"] as const) {
    for (const withChangeTypes of [false, true]) {
      it(`matches the in-memory projection (${type}, change types ${withChangeTypes})`, () => {
        const batch = buildArrowLogBatch({
          schema,
          schemaId: 1,
          rows,
          compression: { type, zstdLevel: 3 },
          statistics: "*",
          ...(withChangeTypes ? { changeTypes: new Uint8Array(rows.length).fill(ChangeType.INSERT) } : {}),
        });
        const plan = createProjectionPlan(schema, [2, 0]);
        const header = readBatchHeader(batch);
        let readBytes = 0;
        const parts = projectBatchFrom(
          header,
          batch.subarray(0, 4096),
          (pos, len) => {
            readBytes += len;
            return batch.subarray(pos, pos + len);
          },
          plan,
        );
        expect(parts).not.toBeNull();
        expect(concat(parts!)).toEqual(Buffer.from(projectLogBatches(batch, plan)));
        expect(readBytes).toBeLessThan(batch.byteLength / 2);
      });
    }
  }

  it("asks for the whole batch when the prefix ends inside the Arrow metadata", () => {
    const batch = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows,
      compression: { type: "NONE", zstdLevel: 3 },
    });
    const header = readBatchHeader(batch);
    const plan = createProjectionPlan(schema, [1]);
    expect(
      projectBatchFrom(header, batch.subarray(0, header.recordsOffset + 20), () => new Uint8Array(0), plan),
    ).toBeNull();
  });
});
