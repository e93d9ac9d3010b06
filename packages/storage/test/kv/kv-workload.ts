// A deterministic KV workload shared by the kill -9 writer process and the test that checks what
// survived: batch i upserts a few keys with `sum` contributions and sometimes deletes one, on an
// aggregation table (deletes allowed) — applying a batch twice or half would show in the sums.

import { makeSchema, type Schema } from "@fluss-ts/common";
import { del, type KvOp, upsert } from "./kv-helpers.ts";

export const workloadSchema: Schema = makeSchema(
  [
    { name: "id", type: "INT" },
    { name: "total", type: "BIGINT" },
    { name: "last", type: "INT" },
  ],
  ["id"],
);

export const workloadProperties = {
  "table.merge-engine": "aggregation",
  "fields.total.agg": "sum",
  "table.delete.behavior": "allow",
};

const KEYS = 40;

export function workloadBatch(i: number): KvOp[] {
  const ops: KvOp[] = [];
  for (let j = 0; j < 1 + (i % 5); j++) ops.push(upsert((i * 7 + j * 13) % KEYS, BigInt(i + j), i));
  if (i % 4 === 3) ops.push(del((i * 11) % KEYS));
  return ops;
}

/** The rows (in key order) after batches 0..count-1. */
export function workloadModel(count: number): unknown[][] {
  const rows = new Map<number, [number, bigint, number]>();
  for (let i = 0; i < count; i++) {
    for (const op of workloadBatch(i)) {
      if ("delete" in op) {
        rows.delete(op.delete[0] as number);
        continue;
      }
      const [id, total, last] = op.upsert as [number, bigint, number];
      const old = rows.get(id);
      rows.set(id, old === undefined ? [id, total, last] : [id, old[1] + total, last]);
    }
  }
  return [...rows.keys()].sort((a, b) => a - b).map((k) => rows.get(k)!);
}
