// ISR changes a tablet server's leaders propose (Fluss's AlterIsr / AdjustIsr manager): a leader's
// LeaderReplica returns a proposal (an expansion after a follower fetch caught up, a shrink from the
// periodic lag check every max-lag-time / 2); proposals made in the same turn go to the active
// coordinator in one AdjustIsr request (through the CoordinatorLink); each bucket's answer (the
// recorded leadership, or an error) goes back to the LeaderReplica that proposed it, if it still
// leads. A retriable failure is resent after `retryBackoffMs`, and only while that very proposal is
// still the one in flight (`pendingIsrProposal`: a newer record may have replaced it meanwhile).
// Accepted expansions and shrinks are counted for /metrics (ReplicationEvents) from the coordinator's
// answer against the ISR the proposal started from, not from the leader's ISR before and after the
// answer: the coordinator's NotifyLeaderAndIsr of the new ISR may reach the leader first.
// Invariants: one AdjustIsr request in flight per batch, bounded by the buckets led; after `stop`
// no request starts and no retry is scheduled.

import {
  Errors,
  errorFromCode,
  FlussError,
  type Scheduler,
  type TimerHandle,
  toFlussError,
} from "@fluss-ts/common";
import {
  type ApiKeys,
  isFieldSet,
  PbAdjustIsrRespForBucketSchema,
  type ReqInitOf,
  type RespOf,
} from "@fluss-ts/rpc";
import type { Logger } from "../logging.ts";
import type { ReplicationEvents } from "../metrics/replication-metrics.ts";
import type { LeaderReplica } from "../replication/leader-replica.ts";
import type { LeaderAndIsr } from "../replication/types.ts";
import { type Replica, replicaKey } from "./replica.ts";

/** How the proposals reach the active coordinator (CoordinatorLink.request). */
export type AdjustIsrSender = (
  message: ReqInitOf<typeof ApiKeys.ADJUST_ISR>,
) => Promise<RespOf<typeof ApiKeys.ADJUST_ISR>>;

export interface IsrProposalsOptions {
  readonly serverId: number;
  readonly send: AdjustIsrSender;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly retryBackoffMs: number;
  readonly events?: ReplicationEvents;
}

interface Proposal {
  readonly replica: Replica;
  readonly leader: LeaderReplica;
  readonly proposal: LeaderAndIsr;
  /** The committed ISR the proposal changes. */
  readonly from: readonly number[];
}

export class IsrProposals {
  private readonly o: IsrProposalsOptions;
  private queued: Proposal[] = [];
  private scheduled = false;
  private stopped = false;
  private shrinkTimer: TimerHandle | undefined;

  constructor(o: IsrProposalsOptions) {
    this.o = o;
  }

  /** Send `proposal` of `replica`'s current leader (batched with others of this turn). */
  propose(replica: Replica, leader: LeaderReplica, proposal: LeaderAndIsr): void {
    if (this.stopped) return;
    this.queued.push({ replica, leader, proposal, from: leader.isr });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const batch = this.queued;
      this.queued = [];
      if (batch.length > 0 && !this.stopped) void this.send(batch);
    });
  }

  /** Check the led buckets' followers for lag every `intervalMs` (max-lag-time / 2). */
  startShrinkChecks(replicas: () => Iterable<Replica>, intervalMs: number): void {
    this.shrinkTimer = this.o.scheduler.setInterval(
      () => {
        for (const r of replicas()) {
          const leader = r.leader;
          const proposal = leader?.checkIsrShrink() ?? null;
          if (leader && proposal) this.propose(r, leader, proposal);
        }
      },
      Math.max(1, intervalMs),
    );
    this.shrinkTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.o.scheduler.clearInterval(this.shrinkTimer);
  }

  private async send(batch: readonly Proposal[]): Promise<void> {
    let results: Array<LeaderAndIsr | FlussError>;
    try {
      const resp = await this.o.send(this.request(batch));
      const byKey = new Map<string, LeaderAndIsr | FlussError>();
      for (const t of resp.tablesResp) {
        for (const b of t.bucketsResp) {
          const partitionId = isFieldSet(b, PbAdjustIsrRespForBucketSchema.field.partitionId)
            ? b.partitionId
            : null;
          const key = replicaKey({ tableId: t.tableId, partitionId, bucket: b.bucketId });
          byKey.set(
            key,
            b.errorCode !== 0
              ? errorFromCode(b.errorCode, b.errorMessage)
              : {
                  leader: b.leaderId,
                  leaderEpoch: b.leaderEpoch,
                  isr: [...b.isr],
                  coordinatorEpoch: b.coordinatorEpoch,
                  bucketEpoch: b.bucketEpoch,
                },
          );
        }
      }
      results = batch.map(
        (p) =>
          byKey.get(replicaKey(p.replica.id)) ?? errorFromCode(Errors.NETWORK_EXCEPTION.code, "no answer"),
      );
    } catch (err) {
      const e = toFlussError(err);
      this.o.logger.debug({ err: e }, "AdjustIsr failed; retrying");
      results = batch.map(() => e);
    }
    for (let i = 0; i < batch.length; i++) this.answered(batch[i]!, results[i]!);
  }

  private answered(p: Proposal, result: LeaderAndIsr | FlussError): void {
    if (p.replica.leader !== p.leader) return; // it no longer leads that epoch
    const out = p.leader.onAdjustIsrResult(p.proposal, result);
    if (!(result instanceof FlussError)) this.accepted(p, result.isr);
    p.replica.checkAcks(); // a smaller ISR may fail waiting writes, a committed one release them
    const retry = out.retry;
    if (retry === null || this.stopped) return;
    const t = this.o.scheduler.setTimeout(() => {
      if (!this.stopped && p.replica.leader === p.leader && p.leader.pendingIsrProposal === retry)
        this.propose(p.replica, p.leader, retry);
    }, this.o.retryBackoffMs);
    t.unref();
  }

  /** Count and log the change the coordinator recorded for `p` (`isr`: what it recorded). */
  private accepted(p: Proposal, isr: readonly number[]): void {
    const added = isr.filter((id) => !p.from.includes(id)).length;
    const removed = p.from.filter((id) => !isr.includes(id)).length;
    if (added > 0) this.o.events?.isrExpanded(added);
    if (removed > 0) this.o.events?.isrShrunk(removed);
    if (added > 0 || removed > 0) {
      this.o.logger.info(
        { bucket: p.replica.id.bucket, tableId: String(p.replica.id.tableId), isr },
        removed > 0 ? "ISR shrunk" : "ISR expanded",
      );
    }
  }

  private request(batch: readonly Proposal[]): ReqInitOf<typeof ApiKeys.ADJUST_ISR> {
    const byTable = new Map<bigint, Proposal[]>();
    for (const p of batch) {
      const list = byTable.get(p.replica.id.tableId) ?? [];
      list.push(p);
      byTable.set(p.replica.id.tableId, list);
    }
    return {
      serverId: this.o.serverId,
      tablesReq: [...byTable].map(([tableId, list]) => ({
        tableId,
        bucketsReq: list.map((p) => ({
          ...(p.replica.id.partitionId === null ? {} : { partitionId: p.replica.id.partitionId }),
          bucketId: p.replica.id.bucket,
          leaderEpoch: p.proposal.leaderEpoch,
          newIsr: [...p.proposal.isr],
          coordinatorEpoch: p.proposal.coordinatorEpoch,
          bucketEpoch: p.proposal.bucketEpoch,
        })),
      })),
    };
  }
}
