// Oversized rows end to end: a row over the writer's requestBytesMax (10 MiB by default) fails
// its own append / upsert with RECORD_TOO_LARGE_EXCEPTION while the rows around it are stored in
// order; a row over batchSizeBytes but within the limit is stored alone, read back whole, and costs
// about its own size on disk (bounded statistics); `fluss produce` / `fluss upsert` name the line
// of such a row and exit 2; and the server's own answer to a batch over its segment size.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const MiB = 1024 * 1024;
/** Over the default requestBytesMax of 10 MiB. */
const TOO_LARGE = 10 * MiB + 4096;

async function rejection(p: Promise<unknown>): Promise<FlussError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FlussError);
  return e as FlussError;
}

/** Bytes of the .log segment files of a table (all buckets, all tablet servers). */
async function logBytes(dataDir: string, db: string, table: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string, inTable: boolean): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, inTable || (e.name.startsWith(`${table}-`) && dir.endsWith(db)));
      else if (inTable && e.name.endsWith(".log")) total += (await stat(p)).size;
    }
  };
  await walk(dataDir, false);
  return total;
}

describe("oversized rows", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster();
    await tc.conn.admin.createDatabase("big");
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("a log writer refuses a too-large row and writes the rows around it in order", async () => {
    await tc.conn.admin.createTable("big.events", {
      schema: "id BIGINT NOT NULL, s STRING",
      buckets: 1,
      options: { "table.log.arrow.compression.type": "NONE" },
    });
    const t = await tc.conn.getTable("big.events");
    const w = t.newAppendWriter();
    for (let i = 0; i < 5; i++) await w.append({ id: BigInt(i), s: `row ${i}` });
    // Over batchSizeBytes (2 MiB) but within the request limit: stored alone.
    const three = "3".repeat(3 * MiB);
    await w.append({ id: 5n, s: three });
    const err = await rejection(w.append({ id: 6n, s: "x".repeat(TOO_LARGE) }));
    expect(err.code).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    expect(err.message).toMatch(/row of \d+ bytes exceeds the writer's requestBytesMax of 10485760 bytes/);
    for (let i = 7; i < 10; i++) await w.append({ id: BigInt(i), s: `row ${i}` });
    await w.close();

    const rows: { id: bigint; len: number }[] = [];
    for await (const r of t.newLogScanner({ untilLatest: true })) {
      rows.push({ id: r.row.id as bigint, len: (r.row.s as string).length });
    }
    expect(rows.map((r) => r.id)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 7n, 8n, 9n]);
    expect(rows.find((r) => r.id === 5n)?.len).toBe(3 * MiB);
    // The 3 MiB string is stored once (uncompressed), its statistics bounded: not 9 MiB.
    const onDisk = await logBytes(tc.dataDir, "big", "events");
    expect(onDisk).toBeGreaterThan(3 * MiB);
    expect(onDisk).toBeLessThan(3 * MiB + 64 * 1024);
    // Filters over the long values still find it (the server keeps the batch, the client matches).
    const hits: bigint[] = [];
    for await (const r of t.newLogScanner({ untilLatest: true, filter: `s = '${three}'` })) {
      hits.push(r.row.id as bigint);
    }
    expect(hits).toEqual([5n]);
  });

  it("a row just under the limit is written and read back (fetches return a batch over their size)", async () => {
    await tc.conn.admin.createTable("big.near", { schema: "id BIGINT NOT NULL, s STRING", buckets: 1 });
    const t = await tc.conn.getTable("big.near");
    const w = t.newAppendWriter();
    const near = "n".repeat(10 * MiB - 4096);
    await w.append({ id: 1n, s: near });
    await w.append({ id: 2n, s: "after" });
    await w.close();
    const got: [bigint, number][] = [];
    for await (const r of t.newLogScanner({ untilLatest: true })) {
      got.push([r.row.id as bigint, (r.row.s as string).length]);
    }
    expect(got).toEqual([
      [1n, near.length],
      [2n, 5],
    ]);
  });

  it("an upsert writer refuses a too-large row and goes on", async () => {
    await tc.conn.admin.createTable("big.users", {
      schema: "id INT NOT NULL, v STRING, PRIMARY KEY (id)",
      buckets: 1,
    });
    const t = await tc.conn.getTable("big.users");
    const w = t.newUpsertWriter();
    await w.upsert({ id: 1, v: "one" });
    const err = await rejection(w.upsert({ id: 2, v: "x".repeat(TOO_LARGE) }));
    expect(err.code).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    await w.upsert({ id: 3, v: "4".repeat(4 * MiB) });
    await w.upsert({ id: 1, v: "uno" });
    await w.close();
    const lookup = t.newLookuper();
    expect(await lookup.lookup({ id: 1 })).toEqual({ id: 1, v: "uno" });
    expect(await lookup.lookup({ id: 2 })).toBeNull();
    const three = await lookup.lookup({ id: 3 });
    expect((three?.v as string | undefined)?.length).toBe(4 * MiB);
  });

  it("fluss produce and fluss upsert name the line of a too-large row and exit 2", async () => {
    const b = ["--bootstrap", tc.bootstrap];
    await tc.conn.admin.createTable("big.lines", { schema: "id BIGINT, s STRING", buckets: 1 });
    const input = [
      JSON.stringify({ id: 1, s: "first" }),
      JSON.stringify({ id: 2, s: "x".repeat(TOO_LARGE) }),
      JSON.stringify({ id: 3, s: "third" }),
    ].join("\n");
    const p = await runCli([...b, "produce", "big.lines"], `${input}\n`);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/line 2: a row of \d+ bytes exceeds the writer's requestBytesMax/);
    expect(p.stderr).toMatch(
      /1 row committed \(every row before the failure\); nothing from line 2 on was written/,
    );
    const c = await runCli([...b, "consume", "big.lines"]);
    expect(c.code, c.stderr).toBe(0);
    expect(
      c.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id),
    ).toEqual([1]);

    const u = await runCli(
      [...b, "upsert", "big.users"],
      `${JSON.stringify({ id: 7, v: "seven" })}\n${JSON.stringify({ id: 8, v: "x".repeat(TOO_LARGE) })}\n`,
    );
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/line 2: a row of \d+ bytes exceeds/);
    const t = await tc.conn.getTable("big.users");
    expect(await t.newLookuper().lookup({ id: 7 })).toEqual({ id: 7, v: "seven" });
  });
});

describe("a batch over the server's segment size", () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startCluster({ "log.segment.file-size": "1mb" });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("is refused by the leader with RECORD_TOO_LARGE_EXCEPTION, which flush reports", async () => {
    await tc.conn.admin.createTable("fluss.small_segments", {
      schema: "id BIGINT, s STRING",
      buckets: 1,
      options: { "table.log.arrow.compression.type": "NONE" },
    });
    const t = await tc.conn.getTable("fluss.small_segments");
    const w = t.newAppendWriter();
    await w.append({ id: 1n, s: "fits" });
    await w.flush();
    // Within the writer's 10 MiB limit, so only the server can refuse it.
    await w.append({ id: 2n, s: "x".repeat(2 * MiB) });
    const err = await rejection(w.flush());
    expect(err.code).toBe(Errors.RECORD_TOO_LARGE_EXCEPTION.code);
    expect(err.message).toMatch(/exceeds the segment size 1048576/);
    await w.close().catch(() => undefined);
    const ids: bigint[] = [];
    for await (const r of t.newLogScanner({ untilLatest: true })) ids.push(r.row.id as bigint);
    expect(ids).toEqual([1n]);
  });
});
