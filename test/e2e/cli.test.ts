// The `fluss` command end to end against an embedded cluster: DDL, produce, consume (with
// projection, positions, limits), describe, and one-line errors with non-zero exit codes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

describe("fluss CLI", () => {
  let tc: TestCluster;
  let b: string[];
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("creates, lists, describes and drops databases and tables", async () => {
    expect((await runCli([...b, "db", "create", "cli"])).code).toBe(0);
    expect((await runCli([...b, "db", "list"])).stdout.split("\n")).toContain("cli");
    const create = await runCli([
      ...b,
      "table",
      "create",
      "cli.events",
      "--schema",
      "id BIGINT NOT NULL, kind STRING, price DECIMAL(10, 2), at TIMESTAMP(3)",
      "--buckets",
      "2",
      "--option",
      "table.log.ttl=2d",
    ]);
    expect(create.code, create.stderr).toBe(0);
    expect((await runCli([...b, "table", "list", "cli"])).stdout.trim()).toBe("events");
    const d = await runCli([...b, "table", "describe", "cli.events"]);
    expect(d.stdout).toMatch(/price\s+DECIMAL\(10, 2\)/);
    expect(d.stdout).toMatch(/table\.log\.ttl = 2d/);
    expect(d.stdout).toMatch(/Buckets:\s+2/);
    const json = JSON.parse((await runCli([...b, "table", "describe", "cli.events", "--json"])).stdout) as {
      buckets: number;
    };
    expect(json.buckets).toBe(2);
  });

  it("produces JSON lines and consumes them back, with projection and limits", async () => {
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({
        id: i,
        kind: i % 2 ? "buy" : "sell",
        price: `${i}.25`,
        at: `2026-11-26T10:00:${String(i).padStart(2, "0")}.000Z`,
      }),
    ).join("\n");
    const p = await runCli([...b, "produce", "cli.events"], `${lines}\n`);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/produced 50 rows/);
    const c = await runCli([...b, "consume", "cli.events"]);
    expect(c.code, c.stderr).toBe(0);
    const rows = c.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBe(50);
    const r7 = rows.find((r) => r.id === 7);
    expect(r7).toEqual({ id: 7, kind: "buy", price: "7.25", at: "2026-11-26T10:00:07.000Z" });
    const proj = await runCli([...b, "consume", "cli.events", "--columns", "price,id", "--limit", "5"]);
    const prow = proj.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(prow.length).toBe(5);
    expect(Object.keys(prow[0]!)).toEqual(["price", "id"]);
    const meta = await runCli([...b, "consume", "cli.events", "--meta"]);
    const metas = meta.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { bucket: number; offset: number; changeType: string });
    expect(metas.length).toBe(50);
    expect(metas.every((x) => x.changeType === "+A")).toBe(true);
    const inBucket0 = metas.filter((x) => x.bucket === 0).length;
    const only0 = await runCli([...b, "consume", "cli.events", "--buckets", "0"]);
    expect(only0.stdout.trim() === "" ? 0 : only0.stdout.trim().split("\n").length).toBe(inBucket0);
    const latest = await runCli([...b, "consume", "cli.events", "--from", "latest"]);
    expect(latest.stdout).toBe("");
  });

  it("reports bad input on one line with a non-zero exit code", async () => {
    const badJson = await runCli([...b, "produce", "cli.events"], '{"id": 1}\n{oops\n');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/line 2: invalid JSON/);
    const badType = await runCli([...b, "produce", "cli.events"], '{"id": 1}\n{"id": "x"}\n');
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/line 2: .*column 'id'/);
    const unknownTable = await runCli([...b, "consume", "cli.nope"]);
    expect(unknownTable.code).toBe(1);
    expect(unknownTable.stderr.trim().split("\n").length).toBe(1);
    expect(unknownTable.stderr).toMatch(/does not exist \[TABLE_NOT_EXIST\]/);
    const badTypeDdl = await runCli([...b, "table", "create", "cli.x", "--schema", "a WHATEVER"]);
    expect(badTypeDdl.code).toBe(2);
    expect(badTypeDdl.stderr).toMatch(/unknown type 'WHATEVER'/);
    const badFrom = await runCli([...b, "consume", "cli.events", "--from", "yesterday"]);
    expect(badFrom.code).toBe(2);
    const noServer = await runCli(["--bootstrap", "127.0.0.1:1", "db", "list"]);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/NETWORK_EXCEPTION/);
    const help = await runCli(["consume", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--from <position>/);
  });

  it("drops a table and a database", async () => {
    expect((await runCli([...b, "table", "drop", "cli.events"])).code).toBe(0);
    expect((await runCli([...b, "db", "drop", "cli"])).code).toBe(0);
    expect((await runCli([...b, "db", "list"])).stdout.split("\n")).not.toContain("cli");
  });
});

describe("fluss CLI on primary-key tables", () => {
  let tc: TestCluster;
  let b: string[];
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("upserts, partially updates, deletes, looks up and shows the changelog", async () => {
    const create = await runCli([
      ...b,
      "table",
      "create",
      "users",
      "--schema",
      "id BIGINT, name STRING, city STRING",
      "--primary-key",
      "id",
      "--buckets",
      "2",
      "-o",
      "table.changelog.image=FULL",
    ]);
    expect(create.code, create.stderr).toBe(0);
    const d = await runCli([...b, "table", "describe", "users"]);
    expect(d.stdout).toMatch(/Primary key:\s+id/);
    expect(d.stdout).toMatch(/Merge engine: \(last row wins\)/);
    expect(d.stdout).toMatch(/Bucket key:\s+id/);
    const up = await runCli(
      [...b, "upsert", "users"],
      '{"id":1,"name":"ann","city":"Oslo"}\n{"id":2,"name":"bob"}\n',
    );
    expect(up.code, up.stderr).toBe(0);
    const partial = await runCli(
      [...b, "upsert", "users", "--columns", "id,city"],
      '{"id":2,"city":"Rome"}\n',
    );
    expect(partial.code, partial.stderr).toBe(0);
    const found = await runCli([...b, "lookup", "users", '{"id": 2}']);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual({ id: 2, name: "bob", city: "Rome" });
    const del = await runCli([...b, "delete", "users"], '{"id":1}\n');
    expect(del.code, del.stderr).toBe(0);
    const missing = await runCli([...b, "lookup", "users", '{"id": 1}']);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/not found/);
    const log = await runCli([...b, "consume", "users", "--buckets", "0,1"]);
    const changes = log.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { changeType: string; row: { id: number } });
    const forId = (id: number) => changes.filter((c) => c.row.id === id).map((c) => c.changeType);
    expect(forId(1)).toEqual(["+I", "-D"]);
    expect(forId(2)).toEqual(["+I", "-U", "+U"]);
  });

  it("refuses bad key input with the line number", async () => {
    const noKey = await runCli([...b, "upsert", "users"], '{"id":3,"name":"x"}\n{"name":"no key"}\n');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/line 2: .*'id'/);
    const badPartial = await runCli([...b, "upsert", "users", "--columns", "name"], '{"name":"x"}\n');
    expect(badPartial.code).toBe(2);
    expect(badPartial.stderr).toMatch(/primary-key column/);
    const badKey = await runCli([...b, "lookup", "users", "not json"]);
    expect(badKey.code).toBe(2);
  });
});

describe("fluss CLI on partitioned tables and filters", () => {
  let tc: TestCluster;
  let b: string[];
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it("creates partitioned tables, manages partitions, prunes and filters consumption", async () => {
    const create = await runCli([
      ...b,
      "table",
      "create",
      "sales",
      "--schema",
      "id BIGINT NOT NULL, dt STRING NOT NULL, region STRING, price DOUBLE",
      "--partition-by",
      "dt",
    ]);
    expect(create.code, create.stderr).toBe(0);
    expect((await runCli([...b, "partition", "add", "sales", "dt=20261125"])).code).toBe(0);
    const rows = [
      { id: 1, dt: "20261125", region: "EU", price: 50 },
      { id: 2, dt: "20261125", region: "US", price: 150 },
      { id: 3, dt: "20261126", region: "EU", price: 250 },
      { id: 4, dt: "20261126", region: "EU", price: 20 },
    ];
    const p = await runCli([...b, "produce", "sales"], `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    expect(p.code, p.stderr).toBe(0);
    expect((await runCli([...b, "partition", "list", "sales"])).stdout.trim().split("\n")).toEqual([
      "20261125",
      "20261126",
    ]);
    const ids = (out: string) =>
      out
        .trim()
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => (JSON.parse(l) as { id: number }).id)
        .sort();
    expect(ids((await runCli([...b, "consume", "sales", "--partition", "dt=20261126"])).stdout)).toEqual([
      3, 4,
    ]);
    expect(ids((await runCli([...b, "consume", "sales", "--partition", "dt < '20261126'"])).stdout)).toEqual([
      1, 2,
    ]);
    const where = await runCli([...b, "consume", "sales", "--where", 'price > 100 AND region = "EU"']);
    expect(ids(where.stdout)).toEqual([3]);
    const desc = await runCli([...b, "table", "describe", "sales"]);
    expect(desc.stdout).toMatch(/Partitions:\s+2 \(partitioned by dt\)/);
    expect((await runCli([...b, "partition", "drop", "sales", "dt=20261125"])).code).toBe(0);
    expect(ids((await runCli([...b, "consume", "sales"])).stdout)).toEqual([3, 4]);
    const bad = await runCli([...b, "consume", "sales", "--where", "price >"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/position/);
    const badPart = await runCli([...b, "partition", "add", "sales", "dt=no/slash"]);
    expect(badPart.code).toBe(2);
  });
});
