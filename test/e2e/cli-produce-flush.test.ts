// `fluss produce` sends what it read as soon as its input ends: the writer's linger time (up to
// --linger-ms) is for rows that keep coming, never a wait at the end. A run with a 60 s linger
// finishing well inside the test's 30 s timeout (and its row being readable) shows that no batch
// waited for its timer.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("fluss produce at the end of its input", () => {
  let tc: TestCluster;
  let b: string[];
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
    expect((await runCli([...b, "db", "create", "flush"])).code).toBe(0);
    const t = await runCli([...b, "table", "create", "flush.t", "--schema", "id BIGINT NOT NULL, s STRING"]);
    expect(t.code, t.stderr).toBe(0);
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("flushes at once instead of waiting for --linger-ms", async () => {
    const p = await runCli([...b, "produce", "flush.t", "--linger-ms", "60000"], '{"id": 1, "s": "a"}\n');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/produced 1 row/);
    const c = await runCli([...b, "consume", "flush.t", "--limit", "1"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('"s":"a"');
  });
});
