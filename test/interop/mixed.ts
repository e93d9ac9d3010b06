// The TypeScript SDK's side of the mixed tests: before a client's suite runs, create the tables it
// reads (written here with the all-types fixture) and the tables it writes (left empty); after it
// ran, read what the client wrote and compare it with the fixture, values and nulls, by scan (with
// the micro digits of TIMESTAMP(6) columns checked through Arrow) and by primary-key lookup.

import type { FlussConnection } from "@fluss-ts/client";
import { expect } from "vitest";
import {
  atMillis,
  type CanonicalRow,
  expectedMicros,
  fromSdkRow,
  loadFixture,
  microsById,
  toSdkRow,
} from "./all-types.ts";

export const MIXED_DB = "interop_mixed";
const fixture = loadFixture();

/**
 * Creates `from_sdk` and `from_sdk_pk` with the fixture rows, and empty `from_<client>` and
 * `from_<client>_pk` for the client to write. `options` go to every table (e.g. statistics off).
 */
export async function prepareMixedTables(
  conn: FlussConnection,
  client: string,
  options: Record<string, string> = {},
): Promise<void> {
  const admin = conn.admin;
  await admin.createDatabase(MIXED_DB, { ignoreIfExists: true });
  for (const name of ["from_sdk", `from_${client}`]) {
    await admin.createTable(`${MIXED_DB}.${name}`, { schema: fixture.schema, buckets: 1, options });
    await admin.createTable(`${MIXED_DB}.${name}_pk`, {
      schema: fixture.schema,
      primaryKey: ["id"],
      buckets: 1,
    });
  }
  const log = (await conn.getTable(`${MIXED_DB}.from_sdk`)).newAppendWriter();
  const pk = (await conn.getTable(`${MIXED_DB}.from_sdk_pk`)).newUpsertWriter();
  for (const row of fixture.rows) {
    await log.append(toSdkRow(row));
    await pk.upsert(toSdkRow(row));
  }
  await log.flush();
  await pk.flush();
  await log.close();
  await pk.close();
}

function byId(rows: CanonicalRow[]): CanonicalRow[] {
  return [...rows].sort((a, b) => Number(a.id) - Number(b.id));
}

/** Reads `from_<client>` with the SDK and expects exactly the fixture rows. */
export async function expectLogRowsWrittenBy(conn: FlussConnection, client: string): Promise<void> {
  const table = await conn.getTable(`${MIXED_DB}.from_${client}`);
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
}

/** Looks up every fixture key in `from_<client>_pk` with the SDK and expects the fixture rows. */
export async function expectPkRowsWrittenBy(conn: FlussConnection, client: string): Promise<void> {
  const lookuper = (await conn.getTable(`${MIXED_DB}.from_${client}_pk`)).newLookuper();
  for (const row of fixture.rows) {
    const got = await lookuper.lookup({ id: row.id });
    expect(got, `id ${row.id}`).not.toBeNull();
    expect(fromSdkRow(got!)).toEqual(atMillis(row));
  }
}
