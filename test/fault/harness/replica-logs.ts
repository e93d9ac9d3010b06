// Each replica's log as its tablet server left it on disk, read from the segment files of stopped
// servers (`<data dir>/tablet-server-<id>/<db>/<table>-<table id>/log-<bucket>/<base offset>.log`):
// the batches in offset order, each as its base offset, last offset, record count and a SHA-256 of
// its bytes (a follower keeps the leader's bytes, offsets, timestamps and epochs, so equal logs
// hash equal). Reading stops at a torn tail (an incomplete or malformed batch), which is reported.
// Then `compareReplicas` checks that the replicas of a bucket hold identical batches below the
// high watermark, contiguous from the log start.
// Invariant: files are only read (the servers are stopped; nothing here writes).

import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { peekBatchSize, readBatchHeader } from "@fluss-ts/common";

export interface StoredBatch {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly records: number;
  readonly sha256: string;
}

export interface ReplicaLog {
  readonly batches: StoredBatch[];
  /** A torn or malformed tail: file and byte where reading stopped. */
  readonly tornAt: string | null;
}

/** The log directory of `bucket` of table `<db>.<table>` on a tablet server, or null when absent. */
export async function replicaLogDir(
  serverDataDir: string,
  serverId: number,
  db: string,
  table: string,
  tableId: bigint,
  bucket: number,
): Promise<string | null> {
  const dir = join(serverDataDir, `tablet-server-${serverId}`, db, `${table}-${tableId}`, `log-${bucket}`);
  try {
    await readdir(dir);
    return dir;
  } catch {
    return null;
  }
}

export async function readReplicaLog(dir: string): Promise<ReplicaLog> {
  const files = (await readdir(dir)).filter((f) => /^\d{20}\.log$/.test(f)).sort();
  const batches: StoredBatch[] = [];
  for (const f of files) {
    const buf = new Uint8Array(await readFile(join(dir, f)));
    let pos = 0;
    while (pos < buf.byteLength) {
      const size = peekBatchSize(buf, pos);
      if (size < 0 || pos + size > buf.byteLength) return { batches, tornAt: `${f}@${pos}` };
      let h: ReturnType<typeof readBatchHeader>;
      try {
        h = readBatchHeader(buf, pos);
      } catch {
        return { batches, tornAt: `${f}@${pos}` };
      }
      const bytes = buf.subarray(pos, pos + size);
      batches.push({
        baseOffset: h.baseOffset,
        lastOffset: h.baseOffset + BigInt(h.lastOffsetDelta),
        records: h.recordCount,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
      pos += size;
    }
  }
  return { batches, tornAt: null };
}

export interface BucketComparison {
  /** Replicas that disagree with the first one below the high watermark (or miss batches there). */
  readonly divergent: { readonly replica: number; readonly why: string }[];
  /** Records below the high watermark in the first replica's log. */
  readonly recordsBelowHw: number;
}

/**
 * The batches of `log` wholly below `hw`, with why they are not a whole log from offset 0 up to
 * `hw` (no retention runs in a fault test, so every log starts at 0), or null when they are.
 */
function belowHw(log: ReplicaLog, hw: bigint): { batches: StoredBatch[]; gap: string | null } {
  const out = log.batches.filter((b) => b.lastOffset < hw);
  if (out.length === 0) return { batches: out, gap: hw === 0n ? null : `holds nothing below ${hw}` };
  if (out[0]!.baseOffset !== 0n) return { batches: out, gap: `starts at ${out[0]!.baseOffset}` };
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.baseOffset !== out[i - 1]!.lastOffset + 1n)
      return { batches: out, gap: `gap after offset ${out[i - 1]!.lastOffset}` };
  }
  const end = out[out.length - 1]!.lastOffset + 1n;
  return { batches: out, gap: end === hw ? null : `ends at ${end}, not at the high watermark ${hw}` };
}

/** Compare the replicas of one bucket below its high watermark (see the file comment). */
export function compareReplicas(logs: ReadonlyMap<number, ReplicaLog>, hw: bigint): BucketComparison {
  const divergent: { replica: number; why: string }[] = [];
  const entries = [...logs.entries()].sort(([a], [b]) => a - b);
  let reference: StoredBatch[] | null = null;
  let recordsBelowHw = 0;
  for (const [replica, log] of entries) {
    const { batches, gap } = belowHw(log, hw);
    if (gap !== null) {
      divergent.push({ replica, why: gap });
      continue;
    }
    if (reference === null) {
      reference = batches;
      recordsBelowHw = batches.reduce((n, b) => n + b.records, 0);
      continue;
    }
    const n = Math.max(reference.length, batches.length);
    for (let i = 0; i < n; i++) {
      const a = reference[i];
      const b = batches[i];
      if (a?.baseOffset !== b?.baseOffset || a?.sha256 !== b?.sha256) {
        divergent.push({
          replica,
          why: `batch ${i} differs (offset ${a?.baseOffset ?? "none"} vs ${b?.baseOffset ?? "none"})`,
        });
        break;
      }
    }
  }
  return { divergent, recordsBelowHw };
}
