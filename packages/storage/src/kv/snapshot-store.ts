// Remote storage of KV snapshots. `RemoteSnapshotStore` is what the tablet needs from any remote
// (an object store later); `LocalRemoteSnapshotStore` keeps snapshots under a local directory:
//   <root>/<tableId>/<partition or "-">/<bucket>/snapshot-<id>/{<files>, _MANIFEST.json}
// A snapshot is complete once its manifest exists: files are copied first, then the manifest is
// written to a temp name, fsynced and renamed. list() ignores incomplete snapshots; download()
// checks every file's size against the manifest.
// Errors: a missing snapshot is KV_SNAPSHOT_NOT_EXIST, any other I/O failure KV_STORAGE_EXCEPTION.

import fs from "node:fs";
import path from "node:path";
import { Errors, FlussError, isFlussError } from "@fluss-ts/common";
import type { SnapshotFile, SnapshotManifest, SnapshotScope } from "./types.ts";

export interface RemoteSnapshotStore {
  /** Store the files of `localDir` as snapshot `manifest.snapshotId`; the manifest goes last. */
  upload(scope: SnapshotScope, localDir: string, manifest: SnapshotManifest): Promise<void>;
  /** Complete snapshots of the bucket, oldest first. */
  list(scope: SnapshotScope): Promise<SnapshotManifest[]>;
  /** Copy a snapshot's files into `targetDir` (created); returns its manifest. */
  download(scope: SnapshotScope, snapshotId: number, targetDir: string): Promise<SnapshotManifest>;
  delete(scope: SnapshotScope, snapshotId: number): Promise<void>;
}

export const MANIFEST_FILE = "_MANIFEST.json";
const SNAPSHOT_PREFIX = "snapshot-";
/** Snapshots listed per bucket at most (a bound on the directory walk). */
export const SNAPSHOTS_LISTED_MAX = 10_000;

function storageError(action: string, where: string, cause: unknown): FlussError {
  if (isFlussError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FlussError(Errors.KV_STORAGE_EXCEPTION, `${action} ${where} failed: ${reason}`, { cause });
}

export function encodeManifest(m: SnapshotManifest): string {
  return JSON.stringify({
    snapshotId: m.snapshotId,
    logOffset: m.logOffset.toString(),
    rowCount: m.rowCount === null ? null : m.rowCount.toString(),
    files: m.files.map((f) => ({ name: f.name, sizeBytes: f.sizeBytes })),
    createdTime: m.createdTime,
  });
}

function parseFile(v: unknown): SnapshotFile {
  const f = v as { name?: unknown; sizeBytes?: unknown };
  if (
    typeof f?.name !== "string" ||
    !/^[A-Za-z0-9._-]+$/.test(f.name) ||
    !Number.isSafeInteger(f.sizeBytes)
  ) {
    throw new Error("bad file entry");
  }
  return { name: f.name, sizeBytes: f.sizeBytes as number };
}

export function decodeManifest(text: string): SnapshotManifest {
  const d = JSON.parse(text) as Record<string, unknown>;
  const { snapshotId, logOffset, rowCount, files, createdTime } = d;
  if (
    !Number.isSafeInteger(snapshotId) ||
    typeof logOffset !== "string" ||
    !/^[0-9]{1,20}$/.test(logOffset)
  ) {
    throw new Error("bad snapshot id or log offset");
  }
  if (rowCount !== null && (typeof rowCount !== "string" || !/^-?[0-9]{1,20}$/.test(rowCount))) {
    throw new Error("bad row count");
  }
  if (!Array.isArray(files) || !Number.isSafeInteger(createdTime)) throw new Error("bad files or time");
  return {
    snapshotId: snapshotId as number,
    logOffset: BigInt(logOffset),
    rowCount: rowCount === null ? null : BigInt(rowCount),
    files: files.map(parseFile),
    createdTime: createdTime as number,
  };
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class LocalRemoteSnapshotStore implements RemoteSnapshotStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The directory of a bucket's snapshots. */
  bucketDir(scope: SnapshotScope): string {
    const partition = scope.partition === null ? "-" : encodeURIComponent(scope.partition);
    return path.join(this.root, scope.tableId.toString(), partition, String(scope.bucket));
  }

  snapshotDir(scope: SnapshotScope, snapshotId: number): string {
    return path.join(this.bucketDir(scope), `${SNAPSHOT_PREFIX}${snapshotId}`);
  }

  async upload(scope: SnapshotScope, localDir: string, manifest: SnapshotManifest): Promise<void> {
    const dir = this.snapshotDir(scope, manifest.snapshotId);
    try {
      await fs.promises.rm(dir, { recursive: true, force: true }); // an earlier incomplete attempt
      await fs.promises.mkdir(dir, { recursive: true });
      for (const f of manifest.files) {
        const target = path.join(dir, f.name);
        await fs.promises.copyFile(path.join(localDir, f.name), target);
        fsyncPath(target);
      }
      const tmp = path.join(dir, `${MANIFEST_FILE}.tmp`);
      await fs.promises.writeFile(tmp, encodeManifest(manifest));
      fsyncPath(tmp);
      await fs.promises.rename(tmp, path.join(dir, MANIFEST_FILE));
      fsyncPath(dir);
    } catch (err) {
      throw storageError("upload of snapshot", dir, err);
    }
  }

  async list(scope: SnapshotScope): Promise<SnapshotManifest[]> {
    const dir = this.bucketDir(scope);
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw storageError("list of snapshots", dir, err);
    }
    const out: SnapshotManifest[] = [];
    for (const name of names.slice(0, SNAPSHOTS_LISTED_MAX)) {
      if (!name.startsWith(SNAPSHOT_PREFIX)) continue;
      const manifest = await this.readManifest(path.join(dir, name));
      if (manifest !== null) out.push(manifest);
    }
    return out.sort((a, b) => a.snapshotId - b.snapshotId);
  }

  private async readManifest(dir: string): Promise<SnapshotManifest | null> {
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(dir, MANIFEST_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null; // incomplete
      throw storageError("read of snapshot manifest", dir, err);
    }
    try {
      return decodeManifest(text);
    } catch (err) {
      throw storageError("parse of snapshot manifest", dir, err);
    }
  }

  async download(scope: SnapshotScope, snapshotId: number, targetDir: string): Promise<SnapshotManifest> {
    const dir = this.snapshotDir(scope, snapshotId);
    const manifest = await this.readManifest(dir);
    if (manifest === null) {
      throw new FlussError(
        Errors.KV_SNAPSHOT_NOT_EXIST,
        `kv snapshot ${snapshotId} does not exist in ${dir}`,
      );
    }
    try {
      await fs.promises.mkdir(targetDir, { recursive: true });
      for (const f of manifest.files) {
        const target = path.join(targetDir, f.name);
        await fs.promises.copyFile(path.join(dir, f.name), target);
        const size = (await fs.promises.stat(target)).size;
        if (size !== f.sizeBytes)
          throw new Error(`${f.name} has ${size} bytes, the manifest says ${f.sizeBytes}`);
      }
    } catch (err) {
      throw storageError("download of snapshot", dir, err);
    }
    return manifest;
  }

  async delete(scope: SnapshotScope, snapshotId: number): Promise<void> {
    const dir = this.snapshotDir(scope, snapshotId);
    try {
      // The manifest goes first so a half-deleted snapshot is never listed as complete.
      await fs.promises.rm(path.join(dir, MANIFEST_FILE), { force: true });
      await fs.promises.rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw storageError("delete of snapshot", dir, err);
    }
  }
}
