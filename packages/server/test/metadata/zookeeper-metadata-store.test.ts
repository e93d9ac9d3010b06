// The MetadataStore contract run against the ZooKeeper store on a real ZooKeeper server (each test
// under its own root path), skipped with a message when ZooKeeper is not installed.

import { describe } from "vitest";
import { hasZooKeeper, ZooKeeperServer } from "../../../../test/helpers/zookeeper.ts";
import type { MetadataStore } from "../../src/metadata/metadata-store.ts";
import { ZooKeeperMetadataStore } from "../../src/metadata/zk/zookeeper-metadata-store.ts";
import { metadataStoreContract } from "./metadata-store-contract.ts";

describe.skipIf(!hasZooKeeper())("ZooKeeper metadata store", () => {
  let server: Promise<ZooKeeperServer> | null = null;
  let roots = 0;
  metadataStoreContract("ZooKeeper", () => {
    server = ZooKeeperServer.start();
    const rootOf = new Map<MetadataStore, string>();
    const open = async (rootPath: string): Promise<MetadataStore> => {
      const zk = await server!;
      const store = await ZooKeeperMetadataStore.connect({
        address: zk.address,
        rootPath,
        sessionTimeoutMs: 10_000,
      });
      await store.open();
      rootOf.set(store, rootPath);
      return store;
    };
    return {
      create: () => open(`/contract-${++roots}`),
      async reopen(store) {
        await store.close();
        return open(rootOf.get(store)!);
      },
      async cleanup() {
        await (await server)?.stop();
      },
    };
  });
});
