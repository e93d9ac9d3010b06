// `fluss` output and input formats end to end: consume and lookup as JSON, CSV and a table; BIGINT
// as numbers (strings beyond 2^53) or always strings; produce and upsert from CSV (nulls vs empty
// strings, quoting, booleans), a CSV round trip; and bad input reported once with its line and the
// count of rows committed before it.

import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const SCHEMA =
  "id BIGINT NOT NULL, name STRING, ok BOOLEAN, price DECIMAL(10, 2), at TIMESTAMP_LTZ(3), big BIGINT";
const CSV_IN = [
  "id,name,ok,price,at,big",
  '1,"ann, the first",true,1.50,2026-11-26T10:00:00Z,9007199254740993',
  '2,"",FALSE,,2026-11-26T10:00:01.500Z,7',
  '3,,1,"2.25",,',
  '4,"two\nlines",0,0.10,2026-11-26T10:00:03Z,-9007199254740993',
].join("\n");

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.length > 0);
}

describe("fluss CLI formats", () => {
  let tc: TestCluster;
  let b: string[];
  beforeAll(async () => {
    tc = await startCluster();
    b = ["--bootstrap", tc.bootstrap];
    for (const t of ["t", "t2"]) {
      const c = await runCli([...b, "table", "create", t, "--schema", SCHEMA, "--buckets", "1"]);
      expect(c.code, c.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('produces CSV: header names the columns, empty is null, "" is empty, quotes and booleans', async () => {
    const p = await runCli([...b, "produce", "t", "--format", "csv"], `${CSV_IN}\n`);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toBe("produced 4 rows to fluss.t\n");
    const c = await runCli([...b, "consume", "t"]);
    const rows = lines(c.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual([
      {
        id: 1,
        name: "ann, the first",
        ok: true,
        price: "1.50",
        at: "2026-11-26T10:00:00.000Z",
        big: "9007199254740993",
      },
      { id: 2, name: "", ok: false, price: null, at: "2026-11-26T10:00:01.500Z", big: 7 },
      { id: 3, name: null, ok: true, price: "2.25", at: null, big: null },
      {
        id: 4,
        name: "two\nlines",
        ok: false,
        price: "0.10",
        at: "2026-11-26T10:00:03.000Z",
        big: "-9007199254740993",
      },
    ]);
    // --bigint string: every BIGINT a string, so a column has one JSON type.
    const s = await runCli([...b, "consume", "t", "--bigint", "string", "--limit", "2"]);
    expect(lines(s.stdout).map((l) => (JSON.parse(l) as { id: unknown; big: unknown }).big)).toEqual([
      "9007199254740993",
      "7",
    ]);
    expect(JSON.parse(lines(s.stdout)[0]!).id).toBe("1");
  });

  it("consumes as CSV, which produce reads back to the same rows", async () => {
    const c = await runCli([...b, "consume", "t", "--format", "csv"]);
    expect(c.code, c.stderr).toBe(0);
    const records = parse(c.stdout) as string[][];
    expect(records[0]).toEqual(["id", "name", "ok", "price", "at", "big"]);
    expect(records.length).toBe(5);
    expect(c.stdout).toContain('2,"",false,,2026-11-26T10:00:01.500Z,7\n'); // empty string quoted, null empty
    const p = await runCli([...b, "produce", "t2", "--format", "csv"], c.stdout);
    expect(p.code, p.stderr).toBe(0);
    const a = await runCli([...b, "consume", "t"]);
    const a2 = await runCli([...b, "consume", "t2"]);
    expect(a2.stdout).toBe(a.stdout);
    const meta = await runCli([
      ...b,
      "consume",
      "t",
      "--format",
      "csv",
      "--meta",
      "--columns",
      "id",
      "--limit",
      "1",
    ]);
    const m = parse(meta.stdout) as string[][];
    expect(m[0]).toEqual(["bucket", "offset", "timestamp", "changeType", "id"]);
    expect(m[1]!.slice(0, 2)).toEqual(["0", "0"]);
    expect(m[1]![3]).toBe("+A");
  });

  it("consumes as an aligned table", async () => {
    const c = await runCli([...b, "consume", "t", "--format", "table", "--columns", "id,name,price"]);
    expect(c.code, c.stderr).toBe(0);
    const out = lines(c.stdout);
    expect(out[0]).toMatch(/^id\s+name\s+price$/);
    expect(out[1]).toMatch(/^-+ {2}-+ {2}-+$/);
    // Numbers right-aligned, text left-aligned, null as NULL; columns start where the header's do.
    expect(out[2]).toBe(" 1  ann, the first  1.50");
    expect(out[4]).toBe(" 3  NULL            2.25");
    expect(out[3]).toMatch(/^ 2 {2} {14} {2}NULL$/);
    expect(out[4]!.indexOf("NULL")).toBe(out[0]!.indexOf("name"));
  });

  it("looks up as JSON, CSV and a table", async () => {
    const create = await runCli([
      ...b,
      "table",
      "create",
      "users",
      "--schema",
      "id BIGINT, name STRING",
      "--primary-key",
      "id",
    ]);
    expect(create.code, create.stderr).toBe(0);
    const up = await runCli([...b, "upsert", "users", "--format", "csv"], 'id,name\n1,ann\n2,"b, ob"\n');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toBe("upserted 2 rows into fluss.users\n");
    const j = await runCli([...b, "lookup", "users", '{"id": 2}']);
    expect(JSON.parse(j.stdout)).toEqual({ id: 2, name: "b, ob" });
    const c = await runCli([...b, "lookup", "users", '{"id": 2}', "--format", "csv"]);
    expect(c.stdout).toBe('id,name\n2,"b, ob"\n');
    const t = await runCli([...b, "lookup", "users", '{"id": 1}', "--format", "table", "--bigint", "string"]);
    expect(lines(t.stdout)).toEqual(["id  name", "--  ----", "1   ann"]);
    const none = await runCli([...b, "lookup", "users", '{"id": 9}', "--format", "csv"]);
    expect(none.code).toBe(3);
    expect(none.stdout).toBe("");
  });

  it("names a bad line once, and says how many rows were committed", async () => {
    await runCli([
      ...b,
      "table",
      "create",
      "e",
      "--schema",
      "id BIGINT NOT NULL, s STRING",
      "--buckets",
      "2",
    ]);
    const json = ['{"id": 1}', '{"id": 2, "s": "x"}', '{"id": "nope"}', '{"id": 4}'].join("\n");
    const p = await runCli([...b, "produce", "e"], `${json}\n`);
    expect(p.code).toBe(2);
    expect(lines(p.stderr)).toEqual([
      "fluss: line 3: column 'id' (BIGINT NOT NULL): expected an integer (bigint, number or string), got \"nope\"",
      "2 rows committed (every row before the failure); nothing from line 3 on was written",
    ]);
    const badJson = await runCli([...b, "produce", "e"], '{"id": 5}\n{oops\n');
    expect(lines(badJson.stderr)).toEqual([
      "fluss: line 2: invalid JSON: Expected property name or '}' in JSON at column 2",
      "1 row committed (every row before the failure); nothing from line 2 on was written",
    ]);
    const unknown = await runCli([...b, "produce", "e"], '{"id": 5}\n\n{"id": 6, "zz": 1}\n');
    expect(lines(unknown.stderr)[0]).toBe("fluss: line 3: unknown column 'zz' (columns: id, s)");
    const csvBool = await runCli(
      [...b, "produce", "t", "--format", "csv"],
      "id,ok\n10,true\n11,maybe\n12,false\n",
    );
    expect(csvBool.code).toBe(2);
    expect(lines(csvBool.stderr)).toEqual([
      "fluss: line 3: column 'ok' (BOOLEAN): expected true or false, got 'maybe'",
      "1 row committed (every row before the failure); nothing from line 3 on was written",
    ]);
    const header = await runCli([...b, "produce", "e", "--format", "csv"], "id,zz\n1,2\n");
    expect(header.code).toBe(2);
    expect(header.stderr).toMatch(
      /^fluss: line 1: the CSV header names 'zz', which is not a column \(id, s\)\n/,
    );
    const ragged = await runCli([...b, "produce", "e", "--format", "csv"], "id,s\n1,a\n2,b,c\n");
    expect(ragged.code).toBe(2);
    expect(lines(ragged.stderr)[0]).toMatch(/^fluss: line 3: invalid CSV: /);
    // What was committed is there: 1, 2; id 5 twice (bad-JSON and unknown-column runs); 1 (ragged run).
    const c = await runCli([...b, "consume", "e"]);
    expect(
      lines(c.stdout)
        .map((l) => (JSON.parse(l) as { id: number }).id)
        .sort(),
    ).toEqual([1, 1, 2, 5, 5]);
  });
});
