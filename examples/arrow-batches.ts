// Arrow batches: read a table as Apache Arrow RecordBatches (decoded zero-copy from what the
// server sent) and hand them to the `apache-arrow` library, here to build a Table and sum a column.
// Run: node examples/arrow-batches.ts (see log-table.ts for FLUSS_BOOTSTRAP and Node versions;
// in a project of your own: npm install @fluss-ts/client apache-arrow)

import { connect } from "@fluss-ts/client";
import { type RecordBatch, Table, tableToIPC } from "apache-arrow";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.readings", { ignoreIfNotExists: true });
await conn.admin.createTable("shop.readings", {
  schema: "sensor INT NOT NULL, value DOUBLE, note STRING",
  buckets: 3,
  bucketKeys: ["sensor"],
});
const readings = await conn.getTable("shop.readings");
const writer = readings.newAppendWriter();
for (let i = 0; i < 10_000; i++) await writer.append({ sensor: i % 10, value: i / 10, note: `r${i}` });
await writer.close(); // flushes: resolves once the cluster acknowledged every row

const batches: RecordBatch[] = [];
const scanner = readings.newLogScanner({ columns: ["sensor", "value"], from: "earliest", untilLatest: true });
for await (const b of scanner.batches()) batches.push(b.recordBatch); // also: b.bucket, b.baseOffset, b.nextOffset
const table = new Table(batches);
let sum = 0;
for (const v of table.getChild("value")!) sum += v ?? 0;
console.log(
  `${table.numRows} rows in ${batches.length} record batches (one or more per bucket); columns ${table.schema.fields.map((f) => f.name).join(", ")}`,
);
console.log(`sum(value) = ${sum.toFixed(1)}`);
console.log(`as an Arrow IPC stream: ${tableToIPC(table, "stream").byteLength} bytes`);
await conn.close();
