// KV benchmarks.
// 1. KvStore (lmdb): 1M keys of 16 B with 100 B values, loaded in transactions of 10k; then sync
//    random gets (copying `get` and the temporary-view `getFast`), and a full scan.
// 2. KvTablet.putAsLeader: rows of ~100 B (compacted) in KV batches of 1000 records, 20% of them
//    updates of existing keys, the high watermark moved after every batch (the store flushes),
//    under log flush modes "never" and "always", Arrow compression NONE and ZSTD.
// Run: npx node packages/storage/bench/kv.ts [keys=1000000] [putRows=200000]

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildKvRecordBatch,
  CompactedKeyEncoder,
  DEFAULT_ZSTD_LEVEL,
  encodeCompactedRow,
  type IpcCompression,
  makeSchema,
  NO_COMPRESSION,
  systemClock,
} from "@fluss-ts/common";
import { KvTablet, LogTablet, resolveKvOptions } from "../src/index.ts";
import { KvStore } from "../src/kv/kv-store.ts";

const keyCount = Number(process.argv[2] ?? 1_000_000);
const putRows = Number(process.argv[3] ?? 200_000);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "fluss-kv-bench-"));
}

function key16(i: number): Uint8Array {
  const k = new Uint8Array(16);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 0x6b657931);
  dv.setUint32(12, Math.imul(i, 2654435761) >>> 0); // spread the keys over the tree
  dv.setUint32(8, i);
  return k;
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString("en-US")}/s`;
}

async function benchStore(): Promise<void> {
  const dir = tmp();
  const store = KvStore.open(dir);
  const value = new Uint8Array(100).fill(7);
  let t = performance.now();
  for (let base = 0; base < keyCount; base += 10_000) {
    const writes = [];
    for (let i = base; i < Math.min(base + 10_000, keyCount); i++) writes.push({ key: key16(i), value });
    store.write(writes, { appliedLogOffset: BigInt(base + writes.length), rowCount: null });
  }
  console.log(
    `store load: ${keyCount.toLocaleString("en-US")} keys, ${rate(keyCount, performance.now() - t)}`,
  );
  const keys = Array.from({ length: keyCount }, (_, i) => key16((i * 7919) % keyCount));
  for (const [name, get] of [
    ["get (copy)", (k: Uint8Array) => store.get(k)],
    ["getFast (view)", (k: Uint8Array) => store.getFast(k)],
  ] as const) {
    let found = 0;
    t = performance.now();
    for (const k of keys) if (get(k) !== null) found++;
    console.log(`store ${name}: ${rate(keyCount, performance.now() - t)} (${found} found)`);
  }
  t = performance.now();
  let n = 0;
  for (const _ of store.scan()) n++;
  console.log(`store full scan: ${rate(n, performance.now() - t)}`);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const schema = makeSchema(
  [
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING" },
    { name: "amount", type: "BIGINT" },
    { name: "price", type: "DOUBLE" },
  ],
  ["id"],
);
const types = schema.columns.map((c) => c.type);
const keyEncoder = new CompactedKeyEncoder(schema.columns, ["id"]);
const filler = "x".repeat(85);

function batches(rowsPerBatch: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let inserted = 0;
  for (let b = 0; b * rowsPerBatch < putRows; b++) {
    const records = [];
    for (let r = 0; r < rowsPerBatch; r++) {
      const update = inserted > 0 && (b * rowsPerBatch + r) % 5 === 0; // 20% updates
      const id = update ? (r * 104729 + b) % inserted : inserted++;
      const row = [BigInt(id), `${filler}${id % 1000}`, BigInt(b), r * 0.5];
      records.push({ key: keyEncoder.encode(row), row: encodeCompactedRow(types, row) });
    }
    out.push(buildKvRecordBatch({ schemaId: 1, records, writerId: 1n, batchSequence: b }));
  }
  return out;
}

async function benchPut(
  mode: "never" | "always",
  compression: IpcCompression,
  input: Uint8Array[],
): Promise<void> {
  const dir = tmp();
  const log = await LogTablet.open({ dir: `${dir}/log`, clock: systemClock, config: { flush: { mode } } });
  const kv = await KvTablet.open({
    dir: `${dir}/kv`,
    log,
    schema,
    schemaId: 1,
    options: resolveKvOptions({}),
    clock: systemClock,
  });
  const t = performance.now();
  for (const bytes of input) {
    await kv.putAsLeader(bytes, null, { compression });
    log.updateHighWatermark(log.logEndOffset);
  }
  const ms = performance.now() - t;
  const rows = input.length * 1000;
  console.log(
    `putAsLeader flush=${mode.padEnd(6)} compression=${compression.type.padEnd(4)}: ${rate(rows, ms)} rows, ` +
      `log end ${log.logEndOffset}, kv rows ${kv.rowCount}`,
  );
  await kv.close();
  await log.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await benchStore();
const input = batches(1000);
const rowBytes = encodeCompactedRow(types, [1n, `${filler}123`, 1n, 0.5]).byteLength;
console.log(`put rows: ${putRows.toLocaleString("en-US")} of ${rowBytes} B (compacted), 20% updates`);
const zstd: IpcCompression = { type: "ZSTD", zstdLevel: DEFAULT_ZSTD_LEVEL };
await benchPut("never", NO_COMPRESSION, input);
await benchPut("never", zstd, input);
await benchPut("always", NO_COMPRESSION, input);
