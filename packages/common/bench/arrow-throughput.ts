// Throughput of the Arrow log path (a script, not a test). For 1M rows of 5 columns (2 BIGINT,
// DOUBLE, 2 STRING; ~100 bytes of payload per row) in batches of 10k rows it times, per stage:
// build RecordBatch from row objects; build a whole log batch (build + IPC encode + compression +
// CRC-32C); decode the log batch to a RecordBatch; read rows back to objects; project 2 of the 5
// columns of a fetch response (buffer level). Rows come from JSON.parse (flat strings, as from
// the network or a file) and a pool of 100k rows is reused so the heap stays small. Each stage's
// time is summed over all batches; the best of the rounds is reported (shared machines are noisy).
// Run: npx node packages/common/bench/arrow-throughput.ts [rows] [batchRows] [rounds]

import {
  type ArrowCompression,
  buildArrowLogBatch,
  buildRecordBatch,
  createProjectionPlan,
  decodeArrowLogBatch,
  type InputRow,
  parseSchema,
  projectLogBatches,
  readRows,
} from "../src/index.ts";

const total = Number(process.argv[2] ?? 1_000_000);
const batchRows = Number(process.argv[3] ?? 10_000);
const rounds = Number(process.argv[4] ?? 5);
const schema = parseSchema("id BIGINT NOT NULL, user_id BIGINT, score DOUBLE, name STRING, city STRING");
const plan = createProjectionPlan(schema, [0, 3]);

function makeChunk(start: number, n: number): InputRow[] {
  const rows = [];
  for (let k = start; k < start + n; k++) {
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

const pool: InputRow[][] = [];
for (let s = 0; s < Math.min(total, 100_000); s += batchRows) pool.push(makeChunk(s, batchRows));
const batches = Math.ceil(total / batchRows);

type Stage = "build" | "logBatch" | "decode" | "readRows" | "project";
const stages: Stage[] = ["build", "logBatch", "decode", "readRows", "project"];

function runRound(type: ArrowCompression): { ms: Record<Stage, number>; wire: number; projected: number } {
  const ms: Record<Stage, number> = { build: 0, logBatch: 0, decode: 0, readRows: 0, project: 0 };
  let wire = 0;
  let projected = 0;
  const compression = { type, zstdLevel: 3 };
  for (let b = 0; b < batches; b++) {
    const rows = pool[b % pool.length]!;
    let t = performance.now();
    buildRecordBatch(schema, rows);
    ms.build += performance.now() - t;
    t = performance.now();
    const bytes = buildArrowLogBatch({
      schema,
      schemaId: 1,
      rows,
      compression,
      writerId: 1n,
      batchSequence: b,
    });
    ms.logBatch += performance.now() - t;
    t = performance.now();
    const decoded = decodeArrowLogBatch(bytes, schema.columns).recordBatch;
    ms.decode += performance.now() - t;
    t = performance.now();
    readRows(decoded, schema.columns);
    ms.readRows += performance.now() - t;
    t = performance.now();
    projected += projectLogBatches(bytes, plan).byteLength;
    ms.project += performance.now() - t;
    wire += bytes.byteLength;
  }
  return { ms, wire, projected };
}

console.log(`${total} rows in batches of ${batchRows}, best of ${rounds} rounds (M rows/s)`);
for (const type of ["NONE", "LZ4_FRAME", "ZSTD"] as ArrowCompression[]) {
  const best: Record<Stage, number> = {
    build: 1e12,
    logBatch: 1e12,
    decode: 1e12,
    readRows: 1e12,
    project: 1e12,
  };
  let last = { wire: 0, projected: 0 };
  for (let r = 0; r < rounds; r++) {
    const res = runRound(type);
    for (const s of stages) best[s] = Math.min(best[s], res.ms[s]);
    last = res;
  }
  const rate = (s: Stage): string => `${s} ${(total / best[s] / 1000).toFixed(2)}`;
  console.log(`${type.padEnd(9)} ${stages.map(rate).join("  ")}`);
  console.log(
    `          ${(last.wire / total).toFixed(1)} B/row on the wire, ` +
      `projection keeps ${((100 * last.projected) / last.wire).toFixed(0)}% of the bytes`,
  );
}
