// Where a tablet server keeps a replica's files, and how a stopped replica's data is removed.
// Layout: `<data dir>/<db>/<table>-<table id>/[<partition name>-p<partition id>/](log|kv)-<bucket>`.
// Invariant: removal never climbs above the database directory; a parent directory is removed
// only once empty (another bucket or partition of the table may still live there).

import { rm, rmdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { TableInfo } from "@fluss-ts/common";

/** What names a replica's directories. */
export interface ReplicaPlace {
  readonly table: TableInfo;
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly bucket: number;
}

/** The log (or KV) directory of a replica under a tablet server's data directory. */
export function bucketDir(dataDir: string, a: ReplicaPlace, kind: "log" | "kv"): string {
  const t = a.table;
  const tableDir = join(dataDir, t.path.database, `${t.path.table}-${t.tableId}`);
  const partDir = a.partitionId === null ? tableDir : join(tableDir, `${a.partitionName}-p${a.partitionId}`);
  return join(partDir, `${kind}-${a.bucket}`);
}

/** Remove `dir` and its parents while they are empty, stopping before `stopAt` (never removed). */
export async function removeEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let d = dir;
  while (d !== stopAt && !relative(stopAt, d).startsWith("..") && relative(stopAt, d) !== "") {
    try {
      await rmdir(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        d = dirname(d);
        continue;
      }
      return; // not empty (or not ours to remove): stop
    }
    d = dirname(d);
  }
}

/** Remove a stopped replica's log and KV directories and the parents it emptied. */
export async function removeReplicaDirs(dataDir: string, logDir: string, table: TableInfo): Promise<void> {
  await rm(logDir, { recursive: true, force: true });
  await rm(logDir.replace(/log-(\d+)$/, "kv-$1"), { recursive: true, force: true });
  // The partition directory, then the table directory, once nothing else is in them.
  await removeEmptyDirs(dirname(logDir), join(dataDir, table.path.database));
}
