import { connect } from "@fluss-ts/client";
import { WIDE_PROJECTION, WIDE_SCHEMA, wideRow } from "./rows.ts";

const conn = await connect({ bootstrap: process.argv[2]! });
const rows = Number(process.argv[3] ?? 1_000_000);
await conn.admin.createTable(
  "fluss.wide",
  { schema: WIDE_SCHEMA, buckets: 4, options: { "table.log.arrow.compression.type": "NONE" } },
  { ignoreIfExists: true },
);
const table = await conn.getTable("fluss.wide");
const latest = await conn.admin.listOffsets("fluss.wide", "latest");
if ([...latest.values()].reduce((a, b) => a + b, 0n) === 0n) {
  const t0 = performance.now();
  const w = table.newAppendWriter();
  for (let i = 0; i < rows; i++) await w.append(wideRow(i));
  await w.close();
  console.log("load", (rows / ((performance.now() - t0) / 1000) / 1e3).toFixed(0), "k rows/s");
}
for (const cols of [undefined, WIDE_PROJECTION, undefined, WIDE_PROJECTION]) {
  const t0 = performance.now();
  let n = 0;
  let batches = 0;
  const sc = table.newLogScanner({ untilLatest: true, ...(cols ? { columns: cols } : {}) });
  for await (const b of sc.batches()) {
    n += b.recordBatch.numRows;
    batches++;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    cols ? "proj" : "full",
    n,
    batches,
    (n / s / 1e6).toFixed(2),
    "M rows/s",
    s.toFixed(2),
    "s",
    sc.stats(),
  );
}
await conn.close();
