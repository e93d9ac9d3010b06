// A partitioned table: each value of `dt` has its own buckets. A scan names the partitions it
// wants (pruning: the others are never read) and a filter lets the server skip whole batches by
// their min/max statistics; the client applies the filter to the rows, so the result is exact.
// Run: node examples/partitioned-table.ts (see log-table.ts for FLUSS_BOOTSTRAP and Node versions)

import { connect } from "@fluss-ts/client";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.sales", { ignoreIfNotExists: true });
await conn.admin.createTable("shop.sales", {
  schema: "id BIGINT, dt STRING NOT NULL, region STRING, price DOUBLE",
  partitionKeys: ["dt"],
  buckets: 2,
});
const sales = await conn.getTable("shop.sales");
const writer = sales.newAppendWriter(); // creates a partition when a row needs it
let id = 0n;
for (const dt of ["20261118", "20261125", "20261126"]) {
  for (const region of ["EU", "US"]) {
    for (const price of [50, 150]) await writer.append({ id: id++, dt, region, price });
  }
}
await writer.close(); // flushes: resolves once the cluster acknowledged every row
const partitions = await conn.admin.listPartitions("shop.sales");
console.log(
  "partitions:",
  partitions
    .map((p) => p.name)
    .sort()
    .join(", "),
);

const scanner = sales.newLogScanner({
  partitions: "dt >= '20261120'", // or { dt: "20261126" }; new matching partitions are picked up while following
  filter: "price > 100 AND region = 'EU'",
  columns: ["id", "price"],
  from: "earliest",
  untilLatest: true,
});
const rows: string[] = [];
for await (const r of scanner) rows.push(`${r.partition}: id ${r.row.id} price ${r.row.price}`);
console.log(rows.sort().join("\n"));
await conn.close();
