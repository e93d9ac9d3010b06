// Offsets by timestamp and retention by table.log.ttl, with the server's clock moved by hand.

import { ManualClock } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const HOUR = 3_600_000;

describe("offsets and retention", () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 26));
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster({ "log.segment.file-size": "2kb" }, undefined, clock);
  });
  afterAll(async () => {
    await tc?.stop();
  });

  async function writeRound(table: string, from: number, n: number): Promise<void> {
    const t = await tc.conn.getTable(table);
    const w = t.newAppendWriter({ lingerMs: 0, batchSizeBytes: 1024 });
    for (let i = from; i < from + n; i++) {
      await w.append({ id: BigInt(i), pad: "p".repeat(40) });
      if (i % 10 === 9) await w.flush();
    }
    await w.close();
  }

  it("finds the first offset at or after a timestamp", async () => {
    await tc.conn.admin.createTable("fluss.ts", { schema: "id BIGINT, pad STRING", buckets: 1 });
    const t0 = clock.nowMs();
    await writeRound("fluss.ts", 0, 30);
    clock.advance(HOUR);
    await writeRound("fluss.ts", 30, 30);
    const at = await tc.conn.admin.listOffsets("fluss.ts", { timestamp: t0 + HOUR });
    expect(at.get(0)).toBe(30n);
    const before = await tc.conn.admin.listOffsets("fluss.ts", { timestamp: t0 - HOUR });
    expect(before.get(0)).toBe(0n);
    const after = await tc.conn.admin.listOffsets("fluss.ts", { timestamp: t0 + 5 * HOUR });
    expect(after.get(0)).toBe(60n);
    const t = await tc.conn.getTable("fluss.ts");
    const ids: bigint[] = [];
    for await (const r of t.newLogScanner({ from: { timestamp: t0 + HOUR }, untilLatest: true })) {
      ids.push(r.row.id as bigint);
    }
    expect(ids[0]).toBe(30n);
    expect(ids.length).toBe(30);
  });

  it("deletes closed segments older than table.log.ttl and moves the earliest offset", async () => {
    await tc.conn.admin.createTable("fluss.ttl", {
      schema: "id BIGINT, pad STRING",
      buckets: 1,
      options: { "table.log.ttl": "2 h" },
    });
    await writeRound("fluss.ttl", 0, 100);
    clock.advance(3 * HOUR);
    await writeRound("fluss.ttl", 100, 20);
    const tasks = tc.cluster.tabletServers[0]!.tasks;
    expect(await tasks.enforceRetention()).toBeGreaterThan(0);
    const earliest = (await tc.conn.admin.listOffsets("fluss.ttl", "earliest")).get(0)!;
    expect(earliest).toBeGreaterThan(0n);
    expect(earliest).toBeLessThanOrEqual(100n);
    const t = await tc.conn.getTable("fluss.ttl");
    const ids: bigint[] = [];
    for await (const r of t.newLogScanner({ untilLatest: true })) ids.push(r.row.id as bigint);
    expect(ids[0]).toBe(earliest);
    expect(ids.at(-1)).toBe(119n);
    // Reading from before the earliest offset is refused with a typed error.
    const stale = t.newLogScanner({ from: { offset: 0 }, untilLatest: true });
    await expect(
      (async () => {
        for await (const _ of stale) {
          /* drain */
        }
      })(),
    ).rejects.toMatchObject({ code: 19 });
  });
});
