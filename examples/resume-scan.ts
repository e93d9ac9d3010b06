// Resuming a read: save a scanner's positions after handling rows, start again from them, and
// continue exactly where it stopped — no row missed, none repeated. Fluss has no consumer groups:
// a reader keeps its positions itself (here in a file).
// Run: node examples/resume-scan.ts (see log-table.ts for FLUSS_BOOTSTRAP and Node versions)

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, parseScanPositions, type ScanPositions, type Table } from "@fluss-ts/client";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.events", { ignoreIfNotExists: true });
await conn.admin.createTable("shop.events", { schema: "id BIGINT NOT NULL", buckets: 3 });
const table = await conn.getTable("shop.events");
const writer = table.newAppendWriter();
for (let id = 0n; id < 20n; id++) await writer.append({ id });
await writer.close(); // flushes: resolves once the cluster acknowledged every row

const dir = await mkdtemp(join(tmpdir(), "fluss-example-"));
const file = join(dir, "events.pos.json");

/** One run of a consumer: continues from the saved positions (if any), handles up to `max` rows. */
async function consume(t: Table, max: number): Promise<bigint[]> {
  const saved: ScanPositions | null = await readFile(file, "utf8").then(
    (text) => parseScanPositions(JSON.parse(text)),
    () => null, // no file yet: first run
  );
  const scanner = t.newLogScanner({ from: saved ?? "earliest", untilLatest: true });
  const handled: bigint[] = [];
  for await (const r of scanner) {
    handled.push(r.row.id as bigint); // handle the row, then save where the scan stands
    await writeFile(file, JSON.stringify(scanner.positions()));
    if (handled.length === max) break;
  }
  return handled;
}

const first = await consume(table, 8); // stops after 8 rows, as if the process were restarted
const second = await consume(table, 100); // a new scanner from the saved positions: the other 12
const all = [...first, ...second].sort((a, b) => Number(a - b));
console.log(`first run ${first.length} rows, second run ${second.length} rows`);
console.log(`every row once: ${all.length === 20 && all.every((id, i) => id === BigInt(i))}`);
await rm(dir, { recursive: true, force: true });
await conn.close();
