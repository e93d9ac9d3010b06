// One Iceberg table in a file-system warehouse, in the layout of Iceberg's Hadoop catalog (what
// Spark's `type=hadoop` catalog, DuckDB's iceberg_scan and Fluss's `datalake.iceberg.type: hadoop`
// read): `<warehouse>/<database>/<table>/metadata/v<N>.metadata.json`, `version-hint.text` naming
// N, and data under `data/`.
// Commit protocol (atomic, single winner): every file a version references (data, manifests,
// manifest list, offsets file) is written and fsynced first, with the entries of the
// directories created for them; the new `v<N+1>.metadata.json` is
// then published with link(2) from a fsynced temporary file, which fails if the name exists, so
// of two writers based on version N exactly one wins and the other gets a CommitConflict and
// publishes nothing. The version hint is updated afterwards (a crash in between is harmless:
// readers probe past the hint). A crash before the link leaves only unreferenced files: no
// reader ever sees a partial version.

import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TablePath } from "@fluss-ts/common";
import { CommitConflict, lakeStorageError } from "../lake-errors.ts";
import type { TableMetadata } from "./metadata.ts";

export const VERSION_HINT = "version-hint.text";
/** Versions probed past the hint before giving up (a hint is at most a few commits behind). */
const PROBE_VERSIONS_MAX = 1000;

export function tableLocation(warehouse: string, path: TablePath): string {
  return join(warehouse, path.database, path.table);
}

export function metadataFileOf(location: string, version: number): string {
  return join(location, "metadata", `v${version}.metadata.json`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Create `dir` and any missing parents; each directory this creates has its own entry fsynced in
 * its parent before returning (a committed version may name files under a directory created for
 * its round, e.g. a new `__bucket=N`, and must not lose that directory in a crash of the machine).
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let d = dir; d.length >= first.length && d !== dirname(d); d = dirname(d)) created.push(d);
  for (const d of created) await fsyncDir(dirname(d));
}

/** Write a whole file and fsync it (and, with `syncDir`, its directory entry). */
export async function writeFileDurable(path: string, bytes: Uint8Array, syncDir = true): Promise<void> {
  await mkdirDurable(dirname(path));
  const fh = await open(path, "wx");
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (syncDir) await fsyncDir(dirname(path));
}

export async function syncDirs(dirs: Iterable<string>): Promise<void> {
  for (const d of new Set(dirs)) await fsyncDir(d);
}

export interface LoadedTable {
  readonly version: number;
  readonly metadataFile: string;
  readonly metadata: TableMetadata;
}

async function hintedVersion(location: string): Promise<number> {
  const meta = join(location, "metadata");
  try {
    const n = Number.parseInt((await readFile(join(meta, VERSION_HINT), "utf8")).trim(), 10);
    if (Number.isSafeInteger(n) && n > 0) return n;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  // No (usable) hint: the highest vN present.
  let best = 0;
  let names: string[] = [];
  try {
    names = await readdir(meta);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  for (const name of names) {
    const m = /^v(\d+)\.metadata\.json$/.exec(name);
    if (m) best = Math.max(best, Number(m[1]));
  }
  return best;
}

/** The newest version of the table at `location`, or null when it has none. */
export async function loadTable(location: string): Promise<LoadedTable | null> {
  let version = await hintedVersion(location);
  for (let i = 0; i < PROBE_VERSIONS_MAX && (await exists(metadataFileOf(location, version + 1))); i++) {
    version++;
  }
  if (version === 0) return null;
  const metadataFile = metadataFileOf(location, version);
  let metadata: TableMetadata;
  try {
    metadata = JSON.parse(await readFile(metadataFile, "utf8")) as TableMetadata;
  } catch (err) {
    throw lakeStorageError(`cannot read lake table metadata ${metadataFile}: ${(err as Error).message}`, err);
  }
  if (metadata["format-version"] !== 2) {
    throw lakeStorageError(`${metadataFile}: format-version ${metadata["format-version"]} (2 expected)`);
  }
  return { version, metadataFile, metadata };
}

/**
 * Publish `metadata` as version `baseVersion + 1`. Throws CommitConflict when that version exists
 * (another writer won); nothing is published then.
 */
export async function commitVersion(
  location: string,
  baseVersion: number,
  metadata: TableMetadata,
): Promise<string> {
  const dir = join(location, "metadata");
  const target = metadataFileOf(location, baseVersion + 1);
  const tmp = join(dir, `.tmp-${randomUUID()}.metadata.json`);
  await writeFileDurable(tmp, Buffer.from(JSON.stringify(metadata, null, 1), "utf8"), false);
  try {
    await link(tmp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CommitConflict(`${target} was committed by another writer`);
    }
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  const hintTmp = join(dir, `.tmp-${randomUUID()}.hint`);
  await writeFileDurable(hintTmp, Buffer.from(String(baseVersion + 1), "utf8"), false);
  await rename(hintTmp, join(dir, VERSION_HINT));
  await fsyncDir(dir);
  return target;
}
