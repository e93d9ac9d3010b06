// Typed rows: a schema defined in TypeScript types the rows writers take and readers get.
// Run: node examples/typed-rows.ts (see log-table.ts for FLUSS_BOOTSTRAP and Node versions)

import { bigint, connect, decimal, defineSchema, type RowOf, string, timestampLtz } from "@fluss-ts/client";

const Orders = defineSchema({
  id: bigint().notNull(),
  item: string(),
  amount: decimal(10, 2),
  at: timestampLtz(3),
});
type Order = RowOf<typeof Orders>; // { id: bigint; item: string | null; amount: string | null; at: Date | null }

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
await conn.admin.createDatabase("shop", { ignoreIfExists: true });
await conn.admin.dropTable("shop.orders2", { ignoreIfNotExists: true });
await conn.admin.createTable("shop.orders2", { schema: Orders, buckets: 3 });
const orders = await conn.getTable("shop.orders2", Orders); // checks the table has exactly these columns
const w = orders.newAppendWriter(); // append() takes Orders' input type
await w.append({ id: 1n, item: "apple", amount: "1.50", at: new Date("2026-11-26T10:00:00Z") });
await w.append({ id: 2n, item: "pear", amount: 2.25, at: "2026-11-26T10:00:01Z" }); // inputs are converted
await w.close(); // flushes: resolves once the cluster acknowledged every row

const read: Order[] = [];
for await (const r of orders.newLogScanner({ from: "earliest", untilLatest: true })) read.push(r.row);
read.sort((a, b) => Number(a.id - b.id));
for (const o of read) console.log(`${o.id} ${o.item} ${o.amount} ${o.at?.toISOString()}`);
await conn.close();
