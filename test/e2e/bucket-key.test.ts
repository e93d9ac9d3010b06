// Rows with the same bucket key land in the bucket Fluss's bucketing function picks, in order.

import { bucketForKey, encodeKey, parseType } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("bucket keys", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("routes every row of a key to its bucket and keeps the key's order", async () => {
    await tc.conn.admin.createTable("fluss.clicks", {
      schema: "user_id BIGINT NOT NULL, seq INT NOT NULL",
      buckets: 4,
      bucketKeys: ["user_id"],
    });
    const table = await tc.conn.getTable("fluss.clicks");
    const writer = table.newAppendWriter({ lingerMs: 1 });
    for (let seq = 0; seq < 50; seq++) {
      for (let user = 0; user < 20; user++) await writer.append({ user_id: BigInt(user), seq });
    }
    await writer.close();
    const lastSeq = new Map<bigint, number>();
    const type = parseType("BIGINT NOT NULL");
    let n = 0;
    for await (const rec of table.newLogScanner({ untilLatest: true })) {
      const user = rec.row.user_id as bigint;
      expect(rec.bucket).toBe(bucketForKey(encodeKey([type], [user]), 4));
      expect(rec.row.seq as number).toBe((lastSeq.get(user) ?? -1) + 1);
      lastSeq.set(user, rec.row.seq as number);
      n++;
    }
    expect(n).toBe(1000);
    const used = new Set<number>();
    for (let u = 0n; u < 20n; u++) used.add(bucketForKey(encodeKey([type], [u]), 4));
    expect(used.size).toBeGreaterThan(1);
  });

  it("refuses a bucket key that is not a column", async () => {
    await expect(
      tc.conn.admin.createTable("fluss.bad", { schema: "a INT", bucketKeys: ["b"] }),
    ).rejects.toThrow(/bucket key column 'b' does not exist/);
  });
});
