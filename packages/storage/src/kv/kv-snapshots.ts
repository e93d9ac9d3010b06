// Taking and restoring KV snapshots (Fluss KvTabletSnapshotTarget / KvSnapshotDataDownloader, in
// the simplest form: a full copy each time, no incremental file sharing).
// take: lmdb's hot consistent copy of the environment into a staging directory; the log offset
// and row count are read back from the copy itself (they are written in the same transactions as
// the data, so the copy is exactly "the changelog below logOffset, applied"); the files go up with
// a manifest; snapshots beyond the newest `retained` are deleted.
// restore: the newest complete snapshot is downloaded into staging and renamed into place.
// Invariant: the staging directory holds nothing the tablet needs; it is emptied before use.

import fs from "node:fs";
import path from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";
import { KvStore } from "./kv-store.ts";
import type { RemoteSnapshotStore } from "./snapshot-store.ts";
import type { SnapshotFile, SnapshotManifest, SnapshotScope } from "./types.ts";

/** Fluss kv.snapshot.num-retained default. */
export const SNAPSHOTS_RETAINED_DEFAULT = 2;
const LMDB_LOCK_FILE = "lock.mdb";

export interface SnapshotTarget {
  readonly remote: RemoteSnapshotStore;
  readonly scope: SnapshotScope;
  /** Newest snapshots kept (older ones are deleted after each new one). */
  readonly retained?: number;
}

function filesOf(dir: string): SnapshotFile[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name !== LMDB_LOCK_FILE)
    .sort()
    .map((name) => ({ name, sizeBytes: fs.statSync(path.join(dir, name)).size }));
}

/** Back up `store`, upload it as snapshot `snapshotId`, prune old snapshots. */
export async function takeSnapshot(
  store: KvStore,
  stagingDir: string,
  target: SnapshotTarget,
  snapshotId: number,
  nowMs: number,
): Promise<SnapshotManifest> {
  const copyDir = path.join(stagingDir, `snapshot-${snapshotId}`);
  fs.rmSync(copyDir, { recursive: true, force: true });
  try {
    await store.backup(copyDir);
    const copy = KvStore.open(copyDir, { readOnly: true });
    const state = copy.state;
    await copy.close();
    const manifest: SnapshotManifest = {
      snapshotId,
      logOffset: state.appliedLogOffset,
      rowCount: state.rowCount,
      files: filesOf(copyDir),
      createdTime: nowMs,
    };
    await target.remote.upload(target.scope, copyDir, manifest);
    await prune(target);
    return manifest;
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true });
  }
}

async function prune(target: SnapshotTarget): Promise<void> {
  const retained = target.retained ?? SNAPSHOTS_RETAINED_DEFAULT;
  const all = await target.remote.list(target.scope);
  for (const m of all.slice(0, Math.max(all.length - retained, 0))) {
    await target.remote.delete(target.scope, m.snapshotId);
  }
}

/**
 * Put the newest complete snapshot in place as `dbDir` (which must not exist). Returns its
 * manifest, or null when there is no snapshot.
 */
export async function restoreNewestSnapshot(
  target: SnapshotTarget,
  dbDir: string,
  stagingDir: string,
): Promise<SnapshotManifest | null> {
  const newest = (await target.remote.list(target.scope)).at(-1);
  if (newest === undefined) return null;
  if (fs.existsSync(dbDir)) {
    throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `cannot restore a snapshot over the existing ${dbDir}`);
  }
  const downloadDir = path.join(stagingDir, "restore");
  fs.rmSync(downloadDir, { recursive: true, force: true });
  const manifest = await target.remote.download(target.scope, newest.snapshotId, downloadDir);
  fs.renameSync(downloadDir, dbDir);
  return manifest;
}
