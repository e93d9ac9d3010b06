// A TypeScript program in a project of its own, using the installed SDK (type-checked with
// `tsc --strict`, then run by Node's type stripping): a typed table (defineSchema), appends with
// receipts, a scan, the error catalogue, and an aborted scan rejecting with its reason.
// Run: FLUSS_BOOTSTRAP=host:port node app.ts

import {
  bigint,
  connect,
  defineSchema,
  Errors,
  type FlussError,
  isFlussError,
  type RowOf,
  string,
} from "@fluss-ts/client";

const Events = defineSchema({ id: bigint().notNull(), name: string() });
type Event = RowOf<typeof Events>;

const conn = await connect({ bootstrap: process.env.FLUSS_BOOTSTRAP ?? "localhost:9123" });
try {
  await conn.admin.createDatabase("pack", { ignoreIfExists: true });
  await conn.admin.createTable("pack.events_ts", { schema: Events, buckets: 2 }, { ignoreIfExists: true });
  const table = await conn.getTable("pack.events_ts", Events);

  const writer = table.newAppendWriter();
  let receipt = await writer.append({ id: 0n, name: "n0" });
  for (let i = 1; i < 100; i++) receipt = await writer.append({ id: BigInt(i), name: `n${i}` });
  const ack = await receipt.acknowledged; // the last row's bucket and offset, once the cluster has it
  await writer.close();
  if (ack.offset < 0n) throw new Error(`no offset in ${JSON.stringify(ack, (_, v) => String(v))}`);

  const rows: Event[] = [];
  for await (const record of table.newLogScanner({ from: "earliest", untilLatest: true }))
    rows.push(record.row);
  const ids = rows.map((r) => r.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (ids.length !== 100 || ids.some((id, i) => id !== BigInt(i)))
    throw new Error(`read back ${ids.length} rows`);

  try {
    await conn.getTable("pack.missing");
    throw new Error("getTable of a missing table succeeded");
  } catch (err) {
    if (!isFlussError(err) || !err.is(Errors.TABLE_NOT_EXIST) || err.retriable) throw err;
    const typed: FlussError = err;
    if (typed.code !== 7) throw new Error(`TABLE_NOT_EXIST has code ${typed.code}`);
  }

  const reason = new Error("stop following");
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), 100);
  try {
    for await (const _ of table.newLogScanner({ from: "latest", signal: controller.signal })) {
      // following: nothing new arrives
    }
    throw new Error("an aborted scan ended without an error");
  } catch (err) {
    if (err !== reason) throw err;
  }
  console.log(`ok: app.ts wrote and read ${rows.length} rows on Node ${process.version}`);
} finally {
  await conn.close();
}
