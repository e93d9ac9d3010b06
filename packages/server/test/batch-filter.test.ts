// The server's batch selector with truncated string statistics: batches whose min / max are
// bounds cut from long strings (not values of the batch) are skipped only when no row can match,
// and batches with an unknown max are kept.

import {
  buildArrowLogBatch,
  NO_COMPRESSION,
  parsePredicate,
  parseSchema,
  readBatchHeader,
} from "@fluss-ts/common";
import { describe, expect, it } from "vitest";
import { batchSelector } from "../src/tablet/batch-filter.ts";

const schema = parseSchema("id INT, s STRING");
const long = (c: string) => c.repeat(200);

function keeps(where: string, values: string[]): boolean {
  const batch = buildArrowLogBatch({
    schema,
    schemaId: 1,
    rows: values.map((s, id) => ({ id, s })),
    compression: NO_COMPRESSION,
    statistics: true,
  });
  const header = readBatchHeader(batch);
  return batchSelector(schema, parsePredicate(where, schema))(batch, header);
}

describe("batchSelector with truncated string statistics", () => {
  it("keeps a batch whose long value equals the literal, though its bounds are prefixes", () => {
    const v = long("m");
    expect(keeps(`s = '${v}'`, [v])).toBe(true);
    expect(keeps(`s >= '${v}'`, [v])).toBe(true);
    expect(keeps(`s <= '${v}'`, [v])).toBe(true);
    expect(keeps(`s IN ('${v}', 'q')`, [v])).toBe(true);
    expect(keeps(`s LIKE '${v.slice(0, 150)}%'`, [v])).toBe(true);
  });

  it("never reads equal truncated bounds as 'every value equals the literal'", () => {
    // Every row holds the same long value: min is its 64-byte prefix, max that prefix rounded up.
    const v = long("m");
    expect(keeps(`s <> '${v.slice(0, 64)}'`, [v, v])).toBe(true);
    expect(keeps(`s <> '${v}'`, [v, v, `${v}x`])).toBe(true);
    expect(keeps(`NOT s LIKE '${v.slice(0, 100)}%'`, [v, `${v.slice(0, 100)}z`])).toBe(true);
  });

  it("still skips batches the bounds rule out", () => {
    expect(keeps(`s = 'z'`, [long("m"), long("n")])).toBe(false);
    expect(keeps(`s < 'm'`, [long("m"), long("n")])).toBe(false);
    expect(keeps(`s > 'o'`, [long("m"), long("n")])).toBe(false);
    expect(keeps(`s = '${long("m")}'`, ["a", "b"])).toBe(false);
  });

  it("keeps a batch whose max cannot be rounded up (no upper bound stored)", () => {
    const top = "\u{10ffff}".repeat(40);
    expect(keeps(`s > '${"\u{10ffff}".repeat(39)}'`, [top])).toBe(true);
    expect(keeps(`s = '${top}'`, [top, "a"])).toBe(true);
  });
});
