// Lake invariants under random interleavings, through a real local cluster:
// - random appends / upserts / deletes and tiering rounds (some dying before their commit)
//   interleaved: after every step the union read equals the full log (log table) or the key
//   state (primary-key table), each record exactly once;
// - a round that dies after writing its files publishes nothing, and the next round resumes
//   from the last committed offsets (no loss, no duplicate);
// - two writers committing on the same base version: exactly one wins.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "@fluss-ts/common";
import { LakeTable, tierRound, UnionScanner } from "@fluss-ts/lake";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const norm = (r: Record<string, unknown>) =>
  JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v));

type Step =
  | { kind: "write"; n: number }
  | { kind: "kv"; keys: number[]; deletes: number[] }
  | { kind: "tier"; crash: boolean };

const steps = fc.array(
  fc.oneof(
    {
      arbitrary: fc.record({ kind: fc.constant("write" as const), n: fc.integer({ min: 1, max: 40 }) }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("kv" as const),
        keys: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 12 }),
        deletes: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }),
      }),
      weight: 3,
    },
    { arbitrary: fc.record({ kind: fc.constant("tier" as const), crash: fc.boolean() }), weight: 2 },
  ),
  { minLength: 3, maxLength: 9 },
);

describe("lake tiering properties", () => {
  let tc: TestCluster;
  let warehouse: string;
  let n = 0;
  beforeAll(async () => {
    tc = await startCluster();
    warehouse = await mkdtemp(join(tmpdir(), "fluss-lake-prop-"));
  });
  afterAll(async () => {
    await tc?.stop();
    await rm(warehouse, { recursive: true, force: true });
  });

  async function union(name: string): Promise<{ rows: string[]; sources: string[] }> {
    const t = await tc.conn.getTable(name);
    const rows: string[] = [];
    const sources: string[] = [];
    for await (const r of new UnionScanner(t, tc.conn.admin, { warehouse })) {
      rows.push(norm(r.row));
      sources.push(`${r.bucket}:${r.offset}`);
    }
    return { rows, sources };
  }

  async function round(name: string, crash: boolean): Promise<void> {
    const t = await tc.conn.getTable(name);
    const lake = (await LakeTable.open(warehouse, t.info, systemClock, true))!;
    if (crash) {
      // The round dies after writing its files, before the commit is published.
      lake.commit = async () => {
        throw new Error("killed before commit");
      };
      // (A round with nothing new commits nothing, so it has nothing to die in.)
      const r = await tierRound(tc.conn.admin, t, lake, { clock: systemClock }).catch((e: Error) => e);
      if (r instanceof Error) expect(r.message).toBe("killed before commit");
      else expect(r.committed).toBe(false);
      return;
    }
    await tierRound(tc.conn.admin, t, lake, { clock: systemClock });
  }

  it("union read = full log / key state at every step", async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (plan: Step[]) => {
        const id = n++;
        const logName = `fluss.plog_${id}`;
        const kvName = `fluss.pkv_${id}`;
        await tc.conn.admin.createTable(logName, {
          schema: "id BIGINT NOT NULL, s STRING",
          buckets: 2,
          options: { "table.datalake.enabled": "true" },
        });
        await tc.conn.admin.createTable(kvName, {
          schema: "k INT NOT NULL, v INT, PRIMARY KEY (k)",
          buckets: 2,
          options: { "table.datalake.enabled": "true" },
        });
        const log = (await tc.conn.getTable(logName)).newAppendWriter();
        const kv = (await tc.conn.getTable(kvName)).newUpsertWriter();
        const logModel: string[] = [];
        const kvModel = new Map<number, string>();
        let next = 0;
        let version = 0;
        for (const s of plan) {
          if (s.kind === "write") {
            for (let i = 0; i < s.n; i++, next++) {
              await log.append({ id: BigInt(next), s: `r${next}` });
              logModel.push(norm({ id: next, s: `r${next}` }));
            }
            await log.flush();
          } else if (s.kind === "kv") {
            for (const k of s.keys) {
              version++;
              await kv.upsert({ k, v: version });
              kvModel.set(k, norm({ k, v: version }));
            }
            for (const k of s.deletes) {
              await kv.delete({ k });
              kvModel.delete(k);
            }
            await kv.flush();
          } else {
            await round(logName, s.crash);
            await round(kvName, s.crash);
          }
          const u = await union(logName);
          expect(u.rows.sort()).toEqual([...logModel].sort());
          expect(new Set(u.sources).size).toBe(u.sources.length);
          const k = await union(kvName);
          expect(k.rows.sort()).toEqual([...kvModel.values()].sort());
        }
        await log.close();
        await kv.close();
      }),
      { numRuns: 6, seed: 20261207 },
    );
  });

  it("of two commits on the same base version exactly one wins", async () => {
    await tc.conn.admin.createTable("fluss.race", {
      schema: "id BIGINT NOT NULL",
      buckets: 1,
      options: { "table.datalake.enabled": "true" },
    });
    const t = await tc.conn.getTable("fluss.race");
    const w = t.newAppendWriter();
    for (let i = 0; i < 10; i++) await w.append({ id: BigInt(i) });
    await w.flush();
    const a = (await LakeTable.open(warehouse, t.info, systemClock, true))!;
    const b = (await LakeTable.open(warehouse, t.info, systemClock, true))!;
    const offsets = { tableId: t.info.tableId, buckets: new Map() };
    const results = await Promise.allSettled([
      a.commit({ files: [], offsets, recordsRead: 0, durationMs: 0 }, systemClock),
      b.commit({ files: [], offsets, recordsRead: 0, durationMs: 0 }, systemClock),
    ]);
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason.name).toBe("CommitConflict");
    // The loser's next round starts from the winner's state and commits.
    await b.refresh();
    const r = await tierRound(tc.conn.admin, t, b, { clock: systemClock });
    expect(r.committed).toBe(true);
    const rows: string[] = [];
    for await (const x of new UnionScanner(t, tc.conn.admin, { warehouse }))
      rows.push(`${x.source}:${x.row.id}`);
    expect(rows.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `lake:${i}`).sort());
  });
});
