// The Java client of Apache Fluss (org.apache.fluss:fluss-client, pinned in java/pom.xml),
// unmodified, against `fluss local`: Maven fetches it, the runner starts the cluster, writes the
// all-types fixture with the TypeScript SDK, runs the JUnit tests in java/ (log, primary-key and
// partitioned tables, mixed reads and writes), then reads back with the SDK what Java wrote.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_PATH } from "./all-types.ts";
import { type InteropCluster, run, startInteropCluster } from "./cluster.ts";
import { expectLogRowsWrittenBy, expectPkRowsWrittenBy, prepareMixedTables } from "./mixed.ts";

const JAVA_DIR = fileURLToPath(new URL("./java/", import.meta.url));

let cluster: InteropCluster;

beforeAll(async () => {
  // Downloads the client and the plugins once (~/.m2), compiles the tests.
  const build = await run("mvn", ["-B", "-q", "test-compile"], { cwd: JAVA_DIR, timeoutMs: 900_000 });
  expect(build.code, build.output).toBe(0);
  cluster = await startInteropCluster();
  // The 0.9 client reads magic v0 batches only (its v1 is Fluss 1.0's v2 without statistics):
  // tables it reads are created without statistics, as a Fluss server's are by default.
  await prepareMixedTables(cluster.conn, "java", { "table.statistics.columns": "none" });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("the Fluss Java client against fluss local", () => {
  it("runs the JUnit suite: log, primary-key, partitioned and mixed tables", async () => {
    const r = await run("mvn", ["-B", "test"], {
      cwd: JAVA_DIR,
      env: { FLUSS_BOOTSTRAP_SERVERS: cluster.bootstrap, FLUSS_INTEROP_FIXTURE: FIXTURE_PATH },
      timeoutMs: 900_000,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/Tests run: \d+, Failures: 0, Errors: 0, Skipped: 0\s*$/m);
  });

  it("reads with the SDK the log rows Java wrote (every type, nulls)", async () => {
    await expectLogRowsWrittenBy(cluster.conn, "java");
  });

  it("looks up with the SDK the primary-key rows Java wrote", async () => {
    await expectPkRowsWrittenBy(cluster.conn, "java");
  });
});
