// Migration of a KV store written in an older store format to the current one (kv-store.ts):
// format 1 stored values and the meta state without checksums. The store is copied into a
// sibling directory (`<dir>.migrating`), entry by entry with each value sealed, in transactions
// of MIGRATE_ENTRIES_PER_TXN entries, the state written last; then the old directory is moved
// aside, the copy renamed into place and the old one removed. A crash part-way leaves either the
// old store in place (the unfinished copy is removed on the next attempt) or no store at all,
// which kv-open.ts rebuilds from the snapshot and the changelog.
// Invariant: the migrated store holds the same keys, values and state as the old one.

import fs from "node:fs";
import { open } from "lmdb";
import { seal } from "./kv-checksum.ts";
import {
  BINARY,
  decodeState,
  encodeState,
  kvError,
  LMDB_OPTIONS,
  META_KEY,
  STORE_FORMAT,
} from "./kv-format.ts";
import { KvStore } from "./kv-store.ts";

/** Entries copied per transaction of a migration. */
const MIGRATE_ENTRIES_PER_TXN = 10_000;

/** The store format of the store in `dir` (which must hold one). */
export async function storeFormat(dir: string): Promise<number> {
  const store = KvStore.open(dir, { readOnly: true });
  const format = store.format;
  await store.close();
  return format;
}

/** Rewrite the store in `dir` in the current format (a no-op when it is current). */
export async function migrateStore(dir: string, nowMs: number): Promise<boolean> {
  if ((await storeFormat(dir)) === STORE_FORMAT) return false;
  const target = `${dir}.migrating`;
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  const from = open<Uint8Array, Uint8Array>({ path: dir, ...LMDB_OPTIONS, readOnly: true, ...BINARY });
  const to = open<Uint8Array, Uint8Array>({ path: target, ...LMDB_OPTIONS, ...BINARY });
  try {
    const fromData = from.openDB<Uint8Array, Uint8Array>({ name: "data", ...BINARY });
    const fromMeta = from.openDB<Uint8Array, Uint8Array>({ name: "meta", ...BINARY });
    const toData = to.openDB<Uint8Array, Uint8Array>({ name: "data", ...BINARY });
    const toMeta = to.openDB<Uint8Array, Uint8Array>({ name: "meta", ...BINARY });
    const { state } = decodeState(fromMeta.getBinary(META_KEY));
    let chunk: { key: Uint8Array; value: Uint8Array }[] = [];
    const flush = (): void => {
      const entries = chunk;
      chunk = [];
      to.transactionSync(() => {
        for (const e of entries) toData.putSync(e.key, seal(e.key, e.value));
      });
    };
    for (const { key, value } of fromData.getRange({ snapshot: true })) {
      chunk.push({
        key: Uint8Array.prototype.slice.call(key),
        value: Uint8Array.prototype.slice.call(value),
      });
      if (chunk.length >= MIGRATE_ENTRIES_PER_TXN) flush();
    }
    flush();
    to.transactionSync(() => toMeta.putSync(META_KEY, encodeState(state)));
  } catch (err) {
    await Promise.allSettled([from.close(), to.close()]);
    fs.rmSync(target, { recursive: true, force: true });
    throw kvError("migration", dir, err);
  }
  await from.close();
  await to.close();
  const aside = `${dir}.format1-${nowMs}`;
  fs.renameSync(dir, aside);
  fs.renameSync(target, dir);
  fs.rmSync(aside, { recursive: true, force: true });
  return true;
}
