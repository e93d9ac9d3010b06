// Taking and restoring KV snapshots (Fluss KvTabletSnapshotTarget / KvSnapshotDataDownloader, in
// the simplest form: a full copy each time, no incremental file sharing).
// take: lmdb's hot consistent copy of the environment into a staging directory; the log offset
// and row count are read back from the copy itself (they are written in the same transactions as
// the data, so the copy is exactly "the changelog below logOffset, applied"); the files go up with
// a manifest; snapshots beyond the newest `retained` are deleted.
// restore: the newest complete snapshot the caller accepts (its offset lies inside the log) is
// downloaded into staging, migrated when it has an older store format, opened and checked entry
// by entry (a damaged copy — a store that rotted before it was copied — is skipped for the next
// older one), and renamed into place.
// Invariant: the staging directory holds nothing the tablet needs; it is emptied before use.

import fs from "node:fs";
import path from "node:path";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import { migrateStore } from "./kv-migrate.ts";
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

export interface RestoreOptions {
  /** Why a snapshot (by its manifest) cannot be used, or null when it can. */
  readonly accept: (m: SnapshotManifest) => string | null;
  readonly nowMs: number;
}

/** Why the downloaded store in `dir` cannot be used, or null (a disk failure is thrown). */
async function checkDownloaded(dir: string, nowMs: number): Promise<string | null> {
  try {
    await migrateStore(dir, nowMs);
    const copy = KvStore.open(dir, { readOnly: true });
    try {
      return copy.verify()?.message ?? null;
    } finally {
      await copy.close();
    }
  } catch (err) {
    if (isFlussError(err) && err.retriable) throw err;
    return (err as Error).message;
  }
}

/**
 * Put the newest usable snapshot in place as `dbDir` (which must not exist). Returns its manifest
 * (null when none is usable) and why newer ones were skipped.
 */
export async function restoreNewestSnapshot(
  target: SnapshotTarget,
  dbDir: string,
  stagingDir: string,
  options: RestoreOptions,
): Promise<{ manifest: SnapshotManifest | null; skipped: string[] }> {
  if (fs.existsSync(dbDir)) {
    throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `cannot restore a snapshot over the existing ${dbDir}`);
  }
  const skipped: string[] = [];
  const all = await target.remote.list(target.scope);
  const downloadDir = path.join(stagingDir, "restore");
  for (const candidate of all.reverse()) {
    const name = `snapshot ${candidate.snapshotId}`;
    const unacceptable = options.accept(candidate);
    if (unacceptable !== null) {
      skipped.push(`${name}: ${unacceptable}`);
      continue;
    }
    fs.rmSync(downloadDir, { recursive: true, force: true });
    let manifest: SnapshotManifest;
    try {
      manifest = await target.remote.download(target.scope, candidate.snapshotId, downloadDir);
    } catch (err) {
      if (!isFlussError(err) || err.retriable) throw err;
      skipped.push(`${name}: ${err.message}`);
      continue;
    }
    const damage = await checkDownloaded(downloadDir, options.nowMs);
    if (damage !== null) {
      skipped.push(`${name}: ${damage}`);
      continue;
    }
    fs.renameSync(downloadDir, dbDir);
    return { manifest, skipped };
  }
  fs.rmSync(downloadDir, { recursive: true, force: true });
  return { manifest: null, skipped };
}
