// pyfluss (the Python client of Apache Fluss, pinned in python/requirements.txt), unmodified,
// against `fluss local`: installs it (setup-python.sh), starts the cluster, writes the all-types
// fixture with the TypeScript SDK, runs the pytest suite in python/ (log, primary-key and
// partitioned tables, mixed reads and writes), then reads back with the SDK what pyfluss wrote.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_PATH } from "./all-types.ts";
import { type InteropCluster, run, startInteropCluster } from "./cluster.ts";
import { expectLogRowsWrittenBy, expectPkRowsWrittenBy, prepareMixedTables } from "./mixed.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));

let cluster: InteropCluster;
let python: string;

beforeAll(async () => {
  const setup = await run("bash", [`${HERE}setup-python.sh`], { cwd: HERE, timeoutMs: 600_000 });
  expect(setup.code, setup.output).toBe(0);
  python = setup.output.trim().split("\n").at(-1)!;
  cluster = await startInteropCluster();
  // pyfluss 1.0 reads statistics batches (magic v1): the SDK's default options stay.
  await prepareMixedTables(cluster.conn, "py");
});

afterAll(async () => {
  await cluster?.stop();
});

describe("pyfluss against fluss local", () => {
  it("runs the pyfluss suite: log, primary-key, partitioned and mixed tables", async () => {
    const r = await run(python, ["-m", "pytest", "-q", "-rA", "python"], {
      cwd: HERE,
      env: { FLUSS_BOOTSTRAP_SERVERS: cluster.bootstrap, FLUSS_INTEROP_FIXTURE: FIXTURE_PATH },
      timeoutMs: 900_000,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toMatch(/\bskipped\b/);
  });

  it("reads with the SDK the log rows pyfluss wrote (every type, nulls)", async () => {
    await expectLogRowsWrittenBy(cluster.conn, "py");
  });

  it("looks up with the SDK the primary-key rows pyfluss wrote", async () => {
    await expectPkRowsWrittenBy(cluster.conn, "py");
  });
});
