// Leadership changes the coordinator makes after a cluster event (Fluss's ReplicaStateMachine and
// TableBucketStateMachine reacting to a dead, returning or stopping tablet server), with the rules
// of replication/election.ts:
//  - a server going offline (session expired, heartbeats stopped, restarted) leaves every ISR; a
//    bucket it led gets a new leader from its alive ISR, or stays leaderless (NO_LEADER) when no
//    ISR member is alive (no unclean election) until one returns (`leaderlessChanges`);
//  - a server shutting down (ControlledShutdown) hands its leaderships to another alive ISR member
//    first and leaves the ISRs it follows in;
//  - a leader that refuses the leadership it was sent is elected over: FENCED_LEADER_EPOCH (it led
//    that epoch before a restart) elects again with a new epoch; a storage failure elects another
//    ISR member; a passing (retriable) failure gets the same record again later;
//  - every change bumps the bucket epoch, every leader change the leader epoch; it is written to
//    the store first, then sent (NotifyLeaderAndIsr) to every live replica of the bucket, whose
//    ordered, retrying channel resends it until the server answers or leaves (a returning server
//    is told everything at registration), and the new routes go to every server (UpdateMetadata).
// Everything here runs inside the coordinator's serial queue except the awaiting of the returned
// `refusals`, which the Coordinator does outside it and feeds back through `refusalChange`.

import { Errors, type FlussError, type TableInfo } from "@fluss-ts/common";
import type { BucketKey, LeaderAndIsr } from "../metadata/metadata-store.ts";
import {
  controlledShutdownElection,
  type ElectionContext,
  electLeader,
  removeReplicaFromIsr,
} from "../replication/election.ts";
import { NO_LEADER } from "../replication/types.ts";
import { type CoordinatorContext, scopeRoutes } from "./context.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { type PartitionRef, replicaAssignment } from "./placement.ts";
import { type PartitionUpdate, type ReplicaAssignment, type TableUpdate, tableInfoOf } from "./types.ts";

/** One bucket as the store records it. */
export interface BucketState {
  readonly key: BucketKey;
  readonly info: TableInfo;
  readonly partition: PartitionRef | null;
  readonly replicas: readonly number[];
  readonly lai: LeaderAndIsr;
}

/** Refusals still to come (awaited outside the serial queue: servers answer at their pace). */
export interface Pending {
  readonly refusals: Promise<Refusal[]>;
  /** Settles once the new leaders answered (followers may still be on their way). */
  readonly leadersAnswered: Promise<void>;
}

const nothingPending: Pending = { refusals: Promise.resolve([]), leadersAnswered: Promise.resolve() };

export interface LeadershipChange {
  readonly state: BucketState;
  readonly next: LeaderAndIsr;
}

/** A replica's refusal of a leadership record it was sent (fed back to `refusalChange`). */
export interface Refusal {
  readonly key: BucketKey;
  readonly server: number;
  readonly sent: LeaderAndIsr;
  readonly error: FlussError;
}

export function electionContext(ctx: CoordinatorContext, replicas: readonly number[]): ElectionContext {
  return {
    replicas,
    isAlive: (id) => ctx.servers.isEligible(id),
    coordinatorEpoch: ctx.servers.coordinatorEpoch,
  };
}

/** Every bucket of every table and partition, with its record (buckets without one are skipped). */
export async function allBuckets(ctx: CoordinatorContext): Promise<BucketState[]> {
  const out: BucketState[] = [];
  for (const db of await ctx.store.listDatabases()) {
    for (const reg of await ctx.store.listTables(db.name)) {
      const info = tableInfoOf(reg);
      const scopes: Array<PartitionRef | null> = [null];
      for (const p of await ctx.store.listPartitions(reg.tableId))
        scopes.push({ id: p.partitionId, name: p.name });
      for (const partition of scopes) {
        const routes = await scopeRoutes(ctx, reg.tableId, partition?.id ?? null);
        for (const a of routes.assignment) {
          const lai = routes.leaders.get(a.bucket);
          if (lai === undefined) continue;
          const key = { tableId: reg.tableId, partitionId: partition?.id ?? null, bucket: a.bucket };
          out.push({ key, info, partition, replicas: a.replicas, lai });
        }
      }
    }
  }
  return out;
}

/** One bucket's state, or undefined when its table, partition, assignment or record is gone. */
export async function bucketState(ctx: CoordinatorContext, key: BucketKey): Promise<BucketState | undefined> {
  const reg = await ctx.store.getTableById(key.tableId);
  if (reg === undefined) return undefined;
  let partition: PartitionRef | null = null;
  if (key.partitionId !== null) {
    const p = await ctx.store.getPartition(key.partitionId);
    if (p === undefined || p.tableId !== key.tableId) return undefined;
    partition = { id: p.partitionId, name: p.name };
  }
  const a = (await ctx.store.getAssignment(key.tableId, key.partitionId))?.find(
    (x) => x.bucket === key.bucket,
  );
  const lai = await ctx.store.getLeaderAndIsr(key);
  if (a === undefined || lai === undefined) return undefined;
  return { key, info: tableInfoOf(reg), partition, replicas: a.replicas, lai };
}

/** Server `id` went offline: it leaves every ISR, and the buckets it led get a new leader. */
export async function offlineChanges(ctx: CoordinatorContext, id: number): Promise<LeadershipChange[]> {
  const changes: LeadershipChange[] = [];
  for (const state of await allBuckets(ctx)) {
    if (!state.replicas.includes(id) && state.lai.leader !== id) continue;
    const removed = removeReplicaFromIsr(state.lai, id, ctx.servers.coordinatorEpoch);
    if (removed === null) continue;
    const elected =
      removed.leader === NO_LEADER ? electLeader(removed, electionContext(ctx, state.replicas)) : null;
    changes.push({ state, next: elected ?? removed });
  }
  return changes;
}

/**
 * Servers not in the cluster that records still name as leader or ISR member (they died while no
 * coordinator watched them, or never came back after its restart) are taken offline, one after
 * the other (each one's changes build on the last). Resolves with the refusals' promise.
 */
export async function takeUnknownServersOffline(ctx: CoordinatorContext): Promise<Pending> {
  const gone = new Set<number>();
  for (const s of await allBuckets(ctx)) {
    for (const id of [s.lai.leader, ...s.lai.isr]) if (id !== NO_LEADER && !ctx.servers.has(id)) gone.add(id);
  }
  const refusals: Promise<Refusal[]>[] = [];
  for (const id of gone) {
    ctx.logger.warn(
      { server: id },
      "a tablet server named by leadership records has not joined: taking it offline",
    );
    refusals.push((await applyChanges(ctx, await offlineChanges(ctx, id))).refusals);
  }
  const all = Promise.all(refusals).then((l) => l.flat());
  return { refusals: all, leadersAnswered: all.then(() => undefined) };
}

/**
 * Server `id` (re)joins while records still name it leader (the coordinator restarted, or never
 * saw it leave): it leads on, with a new epoch, since a server that may have restarted never
 * resumes an epoch it led (its replica refuses: log.claimLeaderEpoch).
 */
export async function rejoinChanges(ctx: CoordinatorContext, id: number): Promise<LeadershipChange[]> {
  const changes: LeadershipChange[] = [];
  for (const state of await allBuckets(ctx)) {
    const lai = state.lai;
    if (lai.leader !== id) continue;
    const next = {
      ...lai,
      leaderEpoch: lai.leaderEpoch + 1,
      coordinatorEpoch: ctx.servers.coordinatorEpoch,
      bucketEpoch: lai.bucketEpoch + 1,
    };
    changes.push({ state, next });
  }
  return changes;
}

/** Leaderless buckets (NO_LEADER) whose ISR has an eligible member again get it as leader. */
export async function leaderlessChanges(ctx: CoordinatorContext): Promise<LeadershipChange[]> {
  const changes: LeadershipChange[] = [];
  for (const state of await allBuckets(ctx)) {
    if (state.lai.leader !== NO_LEADER) continue;
    const elected = electLeader(state.lai, electionContext(ctx, state.replicas));
    if (elected !== null) changes.push({ state, next: elected });
  }
  return changes;
}

/**
 * Server `id` is shutting down: its leaderships move to another alive ISR member, and it leaves the
 * ISRs it follows in. `remaining`: the buckets it leads with no one to take over.
 */
export async function shutdownChanges(
  ctx: CoordinatorContext,
  id: number,
): Promise<{ changes: LeadershipChange[]; remaining: BucketKey[] }> {
  const changes: LeadershipChange[] = [];
  const remaining: BucketKey[] = [];
  for (const state of await allBuckets(ctx)) {
    const lai = state.lai;
    if (lai.leader === id) {
      const next = controlledShutdownElection(lai, electionContext(ctx, state.replicas), [id]);
      if (next === null) remaining.push(state.key);
      else changes.push({ state, next });
    } else if (lai.isr.includes(id) && lai.isr.length > 1) {
      const isr = lai.isr.filter((s) => s !== id);
      const next = {
        ...lai,
        isr,
        coordinatorEpoch: ctx.servers.coordinatorEpoch,
        bucketEpoch: lai.bucketEpoch + 1,
      };
      changes.push({ state, next });
    }
  }
  return { changes, remaining };
}

/** The bucket's state when its record still has `sent`'s leader and epochs (nothing moved on). */
export async function stillCurrent(
  ctx: CoordinatorContext,
  key: BucketKey,
  sent: LeaderAndIsr,
): Promise<BucketState | undefined> {
  const state = await bucketState(ctx, key);
  const lai = state?.lai;
  if (lai === undefined || lai.leader !== sent.leader || lai.leaderEpoch !== sent.leaderEpoch)
    return undefined;
  return lai.bucketEpoch === sent.bucketEpoch ? state : undefined;
}

/**
 * What to do about a refusal: a new election (see the file comment), or null when the record moved
 * on meanwhile, the refusal is passing (resend: `resend` true), or no one else can lead.
 */
export async function refusalChange(
  ctx: CoordinatorContext,
  r: Refusal,
): Promise<{ change: LeadershipChange | null; resend: BucketState | null }> {
  const none = { change: null, resend: null };
  const state = await stillCurrent(ctx, r.key, r.sent);
  if (state === undefined || state.lai.leader !== r.server) return none;
  const lai = state.lai;
  if (r.error.retriable) return { change: null, resend: state };
  const excluded = r.error.is(Errors.FENCED_LEADER_EPOCH_EXCEPTION) ? [] : [r.server];
  const next = electLeader(lai, electionContext(ctx, state.replicas), excluded);
  return { change: next === null ? null : { state, next }, resend: null };
}

/** Write changes to the store (in batches the store makes atomic); logs each. */
export async function recordChanges(
  ctx: CoordinatorContext,
  changes: readonly LeadershipChange[],
): Promise<void> {
  if (changes.length === 0) return;
  await ctx.store.putLeaderAndIsr(changes.map((c) => [c.state.key, c.next] as const));
  for (const c of changes) {
    const { lai } = c.state;
    ctx.logger.info(
      {
        tableId: String(c.state.key.tableId),
        partitionId: c.state.key.partitionId === null ? undefined : String(c.state.key.partitionId),
        bucket: c.state.key.bucket,
        leader: c.next.leader,
        leaderEpoch: c.next.leaderEpoch,
        isr: c.next.isr,
        previousLeader: lai.leader,
      },
      c.next.leader === lai.leader ? "bucket ISR changed" : "bucket leader changed",
    );
  }
}

/**
 * Send recorded changes: NotifyLeaderAndIsr to every live replica of each bucket (to the leader
 * alone with `leaderOnly`: an ISR change followers need not hear of), and the new routes to every
 * server unless `leaderOnly`. Resolves with the leaders' refusals once the servers answered.
 */
export async function sendChanges(
  ctx: CoordinatorContext,
  changes: readonly LeadershipChange[],
  leaderOnly = false,
): Promise<Pending> {
  if (changes.length === 0) return nothingPending;
  // Leaders first, in their own requests: a caller may wait for them alone (controlled shutdown).
  const toLeaders = new Map<number, ReplicaAssignment[]>();
  const toFollowers = new Map<number, ReplicaAssignment[]>();
  for (const c of changes) {
    const targets = leaderOnly ? [c.next.leader] : c.state.replicas;
    for (const s of targets) {
      if (!ctx.servers.has(s)) continue;
      const perServer = s === c.next.leader ? toLeaders : toFollowers;
      const list = perServer.get(s) ?? [];
      list.push(
        replicaAssignment(
          c.state.info,
          c.state.partition,
          { bucket: c.state.key.bucket, replicas: c.state.replicas },
          c.next,
        ),
      );
      perServer.set(s, list);
    }
  }
  const sent = new Map(changes.map((c) => [refKey(c.state.key), c] as const));
  const leaders = ctx.servers.notifyLeaderAndIsr(toLeaders);
  const followers = ctx.servers.notifyLeaderAndIsr(toFollowers);
  if (!leaderOnly) await sendRoutes(ctx, changes);
  return {
    refusals: Promise.all([leaders, followers]).then(([l]) => refusalsOf(l, sent)),
    leadersAnswered: leaders.then(() => undefined),
  };
}

/** Record and send changes (see `recordChanges`, `sendChanges`). */
export async function applyChanges(
  ctx: CoordinatorContext,
  changes: readonly LeadershipChange[],
  leaderOnly = false,
): Promise<Pending> {
  await recordChanges(ctx, changes);
  return sendChanges(ctx, changes, leaderOnly);
}

/** The leaders' refusals among the answers to a NotifyLeaderAndIsr fan-out. */
export function refusalsOf(
  outcomes: readonly BucketOutcome[],
  sent: ReadonlyMap<string, { readonly state: BucketState; readonly next: LeaderAndIsr }>,
): Refusal[] {
  const out: Refusal[] = [];
  for (const o of outcomes) {
    const error = o.answer?.error;
    if (!o.answer || !error) continue;
    const c = sent.get(refKey(o.answer.ref));
    if (c === undefined || c.next.leader !== o.serverId) continue;
    out.push({ key: c.state.key, server: o.serverId, sent: c.next, error });
  }
  return out;
}

/** Queue an UpdateMetadata with the routes of every table and partition the changes touched. */
async function sendRoutes(ctx: CoordinatorContext, changes: readonly LeadershipChange[]): Promise<void> {
  const tables: TableUpdate[] = [];
  const partitions: PartitionUpdate[] = [];
  const seen = new Set<string>();
  for (const c of changes) {
    const { key, info, partition } = c.state;
    const scope = `${key.tableId}/${key.partitionId ?? "-"}`;
    if (seen.has(scope)) continue;
    seen.add(scope);
    const routes = await scopeRoutes(ctx, key.tableId, key.partitionId);
    if (partition === null) tables.push({ kind: "table", info, buckets: routes.locations });
    else
      partitions.push({
        kind: "partition",
        tableId: key.tableId,
        partitionId: partition.id,
        partitionName: partition.name,
        buckets: routes.locations,
      });
  }
  void ctx.servers.updateMetadata(tables, partitions); // queued now, in order; failures are logged
}

export function refKey(r: { tableId: bigint; partitionId: bigint | null; bucket: number }): string {
  return `${r.tableId}/${r.partitionId ?? "-"}/${r.bucket}`;
}
