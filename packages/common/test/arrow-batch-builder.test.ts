// The incremental ArrowBatchBuilder: the batches it builds (against buildRecordBatch and against
// rows computed independently, for random rows of every type), all-or-nothing appends, reuse
// after build, sizeBytes, the lazily created validity bitmap, and the converters it shares with
// the COMPACTED row writer (same accepted values, same error messages).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ArrowBatchBuilder,
  buildArrowLogBatch,
  buildRecordBatch,
  Errors,
  encodeCompactedRow,
  encodeRecordBatchParts,
  type InputRow,
  isFlussError,
  NO_COMPRESSION,
  parseSchema,
  readRows,
} from "../src/index.ts";
import { arrowOnlyBadValues, badValues, batchBytes, type RowCase, rowCase, schema } from "./arrow-rows.ts";

const inputs = (cases: readonly RowCase[]): InputRow[] => cases.map((c) => c.input);
const sample = (n: number, seed: number): RowCase[] => fc.sample(rowCase, { numRuns: n, seed });

/** The message of the SCHEMA_MISMATCH `f` throws. */
function mismatch(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (isFlussError(err) && err.is(Errors.SCHEMA_MISMATCH)) return err.message;
    throw err;
  }
  throw new Error("expected SCHEMA_MISMATCH");
}

/** Uncompressed IPC body length of a batch. */
function bodyBytes(batch: ReturnType<typeof buildRecordBatch>): number {
  const m = encodeRecordBatchParts(batch, NO_COMPRESSION);
  return m.byteLength - m.parts[0]!.byteLength;
}

describe("ArrowBatchBuilder builds", () => {
  const builder = new ArrowBatchBuilder(schema);

  it("what buildRecordBatch builds and what the rows say, batch after batch (property)", () => {
    fc.assert(
      fc.property(fc.array(rowCase, { maxLength: 150 }), fc.nat(150), (cases, cut) => {
        for (const part of [cases.slice(0, cut), cases.slice(cut)]) {
          for (const c of part) builder.append(c.input);
          expect(builder.rowCount).toBe(part.length);
          const size = builder.sizeBytes;
          const batch = builder.build();
          expect(batch.numRows).toBe(part.length);
          expect(size).toBe(bodyBytes(batch));
          expect(batchBytes(batch)).toEqual(batchBytes(buildRecordBatch(schema, inputs(part))));
          expect(readRows(batch, schema.columns)).toEqual(part.map((c) => c.expected));
        }
      }),
      { numRuns: 60 },
    );
  });

  it("an empty batch when nothing was appended", () => {
    expect(builder.rowCount).toBe(0);
    expect(batchBytes(builder.build())).toEqual(batchBytes(buildRecordBatch(schema, [])));
  });
});

describe("a refused row leaves the builder unchanged", () => {
  const good = sample(24, 7);

  /** The bad row: a good row with `bad` in `column`; `nullsFirst` makes earlier columns null. */
  function badRow(base: InputRow, column: string, bad: unknown, nullsFirst: boolean): InputRow {
    const row: Record<string, unknown> = { ...base, [column]: bad };
    if (!nullsFirst) return row;
    for (const c of schema.columns) {
      if (c.name === column) break;
      if (c.type.nullable) row[c.name] = c.type.root === "STRING" ? "x".repeat(5000) : null;
    }
    return row;
  }

  function check(before: RowCase[], bad: InputRow, column: string, after: RowCase[]): string {
    const builder = new ArrowBatchBuilder(schema);
    for (const c of before) builder.append(c.input);
    const size = builder.sizeBytes;
    const message = mismatch(() => builder.append(bad));
    expect(message).toMatch(new RegExp(`^column '${column}' \\(.*\\) row ${before.length}: `));
    expect(builder.rowCount).toBe(before.length);
    expect(builder.sizeBytes).toBe(size);
    for (const c of after) builder.append(c.input);
    const rows = [...before, ...after];
    expect(batchBytes(builder.build())).toEqual(batchBytes(buildRecordBatch(schema, inputs(rows))));
    return message;
  }

  it("for every column and bad value, in the middle of good rows", () => {
    for (const [column, values] of Object.entries({ ...badValues, ...arrowOnlyBadValues })) {
      for (const bad of values) {
        for (const nullsFirst of [false, true]) {
          check(good.slice(0, 10), badRow(good[10]!.input, column, bad, nullsFirst), column, good.slice(11));
        }
      }
    }
  });

  it("for random rows around it (property)", () => {
    const cases = Object.entries(badValues).flatMap(([c, vs]) => vs.map((v) => [c, v] as const));
    fc.assert(
      fc.property(
        fc.array(rowCase, { maxLength: 70 }),
        rowCase,
        fc.constantFrom(...cases),
        fc.boolean(),
        fc.array(rowCase, { maxLength: 70 }),
        (before, base, [column, bad], nullsFirst, after) => {
          check(before, badRow(base.input, column, bad, nullsFirst), column, after);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("for rows that are not objects or name unknown columns", () => {
    const builder = new ArrowBatchBuilder(schema);
    builder.append(good[0]!.input);
    expect(mismatch(() => builder.append(null as unknown as InputRow))).toBe(
      "row 1: expected an object, got null",
    );
    expect(mismatch(() => builder.append([] as unknown as InputRow))).toMatch(/^row 1: expected an object/);
    expect(mismatch(() => builder.append({ ...good[1]!.input, nope: 1 }))).toMatch(
      /^row 1: unknown column 'nope'/,
    );
    expect(builder.rowCount).toBe(1);
  });
});

describe("reuse", () => {
  it("after build the builder starts over, and a built batch is never written again", () => {
    const rows = sample(300, 3);
    const builder = new ArrowBatchBuilder(schema);
    const fresh = builder.sizeBytes;
    for (const c of rows.slice(0, 20)) builder.append(c.input);
    const first = builder.build();
    const firstBytes = batchBytes(first);
    expect(builder.rowCount).toBe(0);
    expect(builder.sizeBytes).toBe(fresh);
    for (const c of rows.slice(20)) builder.append(c.input);
    const second = builder.build();
    expect(batchBytes(first)).toEqual(firstBytes);
    expect(batchBytes(second)).toEqual(batchBytes(buildRecordBatch(schema, inputs(rows.slice(20)))));
    expect(readRows(first, schema.columns)).toEqual(rows.slice(0, 20).map((c) => c.expected));
  });

  it("reset drops the rows without building", () => {
    const rows = sample(10, 4);
    const builder = new ArrowBatchBuilder(schema);
    for (const c of rows) builder.append(c.input);
    builder.reset();
    expect(builder.rowCount).toBe(0);
    builder.append(rows[9]!.input);
    expect(batchBytes(builder.build())).toEqual(batchBytes(buildRecordBatch(schema, [rows[9]!.input])));
  });
});

describe("sizeBytes and validity", () => {
  const small = parseSchema("id BIGINT NOT NULL, name STRING, n INT");

  it("grows with the appended data and equals the uncompressed IPC body", () => {
    const builder = new ArrowBatchBuilder(small);
    expect(builder.sizeBytes).toBe(8); // the offsets [0] of `name`, padded
    let last = builder.sizeBytes;
    let payload = 0;
    for (let i = 0; i < 100; i++) {
      builder.append({ id: i, name: "é".repeat(i * 10), n: i });
      payload += 8 + 4 + 4 + i * 20; // id, n, an offset, the UTF-8 bytes
      expect(builder.sizeBytes).toBeGreaterThan(last);
      expect(builder.sizeBytes).toBeGreaterThanOrEqual(payload);
      expect(builder.sizeBytes).toBeLessThan(payload + 32); // padding of 4 buffers
      last = builder.sizeBytes;
    }
    expect(last).toBe(bodyBytes(builder.build()));
    expect(builder.sizeBytes).toBe(8);
  });

  it("allocates a column's validity bitmap at its first null only, and drops it on rollback", () => {
    const builder = new ArrowBatchBuilder(small);
    const twin = new ArrowBatchBuilder(small);
    for (let i = 0; i < 9; i++) {
      builder.append({ id: i, name: "a", n: i });
      twin.append({ id: i, name: "a", n: i });
    }
    expect(builder.sizeBytes).toBe(twin.sizeBytes);
    expect(mismatch(() => builder.append({ id: 9, name: null, n: "bad" }))).toMatch(
      /column 'n' \(INT\) row 9/,
    );
    expect(builder.sizeBytes).toBe(twin.sizeBytes);
    builder.append({ id: 9, n: 1 });
    twin.append({ id: 9, name: "", n: 1 });
    expect(builder.sizeBytes).toBe(twin.sizeBytes + 8); // a 2-byte bitmap, padded
    const [withNull, without] = [builder.build(), twin.build()];
    expect(withNull.getChild("name")!.nullCount).toBe(1);
    expect(withNull.getChild("n")!.data[0]!.nullBitmap?.byteLength ?? 0).toBe(0);
    expect(without.getChild("name")!.data[0]!.nullBitmap?.byteLength ?? 0).toBe(0);
    expect(readRows(withNull, small.columns)[9]).toEqual({ id: 9n, name: null, n: 1 });
  });

  it("feeds buildArrowLogBatch as a prebuilt record batch", () => {
    const rows = inputs(sample(50, 5));
    const builder = new ArrowBatchBuilder(schema);
    for (const r of rows) builder.append(r);
    const common = { schema, schemaId: 3, compression: NO_COMPRESSION, writerId: 7n, batchSequence: 1 };
    expect(buildArrowLogBatch({ ...common, recordBatch: builder.build() })).toEqual(
      buildArrowLogBatch({ ...common, rows }),
    );
  });
});

describe("converters shared with the COMPACTED row writer", () => {
  const types = schema.columns.map((c) => c.type);
  const names = schema.columns.map((c) => c.name);

  it("accept the same values (property)", () => {
    fc.assert(
      fc.property(rowCase, ({ input }) => {
        encodeCompactedRow(
          types,
          names.map((n) => input[n]),
          names,
        );
      }),
      { numRuns: 200 },
    );
  });

  it("refuse the same values with the same message (the batch adds the row index)", () => {
    const base = sample(1, 9)[0]!.input;
    for (const [column, values] of Object.entries(badValues)) {
      const type = schema.columns.find((c) => c.name === column)!.type;
      for (const bad of values) {
        const arrow = mismatch(() => new ArrowBatchBuilder(schema).append({ ...base, [column]: bad }));
        const row = mismatch(() => encodeCompactedRow([type], [bad], [column]));
        if (bad === null) expect([arrow, row]).toEqual([expect.stringMatching(/must not be null/), row]);
        else expect(arrow.replace(" row 0:", ":")).toBe(row);
      }
    }
  });

  it("Arrow alone refuses TIMESTAMP(7..9) instants beyond 64-bit nanoseconds", () => {
    for (const [column, values] of Object.entries(arrowOnlyBadValues)) {
      const type = schema.columns.find((c) => c.name === column)!.type;
      for (const bad of values) {
        const base = sample(1, 9)[0]!.input;
        expect(mismatch(() => new ArrowBatchBuilder(schema).append({ ...base, [column]: bad }))).toMatch(
          /out of range: TIMESTAMP\(9\) holds 64-bit nanoseconds/,
        );
        expect(() => encodeCompactedRow([type], [bad], [column])).not.toThrow();
      }
    }
  });
});
