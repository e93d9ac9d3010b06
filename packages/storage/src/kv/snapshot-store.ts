// Remote storage of KV snapshots, over the one remote storage interface (remote/remote-storage.ts:
// a local directory by default, or S3). `RemoteSnapshotStore` is what the tablet needs;
// `RemoteStorageSnapshotStore` keeps snapshots as objects:
//   <tableId>/<partition or "-">/<bucket>/snapshot-<id>/{<files>, _MANIFEST.json}
// (`LocalRemoteSnapshotStore` is the same over a local directory, the layout of earlier versions.)
// A snapshot is complete once its manifest exists: files are uploaded first, then the manifest
// (one atomic put). list() ignores incomplete snapshots; download() checks every file's size
// against the manifest; delete() removes the manifest first, so a half-deleted snapshot is never
// listed as complete.
// Errors: a missing snapshot is KV_SNAPSHOT_NOT_EXIST; a snapshot whose files are missing, short
// or whose manifest does not parse is KV_STORAGE_EXCEPTION (not retriable: a restore skips it for
// an older one); a remote storage that fails (unreachable) is its retriable STORAGE_EXCEPTION.

import fs from "node:fs";
import path from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";
import { LocalFileStorage } from "../remote/local-file-storage.ts";
import { keySegmentOf, type RemoteStorage } from "../remote/remote-storage.ts";
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

function damaged(what: string, where: string, cause?: unknown): FlussError {
  const reason = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new FlussError(Errors.KV_STORAGE_EXCEPTION, `${what} ${where}${reason}`, { cause });
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

export class RemoteStorageSnapshotStore implements RemoteSnapshotStore {
  readonly storage: RemoteStorage;

  constructor(storage: RemoteStorage) {
    this.storage = storage;
  }

  /** Key prefix (ending with `/`) of a bucket's snapshots. */
  bucketPrefix(scope: SnapshotScope): string {
    const partition = scope.partition === null ? "-" : keySegmentOf(scope.partition);
    return `${scope.tableId}/${partition}/${scope.bucket}/`;
  }

  snapshotPrefix(scope: SnapshotScope, snapshotId: number): string {
    return `${this.bucketPrefix(scope)}${SNAPSHOT_PREFIX}${snapshotId}/`;
  }

  private where(key: string): string {
    return `${this.storage.description}/${key}`;
  }

  async upload(scope: SnapshotScope, localDir: string, manifest: SnapshotManifest): Promise<void> {
    const prefix = this.snapshotPrefix(scope, manifest.snapshotId);
    await this.storage.deletePrefix(prefix); // an earlier incomplete attempt
    for (const f of manifest.files) await this.storage.putFile(prefix + f.name, path.join(localDir, f.name));
    await this.storage.put(prefix + MANIFEST_FILE, Buffer.from(encodeManifest(manifest)));
  }

  async list(scope: SnapshotScope): Promise<SnapshotManifest[]> {
    const prefix = this.bucketPrefix(scope);
    const objects = await this.storage.list(prefix);
    const out: SnapshotManifest[] = [];
    for (const o of objects) {
      const rel = o.key.slice(prefix.length).split("/");
      if (rel.length !== 2 || !rel[0]!.startsWith(SNAPSHOT_PREFIX) || rel[1] !== MANIFEST_FILE) continue;
      if (out.length >= SNAPSHOTS_LISTED_MAX) break;
      const manifest = await this.readManifest(o.key);
      if (manifest !== null) out.push(manifest);
    }
    return out.sort((a, b) => a.snapshotId - b.snapshotId);
  }

  private async readManifest(key: string): Promise<SnapshotManifest | null> {
    const bytes = await this.storage.get(key);
    if (bytes === null) return null; // incomplete, or deleted meanwhile
    try {
      return decodeManifest(Buffer.from(bytes).toString("utf8"));
    } catch (err) {
      throw damaged("parse of snapshot manifest", this.where(key), err);
    }
  }

  async download(scope: SnapshotScope, snapshotId: number, targetDir: string): Promise<SnapshotManifest> {
    const prefix = this.snapshotPrefix(scope, snapshotId);
    const manifest = await this.readManifest(prefix + MANIFEST_FILE);
    if (manifest === null) {
      throw new FlussError(
        Errors.KV_SNAPSHOT_NOT_EXIST,
        `kv snapshot ${snapshotId} does not exist in ${this.where(prefix)}`,
      );
    }
    try {
      await fs.promises.mkdir(targetDir, { recursive: true });
    } catch (err) {
      throw new FlussError(Errors.KV_STORAGE_EXCEPTION, `create ${targetDir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const f of manifest.files) {
      const size = await this.storage.getFile(prefix + f.name, path.join(targetDir, f.name));
      if (size === null) throw damaged("download of snapshot", this.where(prefix), `${f.name} is missing`);
      if (size !== f.sizeBytes) {
        throw damaged(
          "download of snapshot",
          this.where(prefix),
          `${f.name} has ${size} bytes, the manifest says ${f.sizeBytes}`,
        );
      }
    }
    return manifest;
  }

  async delete(scope: SnapshotScope, snapshotId: number): Promise<void> {
    const prefix = this.snapshotPrefix(scope, snapshotId);
    // The manifest goes first so a half-deleted snapshot is never listed as complete.
    await this.storage.delete([prefix + MANIFEST_FILE]);
    await this.storage.deletePrefix(prefix);
  }

  /** Delete every snapshot of a bucket, complete or not (its table or partition is dropped). */
  async deleteAll(scope: SnapshotScope): Promise<void> {
    for (const m of await this.list(scope)) await this.delete(scope, m.snapshotId);
    await this.storage.deletePrefix(this.bucketPrefix(scope));
  }
}

/** Snapshots under a local directory (the default `remote.data.dir`). */
export class LocalRemoteSnapshotStore extends RemoteStorageSnapshotStore {
  readonly root: string;

  constructor(root: string) {
    const storage = new LocalFileStorage(root);
    super(storage);
    this.root = storage.root;
  }

  /** The directory of a bucket's snapshots. */
  bucketDir(scope: SnapshotScope): string {
    return path.join(this.root, ...this.bucketPrefix(scope).slice(0, -1).split("/"));
  }

  snapshotDir(scope: SnapshotScope, snapshotId: number): string {
    return path.join(this.bucketDir(scope), `${SNAPSHOT_PREFIX}${snapshotId}`);
  }
}
