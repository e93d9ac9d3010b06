// A primary-key table: upserts merged by an aggregation merge engine, point and prefix lookups,
// a snapshot of the current rows, and the changelog the writes produced.
// Run: node examples/primary-key-table.ts (see log-table.ts for FLUSS_BOOTSTRAP and Node versions)

import { connect } from "@fluss-ts/client";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.totals", { ignoreIfNotExists: true });
await conn.admin.createTable("shop.totals", {
  schema:
    "shop BIGINT NOT NULL, day DATE NOT NULL, sales DECIMAL(12, 2), orders BIGINT, PRIMARY KEY (shop, day)",
  bucketKeys: ["shop"], // a prefix of the key: enables prefix lookups
  options: { "table.merge-engine": "aggregation", "fields.sales.agg": "sum", "fields.orders.agg": "sum" },
});
const totals = await conn.getTable("shop.totals");
const upserts = totals.newUpsertWriter();
await upserts.upsert({ shop: 7n, day: "2026-11-26", sales: "19.90", orders: 1n });
await upserts.upsert({ shop: 7n, day: "2026-11-26", sales: "5.10", orders: 1n }); // summed
await upserts.upsert({ shop: 7n, day: "2026-11-27", sales: "3.00", orders: 1n });
await upserts.upsert({ shop: 8n, day: "2026-11-26", sales: "1.00", orders: 1n });
await upserts.close(); // flushes: resolves once the cluster acknowledged every row

const today = await totals.newLookuper().lookup({ shop: 7n, day: "2026-11-26" });
console.log(`lookup shop 7 on 2026-11-26: sales ${today?.sales}, orders ${today?.orders}`);
const missing = await totals.newLookuper().lookup({ shop: 9n, day: "2026-11-26" });
console.log("lookup shop 9:", missing);
const allDays = await totals.newPrefixLookuper(["shop"]).lookup({ shop: 7n });
console.log(
  "prefix lookup shop 7:",
  allDays
    .map((r) => `${r.day}=${r.sales}`)
    .sort()
    .join(", "),
);

const current: string[] = [];
for await (const row of totals.newSnapshotScanner()) current.push(`${row.shop}/${row.day}=${row.sales}`);
console.log("snapshot:", current.sort().join(", "));

const changes: string[] = [];
for await (const r of totals.newLogScanner({ from: "earliest", untilLatest: true })) {
  changes.push(`${r.changeType} ${r.row.shop}/${r.row.day}=${r.row.sales}`);
}
console.log(`changelog: ${changes.length} changes`);
await conn.close();
