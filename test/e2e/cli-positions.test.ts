// `fluss consume --save-positions FILE` / `--from-positions FILE`: a consumer stopped by --limit or
// by Ctrl-C while following, then restarted with its file, prints every row exactly once (none
// missing, none repeated); the file is replaced atomically and is plain JSON; a missing file starts
// from --from, a bad one or one of another table is refused (exit 2).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

function ids(stdout: string): number[] {
  return stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => (JSON.parse(l) as { id: number }).id);
}

function expectEachOnce(seen: number[], expected: number): void {
  expect(seen.length).toBe(expected);
  expect(new Set(seen).size).toBe(expected);
}

describe("fluss consume with a positions file", () => {
  let tc: TestCluster;
  let b: string[];
  let dir: string;
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
    dir = await mkdtemp(join(tmpdir(), "fluss-positions-"));
    await tc.conn.admin.createTable("fluss.events", { schema: "id BIGINT NOT NULL, pad STRING", buckets: 3 });
    const w = (await tc.conn.getTable("fluss.events")).newAppendWriter({ batchSizeBytes: 1024 });
    for (let i = 0; i < 300; i++) await w.append({ id: BigInt(i), pad: "p".repeat(30) });
    await w.close();
  });
  afterAll(async () => {
    await tc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("continues where --limit stopped it, run after run", async () => {
    const file = join(dir, "limit.json");
    const args = [...b, "consume", "events", "--from-positions", file, "--save-positions", file];
    const first = await runCli([...args, "--limit", "70"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/no positions in .*limit\.json yet: starting from earliest/);
    const saved = JSON.parse(await readFile(file, "utf8")) as { table: string; buckets: unknown[] };
    expect(saved.table).toBe("fluss.events");
    expect(saved.buckets.length).toBe(3);
    const second = await runCli([...args, "--limit", "100"]);
    const third = await runCli(args);
    expect(third.code, third.stderr).toBe(0);
    const all = [...ids(first.stdout), ...ids(second.stdout), ...ids(third.stdout)];
    expect(ids(first.stdout).length).toBe(70);
    expect(ids(second.stdout).length).toBe(100);
    expectEachOnce(all, 300);
    // Nothing left: another run prints nothing; no temporary file is left behind.
    expect((await runCli(args)).stdout).toBe("");
    expect((await readdir(dir)).filter((f) => f.includes("tmp"))).toEqual([]);
  });

  it("continues where Ctrl-C stopped a following consumer", async () => {
    await tc.conn.admin.createTable("fluss.live", { schema: "id BIGINT NOT NULL", buckets: 2 });
    const t = await tc.conn.getTable("fluss.live");
    const file = join(dir, "live.json");
    const args = [...b, "consume", "live", "--follow", "--from-positions", file, "--save-positions", file];
    const consumer = spawnCli([...args, "--save-interval-ms", "50"]);
    // A producer keeps writing while the consumer runs and is interrupted.
    const w = t.newAppendWriter({ lingerMs: 5 });
    let next = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        for (let k = 0; k < 20; k++) await w.append({ id: BigInt(next++) });
        await w.flush();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await consumer.waitFor((out) => ids(out).length >= 150);
    consumer.kill("SIGINT");
    expect(await consumer.exited).toBe(0);
    const before = ids(consumer.stdout());
    producing = false;
    await producer;
    await w.close();
    // Restarted: the rest (no --follow: up to the end at start).
    const rest = await runCli(args.filter((a) => a !== "--follow"));
    expect(rest.code, rest.stderr).toBe(0);
    expectEachOnce([...before, ...ids(rest.stdout)], next);
    expect(ids(rest.stdout).length).toBeGreaterThan(0);
  });

  it("refuses a bad positions file and one of another table", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ not json");
    const r = await runCli([...b, "consume", "events", "--from-positions", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fluss: .*bad\.json: .*JSON/);
    const other = join(dir, "other.json");
    await runCli([...b, "consume", "live", "--limit", "1", "--save-positions", other]);
    const wrong = await runCli([...b, "consume", "events", "--from-positions", other]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/saved for table 'fluss.live', not 'fluss.events' \[INVALID_ARGUMENT\]/);
  });
});
