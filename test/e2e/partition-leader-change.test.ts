// A writer to a partition whose bucket leader moves: the partition's route is fetched again (by
// partition id) when a bucket of it refuses a batch, so the writer reaches the new leader and
// carries on with no error, every row once — as it does for a table without partitions.

import { describe, expect, it } from "vitest";
import { startCluster } from "../helpers/cluster.ts";
import { until } from "../helpers/replication.ts";

describe("a writer to a partition whose leader moves", () => {
  it("follows the partition's new leader, nothing lost or duplicated", async () => {
    const tc = await startCluster({
      "tablet-server.count": "3",
      "tablet-server.heartbeat-interval": "500 ms",
      "tablet-server.session-timeout": "3 s",
    });
    try {
      await tc.conn.admin.createTable("fluss.daily_moves", {
        schema: "id BIGINT NOT NULL, dt STRING NOT NULL",
        partitionKeys: ["dt"],
        buckets: 1,
        options: { "table.replication.factor": "3" },
      });
      const table = await tc.conn.getTable("fluss.daily_moves");
      const w = table.newAppendWriter({ deliveryTimeoutMs: 120_000 });
      await (await w.append({ id: 0n, dt: "x" })).acknowledged;
      const [p] = await tc.conn.admin.listPartitions("fluss.daily_moves");
      const leaderOf = async () =>
        (
          await tc.cluster.coordinator.coordinator.bucketStates(table.info.tableId, p!.partitionId)
        ).leaders.get(0);
      const before = (await leaderOf())!;
      let written = 1;
      const writing = (async () => {
        for (; written < 3000; written++) {
          await w.append({ id: BigInt(written), dt: "x" });
          if (written % 200 === 0) await new Promise((r) => setTimeout(r, 5));
        }
        await w.flush();
      })();
      await until("some rows written", () => written > 1000);
      await tc.cluster.tabletServers[before.leader]!.stop();
      const after = (await leaderOf())!;
      expect(after.leader).not.toBe(before.leader);
      await writing;
      await w.close();
      const ids: bigint[] = [];
      for await (const r of table.newLogScanner({ untilLatest: true })) ids.push(r.row.id as bigint);
      expect(ids).toHaveLength(3000);
      expect(new Set(ids).size).toBe(3000);
    } finally {
      await tc.stop();
    }
  }, 60_000);
});
