// A log table: create it, append rows (batched, idempotent, retried), learn where a row landed,
// and read the table back with only one column travelling from the server.
// Run against a cluster (`npx fluss local`): node examples/log-table.ts
// (FLUSS_BOOTSTRAP=host:port to connect elsewhere; Node >= 22.18, or 22.15 with --experimental-strip-types)
// The examples close what they open with close(), which every supported Node runs; on Node 24,
// `await using conn = await connect(...)` (and the same for writers and scanners) closes at the
// end of the scope instead (Node 22 has no `using` declarations).

import { connect } from "@fluss-ts/client";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.clicks", { ignoreIfNotExists: true }); // start afresh: re-runnable
await conn.admin.createTable("shop.clicks", {
  schema: "user_id BIGINT NOT NULL, page STRING, at TIMESTAMP_LTZ(3)",
  buckets: 4,
  bucketKeys: ["user_id"], // rows of one user stay in one bucket, in order
  options: { "table.log.arrow.compression.type": "LZ4_FRAME" },
});

const table = await conn.getTable("shop.clicks");
const writer = table.newAppendWriter();
await writer.append({ user_id: 7n, page: "/home", at: new Date() }); // resolves once buffered
await writer.append({ user_id: 7n, page: "/cart", at: new Date() });
const receipt = await writer.append({ user_id: 8n, page: "/home", at: new Date() });
const { bucket, offset } = await receipt.acknowledged; // once the cluster has the row
console.log(`user 8's row is at bucket ${bucket}, offset ${offset}`);
await writer.flush(); // resolves once the cluster acknowledged every row
await writer.close();

const scanner = table.newLogScanner({ columns: ["page"], from: "earliest", untilLatest: true });
const pages: string[] = [];
for await (const record of scanner) pages.push(String(record.row.page));
console.log(`read ${pages.length} rows: ${pages.sort().join(" ")}`);
await conn.close();
