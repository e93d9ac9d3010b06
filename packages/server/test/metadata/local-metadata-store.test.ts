// The MetadataStore contract run against the local (lmdb) store, each test on a fresh directory.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalMetadataStore } from "../../src/metadata/local-metadata-store.ts";
import type { MetadataStore } from "../../src/metadata/metadata-store.ts";
import { metadataStoreContract } from "./metadata-store-contract.ts";

metadataStoreContract("local (lmdb)", () => {
  const dirs: string[] = [];
  const dirOf = new Map<MetadataStore, string>();
  const open = async (dir: string): Promise<MetadataStore> => {
    const store = new LocalMetadataStore(dir, { reservedBytes: 0 });
    await store.open();
    dirOf.set(store, dir);
    return store;
  };
  return {
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "fluss-meta-contract-"));
      dirs.push(dir);
      return open(dir);
    },
    async reopen(store) {
      await store.close();
      return open(dirOf.get(store)!);
    },
    async cleanup() {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
});
