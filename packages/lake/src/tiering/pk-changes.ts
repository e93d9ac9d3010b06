// The changes of a primary-key bucket within one tiering round, reduced to what the lake needs:
// for every key touched, its final row (or that it was deleted) and whether it may already have a
// row in the lake (its first change in the round was not +I), which then needs an equality
// delete. Rows are kept in the round's lake batches; only positions are indexed by key.
// Bound: the round's batches (the tierer caps a round's bytes).

import { takeRows } from "@fluss-ts/common";
import type { RecordBatch } from "apache-arrow";

const CT_INSERT = 1;
const CT_UPDATE_BEFORE = 2;
const CT_DELETE = 4;

/** A key's identity as text: equal key values give equal text (Fluss-typed Arrow values). */
export function keyText(batch: RecordBatch, keyIndexes: readonly number[], row: number): string {
  let s = "";
  for (const k of keyIndexes) {
    const v: unknown = batch.getChildAt(k)?.get(row);
    s +=
      typeof v === "bigint"
        ? `n${v}|`
        : v instanceof Uint8Array
          ? `b${Buffer.from(v).toString("hex")}|`
          : `${typeof v}${String(v)}|`;
  }
  return s;
}

interface KeyState {
  batch: number;
  row: number;
  deleted: boolean;
  existedBefore: boolean;
}

export class PkRoundChanges {
  private readonly lakeBatches: RecordBatch[] = [];
  private readonly keys = new Map<string, KeyState>();
  private readonly keyIndexes: readonly number[];
  bytes = 0;
  records = 0;

  constructor(keyIndexes: readonly number[]) {
    this.keyIndexes = keyIndexes;
  }

  /** Add a changelog batch: `fluss` (Fluss types, for keys) and the same rows as a lake batch. */
  add(fluss: RecordBatch, lake: RecordBatch, changeTypes: Uint8Array | null, bytes: number): void {
    const b = this.lakeBatches.length;
    this.lakeBatches.push(lake);
    this.bytes += bytes;
    this.records += fluss.numRows;
    for (let r = 0; r < fluss.numRows; r++) {
      const ct = changeTypes ? changeTypes[r]! : CT_INSERT;
      if (ct === CT_UPDATE_BEFORE) continue;
      const key = keyText(fluss, this.keyIndexes, r);
      const prev = this.keys.get(key);
      const existedBefore = prev ? prev.existedBefore : ct !== CT_INSERT;
      this.keys.set(key, { batch: b, row: r, deleted: ct === CT_DELETE, existedBefore });
    }
  }

  get empty(): boolean {
    return this.keys.size === 0;
  }

  /** Final rows (lake batches) and the key rows (lake batches of `keyColumns` positions) to delete. */
  result(keySchemaOf: (b: RecordBatch) => RecordBatch): {
    rows: RecordBatch[];
    deletes: RecordBatch[];
  } {
    const live: number[][] = this.lakeBatches.map(() => []);
    const dead: number[][] = this.lakeBatches.map(() => []);
    for (const s of this.keys.values()) {
      if (!s.deleted) live[s.batch]!.push(s.row);
      if (s.existedBefore) dead[s.batch]!.push(s.row);
    }
    const rows: RecordBatch[] = [];
    const deletes: RecordBatch[] = [];
    this.lakeBatches.forEach((batch, i) => {
      const l = live[i]!.sort((a, b) => a - b);
      if (l.length > 0) rows.push(takeRows(batch, Uint32Array.from(l)));
      const d = dead[i]!.sort((a, b) => a - b);
      if (d.length > 0) deletes.push(keySchemaOf(takeRows(batch, Uint32Array.from(d))));
    });
    return { rows, deletes };
  }
}
