// Every program in examples/ (one per README snippet) runs as a user would run it — `node
// examples/<name>.ts` with FLUSS_BOOTSTRAP — against a fresh cluster, exits 0 and prints what it
// shows. The pack test (test/pack/run.ts) runs them again against the installed packages.

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

/** What each example must print (every line matched, in order). */
const EXPECTED: Record<string, RegExp[]> = {
  "log-table.ts": [/^user 8's row is at bucket \d, offset 0$/, /^read 3 rows: \/cart \/home \/home$/],
  "typed-rows.ts": [/^1 apple 1\.50 2026-11-26T10:00:00\.000Z$/, /^2 pear 2\.25 2026-11-26T10:00:01\.000Z$/],
  "primary-key-table.ts": [
    /^lookup shop 7 on 2026-11-26: sales 25\.00, orders 2$/,
    /^lookup shop 9: null$/,
    /^prefix lookup shop 7: 2026-11-26=25\.00, 2026-11-27=3\.00$/,
    /^snapshot: 7\/2026-11-26=25\.00, 7\/2026-11-27=3\.00, 8\/2026-11-26=1\.00$/,
    /^changelog: 5 changes$/,
  ],
  "partitioned-table.ts": [
    /^partitions: 20261118, 20261125, 20261126$/,
    /^20261125: id 5 price 150$/,
    /^20261126: id 9 price 150$/,
  ],
  "arrow-batches.ts": [
    /^10000 rows in ([3-9]|\d\d+) record batches \(one or more per bucket\); columns sensor, value$/,
    /^sum\(value\) = 4999500\.0$/,
    /^as an Arrow IPC stream: \d+ bytes$/,
  ],
  "resume-scan.ts": [/^first run 8 rows, second run 12 rows$/, /^every row once: true$/],
};

function runExample(
  file: string,
  bootstrap: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(EXAMPLES, file)], {
      env: { ...process.env, FLUSS_BOOTSTRAP: bootstrap },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

let tc: TestCluster | undefined;
afterEach(async () => {
  await tc?.stop();
  tc = undefined;
});

describe("examples/", () => {
  it("has an expectation for every example", () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts"));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, lines] of Object.entries(EXPECTED)) {
    it(`${file} runs against a fresh cluster`, async () => {
      tc = await startCluster();
      const r = await runExample(file, tc.bootstrap);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const printed = r.out.trimEnd().split("\n");
      expect(printed).toHaveLength(lines.length);
      for (const [i, line] of printed.entries()) expect(line).toMatch(lines[i]!);
    });
  }
});
