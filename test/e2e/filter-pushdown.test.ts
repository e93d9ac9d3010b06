// Filter pushdown: a scan with a filter returns exactly the rows a full scan filtered in the client
// returns (property test over random data and random filters), and a selective filter on a
// column correlated with time skips whole batches on the server.

import { evaluatePredicate, parsePredicate, predicateToString, toScalar } from "@fluss-ts/common";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const SCHEMA = "id BIGINT NOT NULL, price DOUBLE, region STRING, qty INT, day DATE";

describe("filter pushdown", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createTable("fluss.sales", { schema: SCHEMA, buckets: 2 });
    const t = await tc.conn.getTable("fluss.sales");
    const w = t.newAppendWriter({ batchSizeBytes: 4 * 1024, lingerMs: 1 });
    const rnd = fc.sample(
      fc.record({
        price: fc.option(fc.double({ min: -1000, max: 1000, noNaN: true }), { nil: null }),
        region: fc.option(fc.constantFrom("EU", "US", "APAC", "LATAM"), { nil: null }),
        qty: fc.option(fc.integer({ min: -50, max: 50 }), { nil: null }),
        day: fc.option(fc.constantFrom("2026-11-01", "2026-11-15", "2026-11-26"), { nil: null }),
      }),
      { numRuns: 3000, seed: 7 },
    );
    for (let i = 0; i < rnd.length; i++) await w.append({ id: BigInt(i), ...rnd[i]! });
    await w.close();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  async function scan(filter?: string, columns?: string[]): Promise<Array<Record<string, unknown>>> {
    const t = await tc.conn.getTable("fluss.sales");
    const out: Array<Record<string, unknown>> = [];
    for await (const r of t.newLogScanner({
      untilLatest: true,
      ...(filter ? { filter } : {}),
      ...(columns ? { columns } : {}),
    })) {
      out.push(r.row);
    }
    return out;
  }

  it("returns the same rows as a full scan filtered in the client", async () => {
    const t = await tc.conn.getTable("fluss.sales");
    const schema = t.info.descriptor.schema;
    const all = await scan();
    expect(all.length).toBe(3000);
    const leaf = fc.oneof(
      fc
        .tuple(
          fc.constantFrom("price", "qty"),
          fc.constantFrom("<", "<=", ">", ">=", "=", "<>"),
          fc.integer({ min: -60, max: 60 }),
        )
        .map(([c, op, v]) => `${c} ${op} ${v}`),
      fc.constantFrom(
        "region = 'EU'",
        "region IN ('US', 'APAC')",
        "region IS NULL",
        "qty IS NOT NULL",
        "day >= DATE '2026-11-15'",
      ),
    );
    const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
      e: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.tuple(tie("e"), fc.constantFrom("AND", "OR"), tie("e")).map(([a, op, b]) => `(${a}) ${op} (${b})`),
        tie("e").map((a) => `NOT (${a})`),
      ),
    })).e as fc.Arbitrary<string>;
    await fc.assert(
      fc.asyncProperty(expr, async (text) => {
        const p = parsePredicate(text, schema);
        const expected = all
          .filter(
            (row) =>
              evaluatePredicate(
                p,
                schema.columns.map((c) => (row[c.name] === null ? null : toScalar(c.type, row[c.name]))),
              ) === true,
          )
          .map((r) => r.id)
          .sort();
        const got = (await scan(text)).map((r) => r.id).sort();
        expect(got, predicateToString(p)).toEqual(expected);
        const projected = await scan(text, ["id"]);
        expect(projected.every((r) => Object.keys(r).length === 1)).toBe(true);
        expect(projected.length).toBe(expected.length);
      }),
      { numRuns: 40, seed: 42 },
    );
  });

  it("skips batches whose statistics rule a selective filter out", async () => {
    const t = await tc.conn.getTable("fluss.sales");
    const full = t.newLogScanner({ untilLatest: true });
    for await (const _ of full.batches()) {
      /* drain */
    }
    const selective = t.newLogScanner({ untilLatest: true, filter: "id >= 2970" });
    let rows = 0;
    for await (const _ of selective) rows++;
    expect(rows).toBe(30);
    expect(selective.stats().fetchedBytes * 10).toBeLessThan(full.stats().fetchedBytes);
  });
});
