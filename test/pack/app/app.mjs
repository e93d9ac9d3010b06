// A plain JavaScript (ESM) program using the installed SDK: create, append, flush, scan, and the
// error catalogue. Run: FLUSS_BOOTSTRAP=host:port node app.mjs

import { connect, Errors, FlussError, isFlussError } from "@fluss-ts/client";

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
try {
  await conn.admin.createDatabase("pack", { ignoreIfExists: true });
  await conn.admin.createTable(
    "pack.events_mjs",
    { schema: "id BIGINT NOT NULL, name STRING, at TIMESTAMP_LTZ(3)", buckets: 3 },
    { ignoreIfExists: true },
  );
  const table = await conn.getTable("pack.events_mjs");
  const writer = table.newAppendWriter();
  for (let i = 0; i < 1000; i++) await writer.append({ id: BigInt(i), name: `n${i}`, at: new Date() });
  await writer.flush();
  await writer.close();

  let n = 0;
  for await (const record of table.newLogScanner({ columns: ["id"], from: "earliest", untilLatest: true })) {
    if (typeof record.row.id !== "bigint") throw new Error(`id read as ${typeof record.row.id}`);
    n++;
  }
  if (n !== 1000) throw new Error(`read back ${n} rows, wrote 1000`);

  const err = await conn.admin.createDatabase("pack").catch((e) => e);
  if (!isFlussError(err) || !(err instanceof FlussError) || !err.is(Errors.DATABASE_ALREADY_EXIST)) throw err;
  if (err.code !== 6 || err.retriable !== false) throw new Error(`unexpected ${err}`);
  console.log(`ok: app.mjs wrote and read ${n} rows on Node ${process.version}`);
} finally {
  await conn.close();
}
