// Putting a usable KV store in place when a tablet opens. Layout of a KV tablet directory:
//   <dir>/db/        the lmdb environment (data.mdb, lock.mdb)
//   <dir>/staging/   scratch space for snapshot copies and downloads
//   <dir>/OPEN       written at open, removed at close: the boot the store was last opened in
// A local store is used when its header checks out, it opens (a store of an older format is
// migrated first, kv-migrate.ts), it sits inside the log ([logStart, logEnd]), it was not open
// when the machine went down (its commits are not fsynced: after a process crash the page cache
// still has them, after an OS crash it may not — the OPEN marker naming an earlier boot tells)
// and the caller has not found it damaged (`discard`: a checksum failed at run time). Otherwise
// it is moved aside (db.unusable-<ms>, the newest one kept for inspection, older ones removed so
// repeated rebuilds on a full disk do not pile up copies) and replaced by the newest remote snapshot that lies
// inside the log and whose every checksum holds (older ones are tried when the newest does not;
// kv-snapshots.ts), or by an empty store when the whole log is still there (log start 0).
// Anything else is KV_STORAGE_EXCEPTION: the changelog needed is gone.
// Invariant: the store returned satisfies logStart <= appliedLogOffset <= logEnd, or it is empty
// with a log starting at 0.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Errors, FlussError } from "@fluss-ts/common";
import type { LogTablet } from "../log/log-tablet.ts";
import { migrateStore } from "./kv-migrate.ts";
import { restoreNewestSnapshot, type SnapshotTarget } from "./kv-snapshots.ts";
import { KvStore, type KvStoreOptions } from "./kv-store.ts";
import type { SnapshotManifest } from "./types.ts";

export interface OpenedStore {
  readonly store: KvStore;
  /** The snapshot restored, when one was. */
  readonly restored: SnapshotManifest | null;
  /** Why the local store was not used, when it was not. */
  readonly discarded: string | null;
}

export interface OpenStoreOptions {
  /** Options of the store opened (read-only is not one). */
  readonly store?: Omit<KvStoreOptions, "readOnly">;
  /** Why the local store must not be used (it was found damaged), or undefined. */
  readonly discard?: string;
}

export function dbDirOf(dir: string): string {
  return path.join(dir, "db");
}

export function stagingDirOf(dir: string): string {
  return path.join(dir, "staging");
}

const OPEN_MARKER = "OPEN";
const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";
/** Boot times derived from the uptime may differ by this much within one boot. */
const BOOT_TIME_SLACK_S = 30;

/** This boot: Linux's boot id, else the boot time in seconds derived from the uptime. */
function bootIdentity(nowMs: number): string {
  try {
    return `id:${fs.readFileSync(BOOT_ID_FILE, "utf8").trim()}`;
  } catch {
    return `time:${Math.round(nowMs / 1000 - os.uptime())}`;
  }
}

function sameBoot(a: string, b: string): boolean {
  if (a.startsWith("time:") && b.startsWith("time:")) {
    return Math.abs(Number(a.slice(5)) - Number(b.slice(5))) <= BOOT_TIME_SLACK_S;
  }
  return a === b;
}

/** Why a store left open by an earlier boot cannot be trusted, or null. */
function openedInEarlierBoot(dir: string, nowMs: number): string | null {
  let recorded: string;
  try {
    recorded = fs.readFileSync(path.join(dir, OPEN_MARKER), "utf8").trim();
  } catch {
    return null; // closed cleanly (or never opened)
  }
  if (sameBoot(recorded, bootIdentity(nowMs))) return null;
  return "it was open when the machine went down (its commits are not fsynced)";
}

export function writeOpenMarker(dir: string, nowMs: number): void {
  fs.writeFileSync(path.join(dir, OPEN_MARKER), bootIdentity(nowMs));
}

export function removeOpenMarker(dir: string): void {
  fs.rmSync(path.join(dir, OPEN_MARKER), { force: true });
}

function insideLog(applied: bigint, log: LogTablet): string | null {
  if (applied > log.logEndOffset) return `it is ahead of its log (${applied} > log end ${log.logEndOffset})`;
  if (applied < log.logStartOffset)
    return `the changelog from ${applied} is gone (log starts at ${log.logStartOffset})`;
  return null;
}

const UNUSABLE_PREFIX = "db.unusable-";

/** Move the store aside as db.unusable-<ms>, removing the ones moved aside before. */
function moveAside(dir: string, nowMs: number): void {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(UNUSABLE_PREFIX)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  fs.renameSync(dbDirOf(dir), path.join(dir, `${UNUSABLE_PREFIX}${nowMs}`));
}

/** Open the local store, or null with the reason it cannot be used. */
async function openLocal(
  dir: string,
  log: LogTablet,
  nowMs: number,
  options: KvStoreOptions,
): Promise<{ store: KvStore | null; reason: string | null }> {
  const dbDir = dbDirOf(dir);
  if (!KvStore.exists(dbDir)) {
    return { store: null, reason: fs.existsSync(dbDir) ? "it has no data file" : null };
  }
  const early = openedInEarlierBoot(dir, nowMs);
  if (early !== null) return { store: null, reason: early };
  const header = KvStore.checkHeader(dbDir);
  if (header !== null) return { store: null, reason: `it does not open: ${header}` };
  let store: KvStore;
  try {
    await migrateStore(dbDir, nowMs);
    store = KvStore.open(dbDir, options);
  } catch (err) {
    return { store: null, reason: `it does not open: ${(err as Error).message}` };
  }
  const reason = insideLog(store.state.appliedLogOffset, log);
  if (reason === null) return { store, reason: null };
  await store.close();
  return { store: null, reason };
}

export async function openStore(
  dir: string,
  log: LogTablet,
  snapshots: SnapshotTarget | null,
  nowMs: number,
  options: OpenStoreOptions = {},
): Promise<OpenedStore> {
  const dbDir = dbDirOf(dir);
  const storeOptions = options.store ?? {};
  fs.mkdirSync(stagingDirOf(dir), { recursive: true });
  const local =
    options.discard === undefined
      ? await openLocal(dir, log, nowMs, storeOptions)
      : { store: null, reason: options.discard };
  if (local.store !== null) {
    writeOpenMarker(dir, nowMs);
    return { store: local.store, restored: null, discarded: null };
  }
  if (fs.existsSync(dbDir)) moveAside(dir, nowMs);
  const { manifest: restored, skipped } =
    snapshots === null
      ? { manifest: null, skipped: [] }
      : await restoreNewestSnapshot(snapshots, dbDir, stagingDirOf(dir), {
          accept: (m) => insideLog(m.logOffset, log),
          nowMs,
        });
  if (restored === null && log.logStartOffset > 0n) {
    throw new FlussError(
      Errors.KV_STORAGE_EXCEPTION,
      `cannot rebuild the kv store in ${dbDir}` +
        (local.reason === null ? "" : ` (local store unusable: ${local.reason})`) +
        `: no usable snapshot${skipped.length === 0 ? "" : ` (${skipped.join("; ")})`} and the log starts at ${log.logStartOffset}`,
    );
  }
  const store = KvStore.open(dbDir, storeOptions);
  writeOpenMarker(dir, nowMs);
  return { store, restored, discarded: local.reason };
}
