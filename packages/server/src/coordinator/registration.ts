// Tablet servers joining and leaving the cluster, on the coordinator side (Fluss's
// CoordinatorEventProcessor on a new or dead tablet server, and its controlled shutdown). A server
// that joins — first start, restart, or back after losing its session — is told the whole metadata
// (every table and partition with its routes, in bounded chunks); leaderless buckets it can lead get
// it as leader (elections.ts); then it is told the leadership of every replica it hosts; the other
// servers learn the new server list. A server the coordinator still counted live that joins again
// (it restarted within its session) is first taken offline, so its leaderships and ISR places move
// and get new epochs; one the records still name leader (the coordinator restarted) leads on under
// a new epoch: a replica that may have restarted never resumes an epoch. A server that leaves goes offline
// the same way: it leaves every ISR, its buckets get leaders from their alive ISRs, nothing more is
// sent to it, and the others learn the server list. A server shutting down hands its leaderships
// over first. Called inside the coordinator's serial queue; servers' answers (and leaders'
// refusals) are returned as promises awaited outside it.

import type { TableRegistration } from "../metadata/metadata-store.ts";
import { type CoordinatorContext, scopeRoutes } from "./context.ts";
import {
  applyChanges,
  leaderlessChanges,
  offlineChanges,
  type Pending,
  type Refusal,
  refKey,
  refusalsOf,
  rejoinChanges,
  shutdownChanges,
} from "./elections.ts";
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
): Promise<{ confirmed: Promise<BucketOutcome[]>; refusals: Promise<Refusal[]>; replicas: number }> {
  const id = gateway.node.id;
  const pending: Promise<Refusal[]>[] = [];
  if (ctx.servers.has(id)) {
    // Back within its session (a restart): offline first, so nothing it led resumes its epoch.
    ctx.servers.remove(id);
    pending.push((await applyChanges(ctx, await offlineChanges(ctx, id))).refusals);
  }
  ctx.servers.add(gateway);
  const metadata = await clusterView(ctx, id);
  const entries: Array<TableUpdate | PartitionUpdate> = [...metadata.tables, ...metadata.partitions];
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
  // What it still leads goes on under a new epoch; buckets waiting for it (leaderless, it in their
  // ISR) get it as leader; then it is told every replica it hosts with the leadership recorded now.
  pending.push((await applyChanges(ctx, await rejoinChanges(ctx, id))).refusals);
  pending.push((await applyChanges(ctx, await leaderlessChanges(ctx))).refusals);
  const view = await clusterView(ctx, id);
  const confirmed = ctx.servers.notifyLeaderAndIsr(new Map([[id, view.hosted]]));
  const sent = new Map(view.hosted.map((a) => [refKey({ ...a, tableId: a.table.tableId }), hostedChange(a)]));
  pending.push(confirmed.then((outcomes) => refusalsOf(outcomes, sent)));
  ctx.logger.info({ server: gateway.node, replicas: view.hosted.length }, "tablet server registered");
  return { confirmed, refusals: Promise.all(pending).then((l) => l.flat()), replicas: view.hosted.length };
}

/** A hosted replica's assignment as the change `refusalsOf` matches answers against. */
function hostedChange(a: ReplicaAssignment) {
  const key = { tableId: a.table.tableId, partitionId: a.partitionId, bucket: a.bucket };
  const next = {
    leader: a.leader,
    leaderEpoch: a.leaderEpoch,
    isr: a.isr,
    coordinatorEpoch: -1,
    bucketEpoch: a.bucketEpoch,
  };
  const partition = a.partitionId === null ? null : { id: a.partitionId, name: a.partitionName ?? "" };
  return { state: { key, info: a.table, partition, replicas: a.replicas, lai: next }, next };
}

/** A server left (its session ended): it goes offline (elections.ts) and the others are told. */
export async function serverLeft(ctx: CoordinatorContext, id: number): Promise<Pending> {
  if (!ctx.servers.remove(id)) return { refusals: Promise.resolve([]), leadersAnswered: Promise.resolve() };
  ctx.logger.warn({ server: id }, "tablet server left the cluster");
  const pending = await applyChanges(ctx, await offlineChanges(ctx, id));
  ctx.servers.updateMetadata([], []);
  return pending;
}

/**
 * A server asks to shut down (Fluss's ControlledShutdown): it gets no new buckets from now on, its
 * leaderships move to other alive ISR members and it leaves the ISRs it follows in. Returns the
 * buckets it still leads (no other in-sync replica is alive: with one replica, all of them) and the
 * new leaders' answers (awaited outside the queue, so the server stops only once they lead).
 */
export async function controlledShutdown(
  ctx: CoordinatorContext,
  id: number,
): Promise<{ remaining: ReplicaRef[]; pending: Pending }> {
  ctx.servers.markShuttingDown(id);
  ctx.servers.updateMetadata([], []); // leaders stop waiting for it before it leaves their ISRs
  const { changes, remaining } = await shutdownChanges(ctx, id);
  const pending = await applyChanges(ctx, changes);
  ctx.logger.info(
    {
      server: id,
      movedLeaders: changes.filter((c) => c.state.lai.leader === id).length,
      remainingLeaders: remaining.length,
    },
    "tablet server shutting down",
  );
  return { remaining, pending };
}
