// fluss-rs (the Rust client of Apache Fluss, pinned in rust/Cargo.toml), unmodified, against
// `fluss local`: cargo builds the tests (downloading the crate once), the runner starts the cluster,
// writes the all-types fixture with the TypeScript SDK, runs `cargo test` in rust/ (log,
// primary-key and partitioned tables, mixed reads and writes), then reads back with the SDK what
// Rust wrote.

import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { internalRows } from "./all-types.ts";
import { type InteropCluster, run, startInteropCluster } from "./cluster.ts";
import { expectLogRowsWrittenBy, expectPkRowsWrittenBy, prepareMixedTables } from "./mixed.ts";

const RUST_DIR = fileURLToPath(new URL("./rust/", import.meta.url));
const INTERNAL_FIXTURE = join(tmpdir(), `fluss-interop-internal-${process.pid}.json`);

let cluster: InteropCluster;

beforeAll(async () => {
  // The first build downloads and compiles the client (minutes on 2 cores); later ones are cached.
  const build = await run("cargo", ["test", "--no-run", "--quiet", "--test", "interop"], {
    cwd: RUST_DIR,
    timeoutMs: 3_000_000,
  });
  expect(build.code, build.output).toBe(0);
  await writeFile(INTERNAL_FIXTURE, JSON.stringify({ rows: internalRows() }));
  cluster = await startInteropCluster();
  // fluss-rs 1.0 reads statistics batches (magic v1): the SDK's default options stay.
  await prepareMixedTables(cluster.conn, "rust");
});

afterAll(async () => {
  await cluster?.stop();
  await rm(INTERNAL_FIXTURE, { force: true });
});

describe("fluss-rs against fluss local", () => {
  it("runs the cargo test suite: log, primary-key, partitioned and mixed tables", async () => {
    const r = await run("cargo", ["test", "--quiet", "--test", "interop", "--", "--test-threads=2"], {
      cwd: RUST_DIR,
      env: { FLUSS_BOOTSTRAP_SERVERS: cluster.bootstrap, FLUSS_INTEROP_INTERNAL_FIXTURE: INTERNAL_FIXTURE },
      timeoutMs: 900_000,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/test result: ok\. [1-9]\d* passed; 0 failed/);
  });

  it("reads with the SDK the log rows Rust wrote (every type, nulls)", async () => {
    await expectLogRowsWrittenBy(cluster.conn, "rust");
  });

  it("looks up with the SDK the primary-key rows Rust wrote", async () => {
    await expectPkRowsWrittenBy(cluster.conn, "rust");
  });
});
