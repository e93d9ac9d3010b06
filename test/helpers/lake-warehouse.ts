// Test helper: audits an Iceberg table of the lake warehouse as a crash test needs it. Every
// published version (`metadata/vN.metadata.json`, all of them, not only the newest) and every
// snapshot it lists are followed to the files they name: the manifest list, each manifest (its
// length as recorded), each data and delete file (its size as recorded, a readable Parquet footer
// with the recorded row count) and the offsets file (decodable). Anything missing, truncated or
// unreadable is a problem: a reader of that version would be served a partial snapshot. Files
// under the table that no version names (left by a round that died) are counted as orphans.

import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { decodeOffsets, OFFSETS_PROPERTY } from "@fluss-ts/lake";
import { readManifest, readManifestList } from "../../packages/lake/src/iceberg/lake-table.ts";
import type { TableMetadata } from "../../packages/lake/src/iceberg/metadata.ts";
import { readFooterOf } from "../../packages/lake/src/parquet-io.ts";

export interface WarehouseAudit {
  /** Published versions (vN.metadata.json) found. */
  readonly versions: number;
  /** Distinct snapshots listed by those versions. */
  readonly snapshots: number;
  /** Human-readable descriptions of every missing, truncated or unreadable referenced file. */
  readonly problems: string[];
  /** Data/delete files (.parquet) under data/ that no version references. */
  readonly orphanDataFiles: number;
  /** Files under metadata/ that no version references (manifests, lists, offsets, temporaries). */
  readonly orphanMetadataFiles: number;
}

async function listFiles(dir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Check a referenced file exists with `size` bytes (when known); returns a problem or null. */
async function checkSize(what: string, path: string, size: number | null): Promise<string | null> {
  const actual = await sizeOf(path);
  if (actual === null) return `${what} ${path} is missing`;
  if (size !== null && actual !== size) return `${what} ${path} has ${actual} bytes, ${size} recorded`;
  return null;
}

/** Audit the lake table at `location` (`<warehouse>/<db>/<table>`). */
export async function auditLakeTable(location: string): Promise<WarehouseAudit> {
  const metaDir = join(location, "metadata");
  const problems: string[] = [];
  const referenced = new Set<string>();
  const seenSnapshots = new Set<number>();
  const checkedFiles = new Set<string>();
  const names = (await listFiles(metaDir)).filter((p) => /\/v\d+\.metadata\.json$/.test(p));
  for (const file of names) {
    referenced.add(file);
    let m: TableMetadata;
    try {
      m = JSON.parse(await readFile(file, "utf8")) as TableMetadata;
    } catch (err) {
      problems.push(`${file} is not readable JSON: ${(err as Error).message}`);
      continue;
    }
    for (const s of m.snapshots ?? []) {
      if (seenSnapshots.has(s["snapshot-id"])) continue;
      seenSnapshots.add(s["snapshot-id"]);
      const where = `${relative(location, file)} snapshot ${s["snapshot-id"]}:`;
      const offsetsPath = s.summary[OFFSETS_PROPERTY];
      if (offsetsPath === undefined) problems.push(`${where} names no offsets file`);
      else {
        referenced.add(offsetsPath);
        try {
          decodeOffsets(await readFile(offsetsPath, "utf8"));
        } catch (err) {
          problems.push(`${where} offsets file ${offsetsPath}: ${(err as Error).message}`);
        }
      }
      referenced.add(s["manifest-list"]);
      let manifests: Awaited<ReturnType<typeof readManifestList>>;
      try {
        manifests = await readManifestList(s["manifest-list"]);
      } catch (err) {
        problems.push(`${where} manifest list ${s["manifest-list"]}: ${(err as Error).message}`);
        continue;
      }
      for (const mf of manifests) {
        referenced.add(mf.manifest_path);
        if (checkedFiles.has(mf.manifest_path)) continue;
        checkedFiles.add(mf.manifest_path);
        const bad = await checkSize(`${where} manifest`, mf.manifest_path, mf.manifest_length);
        if (bad) {
          problems.push(bad);
          continue;
        }
        let entries: Awaited<ReturnType<typeof readManifest>>;
        try {
          entries = await readManifest(mf.manifest_path);
        } catch (err) {
          problems.push(`${where} manifest ${mf.manifest_path}: ${(err as Error).message}`);
          continue;
        }
        for (const e of entries) {
          const f = e.data_file;
          referenced.add(f.file_path);
          if (checkedFiles.has(f.file_path)) continue;
          checkedFiles.add(f.file_path);
          const badFile = await checkSize(`${where} data file`, f.file_path, f.file_size_in_bytes);
          if (badFile) {
            problems.push(badFile);
            continue;
          }
          try {
            const footer = await readFooterOf(f.file_path);
            if (footer.rows !== f.record_count)
              problems.push(`${where} ${f.file_path} holds ${footer.rows} rows, ${f.record_count} recorded`);
          } catch (err) {
            problems.push(`${where} ${f.file_path} is not readable Parquet: ${(err as Error).message}`);
          }
        }
      }
    }
  }
  const hint = join(metaDir, "version-hint.text");
  const dataFiles = (await listFiles(join(location, "data"))).filter((p) => p.endsWith(".parquet"));
  const metaFiles = (await listFiles(metaDir)).filter((p) => p !== hint);
  return {
    versions: names.length,
    snapshots: seenSnapshots.size,
    problems,
    orphanDataFiles: dataFiles.filter((p) => !referenced.has(p)).length,
    orphanMetadataFiles: metaFiles.filter((p) => !referenced.has(p)).length,
  };
}
