// The lake through the `fluss` command: `fluss local` with datalake.format=iceberg runs the
// tiering service itself; a lake-enabled table is produced to, tiered within its freshness,
// described (lake snapshot, lag, rows/s), read with `consume --union` (lake rows, then the log
// tail), and `fluss tiering --once` tiers as a standalone service. Bad lake options refuse the
// start (exit 2).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { type LocalProcess, startLocalProcess } from "../helpers/process.ts";

describe("fluss CLI with a lake", () => {
  let dir: string;
  let local: LocalProcess;
  let warehouse: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluss-lake-cli-"));
    warehouse = join(dir, "warehouse");
    local = await startLocalProcess(join(dir, "data"), [
      "--config",
      "datalake.format=iceberg",
      "--config",
      `datalake.iceberg.warehouse=${warehouse}`,
    ]);
  });
  afterAll(async () => {
    local?.kill("SIGTERM");
    await local?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it("tiers inside fluss local, describes the lake and reads lake + log with consume --union", async () => {
    const b = ["-b", local.bootstrap];
    expect((await runCli([...b, "db", "create", "lk"])).code).toBe(0);
    const create = [
      ...["table", "create", "lk.events", "-s", "id BIGINT NOT NULL, msg STRING", "--buckets", "2"],
      ...["-o", "table.datalake.enabled=true", "-o", "table.datalake.freshness=1s"],
    ];
    expect((await runCli([...b, ...create])).code).toBe(0);
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i, msg: `m${i}` })).join("\n");
    expect((await runCli([...b, "produce", "lk.events"], `${lines}\n`)).code).toBe(0);
    let described = "";
    for (let i = 0; i < 100; i++) {
      const d = await runCli([...b, "table", "describe", "lk.events", "--warehouse", warehouse]);
      described = d.stdout;
      if (/lag 0 records/.test(described) && /100 records/.test(described)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(described).toMatch(/Lake:\s+iceberg/);
    expect(described).toMatch(/lag 0 records/);
    expect(described).toMatch(/rows\/s/);
    const more = Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: 100 + i, msg: "tail" })).join("\n");
    expect((await runCli([...b, "produce", "lk.events"], `${more}\n`)).code).toBe(0);
    const u = await runCli([...b, "consume", "lk.events", "--union", "--meta", "--warehouse", warehouse]);
    expect(u.code).toBe(0);
    const recs = u.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(recs.length).toBe(105);
    expect(new Set(recs.map((r) => r.row.id)).size).toBe(105);
    expect(recs.filter((r) => r.source === "lake").length).toBeGreaterThanOrEqual(100);
    const proj = await runCli([
      ...b,
      "consume",
      "lk.events",
      "--union",
      "-c",
      "id",
      "-w",
      "id >= 103",
      "--warehouse",
      warehouse,
    ]);
    expect(
      proj.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id)
        .sort(),
    ).toEqual([103, 104]);
    // The standalone service tiers the tail too.
    const once = await runCli([...b, "tiering", "--once", "--warehouse", warehouse]);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/lk\.events/);
  });

  it("refuses bad lake options at start", async () => {
    const r = await runCli([
      "local",
      "--data-dir",
      join(dir, "bad"),
      "--port",
      "0",
      "--config",
      "datalake.format=paimon",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/datalake\.format/);
  });
});
