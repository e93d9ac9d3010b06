// Tablet servers joining and leaving the cluster, on the coordinator side (Fluss's
// CoordinatorEventProcessor on a new or dead tablet server, and its controlled shutdown). A server
// that joins — first start, restart, or back after losing its session — is told the whole metadata
// (every table and partition with its routes, in bounded chunks) and then the leadership of every
// replica it hosts; the other servers learn the new server list. A server that leaves is forgotten:
// nothing more is sent to it and the others learn the server list. Called inside the coordinator's
// serial queue; the joining server's answers are returned as a promise awaited outside it.

import type { TableRegistration } from "../metadata/metadata-store.ts";
import { type CoordinatorContext, scopeRoutes } from "./context.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { replicaAssignment } from "./placement.ts";
import {
  type PartitionUpdate,
  type ReplicaAssignment,
  type ReplicaRef,
  type TabletServerGateway,
  type TableUpdate,
  tableInfoOf,
} from "./types.ts";

/** Tables and partitions per UpdateMetadata message sent to a joining server. */
export const METADATA_ENTRIES_PER_MESSAGE_MAX = 1000;

interface ClusterView {
  readonly tables: TableUpdate[];
  readonly partitions: PartitionUpdate[];
  /** The replicas `serverId` hosts, with their leadership. */
  readonly hosted: ReplicaAssignment[];
}

/** Every table and partition with its routes, and what `serverId` hosts. */
async function clusterView(ctx: CoordinatorContext, serverId: number): Promise<ClusterView> {
  const view: ClusterView = { tables: [], partitions: [], hosted: [] };
  for (const db of await ctx.store.listDatabases()) {
    for (const reg of await ctx.store.listTables(db.name)) await addTable(ctx, reg, serverId, view);
  }
  return view;
}

async function addTable(
  ctx: CoordinatorContext,
  reg: TableRegistration,
  serverId: number,
  view: ClusterView,
) {
  const info = tableInfoOf(reg);
  const scopes: Array<{ id: bigint; name: string } | null> = [null];
  for (const p of await ctx.store.listPartitions(reg.tableId))
    scopes.push({ id: p.partitionId, name: p.name });
  for (const partition of scopes) {
    const routes = await scopeRoutes(ctx, reg.tableId, partition?.id ?? null);
    if (partition === null) view.tables.push({ kind: "table", info, buckets: routes.locations });
    else
      view.partitions.push({
        kind: "partition",
        tableId: reg.tableId,
        partitionId: partition.id,
        partitionName: partition.name,
        buckets: routes.locations,
      });
    for (const a of routes.assignment) {
      const lai = routes.leaders.get(a.bucket);
      if (lai && a.replicas.includes(serverId)) view.hosted.push(replicaAssignment(info, partition, a, lai));
    }
  }
}

/**
 * A server joins: record it live, queue the whole metadata and its replicas' leadership for it,
 * and the new server list for the others. Resolves with its answers (awaited outside the queue).
 */
export async function serverJoined(
  ctx: CoordinatorContext,
  gateway: TabletServerGateway,
): Promise<{ confirmed: Promise<BucketOutcome[]>; replicas: number }> {
  const id = gateway.node.id;
  ctx.servers.add(gateway);
  const view = await clusterView(ctx, id);
  const entries: Array<TableUpdate | PartitionUpdate> = [...view.tables, ...view.partitions];
  const only = new Set([id]);
  // Tables first, then partitions (a partition names its table), in bounded messages.
  for (let i = 0; i === 0 || i < entries.length; i += METADATA_ENTRIES_PER_MESSAGE_MAX) {
    const chunk = entries.slice(i, i + METADATA_ENTRIES_PER_MESSAGE_MAX);
    const tables = chunk.filter((e): e is TableUpdate => !("partitionId" in e));
    const partitions = chunk.filter((e): e is PartitionUpdate => "partitionId" in e);
    ctx.servers.updateMetadata(tables, partitions, only);
  }
  const others = new Set(ctx.servers.nodes().map((n) => n.id));
  others.delete(id);
  if (others.size > 0) ctx.servers.updateMetadata([], [], others);
  const confirmed = ctx.servers.notifyLeaderAndIsr(new Map([[id, view.hosted]]));
  ctx.logger.info({ server: gateway.node, replicas: view.hosted.length }, "tablet server registered");
  return { confirmed, replicas: view.hosted.length };
}

/** A server left (its session ended): forget it and tell the others. */
export function serverLeft(ctx: CoordinatorContext, id: number): void {
  if (!ctx.servers.remove(id)) return;
  ctx.servers.updateMetadata([], []);
  ctx.logger.warn({ server: id }, "tablet server left the cluster");
}

/**
 * A server asks to shut down (Fluss's ControlledShutdown): it gets no new buckets from now on, and
 * leadership moves away from it where another in-sync replica exists. Returns the buckets it still
 * leads (with one replica per bucket, all of them: there is nowhere to move them).
 */
export async function controlledShutdown(ctx: CoordinatorContext, id: number): Promise<ReplicaRef[]> {
  ctx.servers.markShuttingDown(id);
  const remaining: ReplicaRef[] = [];
  for (const db of await ctx.store.listDatabases()) {
    for (const reg of await ctx.store.listTables(db.name)) {
      const ids: Array<bigint | null> = [null];
      for (const p of await ctx.store.listPartitions(reg.tableId)) ids.push(p.partitionId);
      for (const partitionId of ids) {
        const routes = await scopeRoutes(ctx, reg.tableId, partitionId);
        for (const [bucket, lai] of routes.leaders) {
          if (lai.leader === id) remaining.push({ tableId: reg.tableId, partitionId, bucket });
        }
      }
    }
  }
  ctx.logger.info({ server: id, remainingLeaders: remaining.length }, "tablet server shutting down");
  return remaining;
}
