// pyfluss (the Python client of Apache Fluss, pinned in python/requirements.txt), unmodified,
// against `fluss local`: installs it (setup-python.sh), starts the cluster, writes the all-types
// fixture with the TypeScript SDK, runs the pytest suite in python/ (log, primary-key and
// partitioned tables, mixed reads and writes), then reads back with the SDK what pyfluss wrote.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  atMillis,
  type CanonicalRow,
  expectedMicros,
  FIXTURE_PATH,
  fromSdkRow,
  loadFixture,
  microsById,
  toSdkRow,
} from "./all-types.ts";
import { type InteropCluster, run, startInteropCluster } from "./cluster.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const DB = "interop_mixed";
const fixture = loadFixture();

let cluster: InteropCluster;
let python: string;

beforeAll(async () => {
  const setup = await run("bash", [`${HERE}setup-python.sh`], { cwd: HERE, timeoutMs: 600_000 });
  expect(setup.code, setup.output).toBe(0);
  python = setup.output.trim().split("\n").at(-1)!;
  cluster = await startInteropCluster();
  const admin = cluster.conn.admin;
  await admin.createDatabase(DB, { ignoreIfExists: true });
  for (const name of ["from_sdk", "from_py"]) {
    await admin.createTable(`${DB}.${name}`, { schema: fixture.schema, buckets: 1 });
    await admin.createTable(`${DB}.${name}_pk`, { schema: fixture.schema, primaryKey: ["id"], buckets: 1 });
  }
  const log = (await cluster.conn.getTable(`${DB}.from_sdk`)).newAppendWriter();
  const pk = (await cluster.conn.getTable(`${DB}.from_sdk_pk`)).newUpsertWriter();
  for (const row of fixture.rows) {
    await log.append(toSdkRow(row));
    await pk.upsert(toSdkRow(row));
  }
  await log.flush();
  await pk.flush();
  await log.close();
  await pk.close();
});

afterAll(async () => {
  await cluster?.stop();
});

function byId(rows: CanonicalRow[]): CanonicalRow[] {
  return [...rows].sort((a, b) => Number(a.id) - Number(b.id));
}

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
    const table = await cluster.conn.getTable(`${DB}.from_py`);
    const rows: CanonicalRow[] = [];
    for await (const rec of table.newLogScanner({ from: "earliest", untilLatest: true })) {
      rows.push(fromSdkRow(rec.row));
    }
    expect(byId(rows)).toEqual(fixture.rows.map(atMillis));
    const micros = new Map<number, Record<string, bigint | null>>();
    for await (const b of table.newLogScanner({ from: "earliest", untilLatest: true }).batches()) {
      for (const [id, m] of microsById(b.recordBatch)) micros.set(id, m);
    }
    for (const row of fixture.rows) expect(micros.get(Number(row.id))).toEqual(expectedMicros(row));
  });

  it("looks up with the SDK the primary-key rows pyfluss wrote", async () => {
    const lookuper = (await cluster.conn.getTable(`${DB}.from_py_pk`)).newLookuper();
    for (const row of fixture.rows) {
      const got = await lookuper.lookup({ id: row.id });
      expect(got, `id ${row.id}`).not.toBeNull();
      expect(fromSdkRow(got!)).toEqual(atMillis(row));
    }
  });
});
