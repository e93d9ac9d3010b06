// Throughput of building Arrow RecordBatches from row objects (a script, not a test): the
// incremental ArrowBatchBuilder (append each row, check sizeBytes after each append as the client
// writer does, build when the buffers reach ~2 MiB) against the one-shot buildRecordBatch over
// arrays of the same rows. Schema: 2 BIGINT, DOUBLE, 2 STRING (~100 bytes of payload per row).
// Rows come from JSON.parse (flat strings, as from the network or a file); a pool of rows is
// reused so the heap stays small. The best of the rounds is reported (shared machines are noisy).
// Run: npx node packages/common/bench/arrow-builder.ts [rows] [rounds] [batchRows]

import { ArrowBatchBuilder, buildRecordBatch, type InputRow, parseSchema } from "../src/index.ts";

const total = Number(process.argv[2] ?? 2_000_000);
const rounds = Number(process.argv[3] ?? 5);
const batchRows = Number(process.argv[4] ?? 20_000);
const CLOSE_AT = 2 * 1024 * 1024;
const schema = parseSchema("id BIGINT NOT NULL, user_id BIGINT, score DOUBLE, name STRING, city STRING");

function makeRows(n: number): InputRow[] {
  const rows = [];
  for (let k = 0; k < n; k++) {
    rows.push({
      id: k,
      user_id: k * 7,
      score: k * 0.5,
      name: `user-name-${k}-lorem-ipsum-dolor-sit`,
      city: `city-${k % 1000}-amet-consectetur-adipiscing`,
    });
  }
  return JSON.parse(JSON.stringify(rows)) as InputRow[];
}

const pool = makeRows(Math.min(total, 200_000));

/** Append every row, closing a batch whenever sizeBytes reaches 2 MiB. Returns batches built. */
function runBuilder(builder: ArrowBatchBuilder): number {
  let batches = 0;
  for (let i = 0; i < total; i++) {
    builder.append(pool[i % pool.length]!);
    if (builder.sizeBytes >= CLOSE_AT) {
      builder.build();
      batches++;
    }
  }
  if (builder.rowCount > 0) {
    builder.build();
    batches++;
  }
  return batches;
}

const chunks: InputRow[][] = [];
for (let s = 0; s < pool.length; s += batchRows) chunks.push(pool.slice(s, s + batchRows));

function runOneShot(): number {
  let batches = 0;
  for (let done = 0; done < total; done += batchRows) {
    buildRecordBatch(schema, chunks[batches % chunks.length]!);
    batches++;
  }
  return batches;
}

function best(run: () => number): { rate: number; batches: number } {
  let ms = Number.POSITIVE_INFINITY;
  let batches = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    batches = run();
    ms = Math.min(ms, performance.now() - t);
  }
  return { rate: total / ms / 1000, batches };
}

const builder = new ArrowBatchBuilder(schema);
const inc = best(() => runBuilder(builder));
const one = best(runOneShot);
console.log(`${total} rows, 5 columns (2 BIGINT, DOUBLE, 2 STRING), best of ${rounds} rounds`);
console.log(
  `ArrowBatchBuilder append+sizeBytes+build: ${inc.rate.toFixed(2)} M rows/s ` +
    `(${inc.batches} batches of ~2 MiB, ${Math.round(total / inc.batches)} rows each)`,
);
console.log(`buildRecordBatch (${batchRows}-row arrays):  ${one.rate.toFixed(2)} M rows/s`);
