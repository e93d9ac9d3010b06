// A table whose replica a real tablet server cannot open is rolled back end to end: the client's
// create fails with the server's reason, the table is not listed, nothing of it is on disk, and the
// name can be created again once the obstacle is gone. The obstacle: a plain file where the
// replica's table directory goes (refused even for root, unlike permissions).

import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isFlussError } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("a replica that cannot be opened", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("leaves no half-created table", async () => {
    // The store's first table id is 1: the replica of fluss.blocked would live in blocked-1.
    const dbDir = join(tc.dataDir, "tablet-server-0", "fluss");
    await mkdir(dbDir, { recursive: true });
    const obstacle = join(dbDir, "blocked-1");
    await writeFile(obstacle, "not a directory");
    const err = await tc.conn.admin.createTable("fluss.blocked", { schema: "id BIGINT", buckets: 2 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isFlussError(err)).toBe(true);
    expect((err as Error).message).toMatch(/fluss\.blocked was not created: tablet server 0/);
    expect(await tc.conn.admin.tableExists("fluss.blocked")).toBe(false);
    expect(await tc.conn.admin.listTables("fluss")).not.toContain("blocked");
    expect((await readdir(dbDir)).sort()).toEqual(["blocked-1"]);

    await rm(obstacle);
    await tc.conn.admin.createTable("fluss.blocked", { schema: "id BIGINT", buckets: 2 });
    const table = await tc.conn.getTable("fluss.blocked");
    const writer = table.newAppendWriter();
    await writer.append({ id: 1n });
    await writer.flush();
    await writer.close();
    expect(existsSync(join(dbDir, `blocked-${table.info.tableId}`, "log-0"))).toBe(true);
  });
});
