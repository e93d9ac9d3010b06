// Garbage of the ZooKeeper metadata store: trees readers already ignore (zookeeper-metadata-store.ts),
// left by a create that stopped before publishing or a drop that stopped before its cleanup ended:
// table assignment nodes with empty data, partition assignment nodes that are empty or whose table
// is gone, and table nodes with empty data. Removing them changes nothing a reader sees.
// Only the active coordinator runs this, before it creates anything: a creation in flight looks the
// same as garbage.

import type { Logger } from "../../logging.ts";
import { decodePartitionAssignment, Paths } from "./zk-layout.ts";
import { visibleNode, type ZkWriter } from "./zk-writer.ts";
import type { ZooKeeperClient } from "./zookeeper-client.ts";

export interface GarbageCollected {
  readonly tables: number;
  readonly partitions: number;
  readonly tableNodes: number;
}

export async function collectGarbage(
  zk: ZooKeeperClient,
  writer: ZkWriter,
  logger: Logger,
): Promise<GarbageCollected> {
  const visible = (path: string) => visibleNode(zk, path);
  let tables = 0;
  let partitions = 0;
  let tableNodes = 0;
  for (const id of (await zk.getChildren(Paths.tableAssignments)) ?? []) {
    if ((await visible(Paths.tableAssignment(BigInt(id)))) !== undefined) continue;
    await writer.deleteTree("garbage", Paths.tableAssignment(BigInt(id)));
    tables++;
  }
  for (const id of (await zk.getChildren(Paths.partitionAssignments)) ?? []) {
    const node = await visible(Paths.partitionAssignment(BigInt(id)));
    if (node !== undefined) {
      const a = decodePartitionAssignment(BigInt(id), node.data);
      if ((await visible(Paths.tableAssignment(a.tableId))) !== undefined) continue;
    }
    await writer.deleteTree("garbage", Paths.partitionAssignment(BigInt(id)));
    partitions++;
  }
  for (const db of (await zk.getChildren(Paths.databases)) ?? []) {
    for (const t of (await zk.getChildren(Paths.tables(db))) ?? []) {
      if ((await visible(Paths.table(db, t))) !== undefined) continue;
      await writer.deleteTree("garbage", Paths.table(db, t));
      tableNodes++;
    }
  }
  if (tables + partitions + tableNodes > 0) {
    logger.info({ tables, partitions, tableNodes }, "removed half-written or half-dropped metadata");
  }
  return { tables, partitions, tableNodes };
}
