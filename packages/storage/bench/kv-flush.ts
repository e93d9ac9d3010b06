// The KV flush path alone: PreWriteBuffer.flush -> KvStore.writeAsync -> lmdb puts queued, for
// flushes of 20k staged rows (8-byte keys, 104-byte values; 80% new keys, 20% updates of earlier
// keys), up to 4 commits in flight. Prints the main thread's time inside flush() per row (it
// includes lmdb-js's backpressure waits), wall time and the process's CPU (lmdb's write thread
// included) per row. To compare two commits, run it in a worktree of each, interleaved.
// Run: npx node packages/storage/bench/kv-flush.ts [rows=1000000]
// Profile: npx node --cpu-prof --cpu-prof-dir=/tmp/kvflush packages/storage/bench/kv-flush.ts

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashKey } from "../src/kv/key-index.ts";
import { KvStore } from "../src/kv/kv-store.ts";
import { PreWriteBuffer } from "../src/kv/pre-write-buffer.ts";

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "u15-flush-"));
const store = KvStore.open(dir);
const buffer = new PreWriteBuffer(1 << 30);
const batch = 20_000;
let offset = 0;
let next = 0;
let flushMs = 0;
const pending: Promise<boolean>[] = [];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let done = 0; done < rows; done += batch) {
  const arena = new Uint8Array(batch * 112);
  let at = 0;
  for (let i = 0; i < batch; i++) {
    const update = i % 5 === 4 && next > 0;
    const id = update ? (Math.imul(i + done, 2654435761) >>> 0) % next : next++;
    const key = arena.subarray(at, at + 8);
    new DataView(arena.buffer, at, 8).setBigUint64(0, BigInt(id));
    at += 8;
    const value = arena.subarray(at, at + 104);
    value.fill(id & 0xff);
    at += 104;
    buffer.stageByHash(hashKey(key), update ? "update" : "insert", key, value, offset++);
  }
  const f0 = performance.now();
  buffer.flush(BigInt(offset), store);
  flushMs += performance.now() - f0;
  pending.push(store.whenCommitted());
  if (pending.length >= 4) await pending.shift();
}
await Promise.all(pending);
await store.whenCommitted();
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `flush ${((flushMs * 1000) / rows).toFixed(2)} µs/row on the main thread; wall ${((ms * 1000) / rows).toFixed(2)} µs/row; process CPU ${((cpu.user + cpu.system) / rows).toFixed(2)} µs/row; stored ${store.count()}`,
);
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
