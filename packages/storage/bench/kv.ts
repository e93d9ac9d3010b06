// KV benchmarks.
// 1. store: KvStore (lmdb): 1M keys of 16 B with 100 B values, loaded in transactions of 10k; then
//    sync random gets (copying `get` and the temporary-view `getFast`), and a full scan.
// 2. small: KvTablet.putAsLeader with rows of ~100 B (compacted) in KV batches of 1000 records,
//    20% updates, one batch at a time, the high watermark moved after every batch.
// 3. pipeline (what a client does to the server): KV batches of ~2 MiB (~16k records) with
//    several in flight (not awaited one by one), the high watermark advanced as the server does
//    it (after each putAsLeader resolves, to its last offset + 1; the tablet flushes to lmdb on
//    each advance). A load of `keys` inserts, then `keys` upserts with 20% updates of random
//    existing keys, under log flush "never" and "always" (group commit shares the fdatasyncs).
// Run: npx node packages/storage/bench/kv.ts [keys=1000000] [inFlight=4] [parts=store,small,pipeline]
//        [pipelineModes=never,always,always-zstd]
// Profile: npx node --cpu-prof --cpu-prof-dir=/tmp/kvprof packages/storage/bench/kv.ts 1000000 4 pipeline

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildKvRecordBatch,
  CompactedKeyEncoder,
  DEFAULT_ZSTD_LEVEL,
  encodeCompactedRow,
  type IpcCompression,
  type KvRecordInput,
  makeSchema,
  NO_COMPRESSION,
  systemClock,
} from "@fluss-ts/common";
import { type FlushMode, KvTablet, LogTablet, resolveKvOptions } from "../src/index.ts";
import { KvStore } from "../src/kv/kv-store.ts";

const keyCount = Number(process.argv[2] ?? 1_000_000);
const inFlight = Number(process.argv[3] ?? 4);
const parts = new Set((process.argv[4] ?? "store,small,pipeline").split(","));
const pipelineModes = new Set((process.argv[5] ?? "never,always,always-zstd").split(","));
const smallRows = 200_000;
const batchBytesTarget = 2 * 1024 * 1024;
const zstd: IpcCompression = { type: "ZSTD", zstdLevel: DEFAULT_ZSTD_LEVEL };

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

/** Process CPU time (user + system, all threads) in ms: the machine may be shared. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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

function record(id: number, b: number, r: number): KvRecordInput {
  const row = [BigInt(id), `${filler}${id % 1000}`, BigInt(b), r * 0.5];
  return { key: keyEncoder.encode(row), row: encodeCompactedRow(types, row) };
}

/** Batches of a workload: `rows` records, `updateEvery`-th one an update (0: none). */
class Workload {
  inserted = 0;
  private sequence = 0;
  private seed = 12345;

  private random(n: number): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return Math.floor((this.seed / 4294967296) * n);
  }

  batches(rows: number, rowsPerBatch: number, updateEvery: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let done = 0; done < rows; ) {
      const records: KvRecordInput[] = [];
      const n = Math.min(rowsPerBatch, rows - done);
      for (let r = 0; r < n; r++, done++) {
        const update = updateEvery > 0 && this.inserted > 0 && done % updateEvery === 0;
        const id = update ? this.random(this.inserted) : this.inserted++;
        records.push(record(id, this.sequence, r));
      }
      out.push(buildKvRecordBatch({ schemaId: 1, records, writerId: 1n, batchSequence: this.sequence++ }));
    }
    return out;
  }
}

async function openTablet(mode: FlushMode): Promise<{ dir: string; log: LogTablet; kv: KvTablet }> {
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
  return { dir, log, kv };
}

async function closeTablet(t: { dir: string; log: LogTablet; kv: KvTablet }): Promise<void> {
  await t.kv.close();
  await t.log.close();
  fs.rmSync(t.dir, { recursive: true, force: true });
}

async function benchSmall(mode: FlushMode, compression: IpcCompression, input: Uint8Array[]): Promise<void> {
  const t = await openTablet(mode);
  const started = performance.now();
  const cpu0 = cpuMs();
  for (const bytes of input) {
    await t.kv.putAsLeader(bytes, null, { compression });
    t.log.updateHighWatermark(t.log.logEndOffset);
  }
  const ms = performance.now() - started;
  const cpu = cpuMs() - cpu0;
  console.log(
    `small batches flush=${mode.padEnd(6)} compression=${compression.type.padEnd(4)}: ` +
      `${rate(smallRows, ms)} rows (per CPU s ${rate(smallRows, cpu)}), ` +
      `log end ${t.log.logEndOffset}, kv rows ${t.kv.rowCount}`,
  );
  await closeTablet(t);
}

/** Put `input` with `inFlight` batches outstanding; the HW follows each resolved put. */
async function pipeline(
  t: { log: LogTablet; kv: KvTablet },
  input: Uint8Array[],
  compression: IpcCompression,
): Promise<{ ms: number; cpu: number }> {
  let next = 0;
  const started = performance.now();
  const cpu0 = cpuMs();
  const worker = async (): Promise<void> => {
    while (next < input.length) {
      const r = await t.kv.putAsLeader(input[next++]!, null, { compression });
      const hw = r.lastOffset + 1n;
      if (hw > t.log.highWatermark) t.log.updateHighWatermark(hw);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ms: performance.now() - started, cpu: cpuMs() - cpu0 };
}

async function benchPipeline(
  mode: FlushMode,
  compression: IpcCompression,
  load: Uint8Array[],
  upserts: Uint8Array[],
  rowsPerBatch: number,
): Promise<void> {
  const t = await openTablet(mode);
  const label = `pipeline flush=${mode.padEnd(6)} compression=${compression.type.padEnd(4)} in-flight=${inFlight}`;
  const loaded = await pipeline(t, load, compression);
  const upserted = await pipeline(t, upserts, compression);
  const n = keyCount;
  console.log(
    `${label}: load ${rate(n, loaded.ms)} (per CPU s ${rate(n, loaded.cpu)}), ` +
      `upserts (20% updates) ${rate(n, upserted.ms)} (per CPU s ${rate(n, upserted.cpu)}) ` +
      `[${rowsPerBatch} rows/batch], log end ${t.log.logEndOffset}, kv rows ${t.kv.rowCount}`,
  );
  await closeTablet(t);
}

if (parts.has("store")) await benchStore();
const rowBytes = encodeCompactedRow(types, [1n, `${filler}123`, 1n, 0.5]).byteLength;
if (parts.has("small")) {
  const input = new Workload().batches(smallRows, 1000, 5);
  console.log(`small: ${smallRows.toLocaleString("en-US")} rows of ${rowBytes} B (compacted), 20% updates`);
  await benchSmall("never", NO_COMPRESSION, input);
  await benchSmall("never", zstd, input);
  await benchSmall("always", NO_COMPRESSION, input);
}
if (parts.has("pipeline")) {
  const w = new Workload();
  const probe = buildKvRecordBatch({ schemaId: 1, records: [record(1, 0, 0)] }).byteLength - 28;
  const rowsPerBatch = Math.floor(batchBytesTarget / probe);
  const load = w.batches(keyCount, rowsPerBatch, 0);
  const upserts = w.batches(keyCount, rowsPerBatch, 5);
  console.log(
    `pipeline: ${load.length} + ${upserts.length} batches of ~${(load[0]!.byteLength / 1048576).toFixed(2)} MiB`,
  );
  if (pipelineModes.has("never")) await benchPipeline("never", NO_COMPRESSION, load, upserts, rowsPerBatch);
  if (pipelineModes.has("always")) await benchPipeline("always", NO_COMPRESSION, load, upserts, rowsPerBatch);
  if (pipelineModes.has("always-zstd")) await benchPipeline("always", zstd, load, upserts, rowsPerBatch);
}
