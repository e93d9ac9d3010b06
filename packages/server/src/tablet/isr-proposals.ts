// ISR changes a tablet server's leaders propose (Fluss's AlterIsr / AdjustIsr manager): a leader's
// LeaderReplica returns a proposal (an expansion after a follower fetch caught up, a shrink from the
// periodic lag check every max-lag-time / 2); proposals made in the same turn go to the active
// coordinator in one AdjustIsr request (through the CoordinatorLink); each bucket's answer (the
// recorded leadership, or an error) goes back to the LeaderReplica that proposed it, if it still
// leads. A retriable failure is resent after `retryBackoffMs`, and only while that very proposal is
// still the one in flight (`pendingIsrProposal`: a newer record may have replaced it meanwhile).
// Accepted expansions and shrinks are counted for /metrics (ReplicationEvents).
// Invariants: one AdjustIsr request in flight per batch, bounded by the buckets led; after `stop`
// no request starts and no retry is scheduled.

import {
  Errors,
  errorFromCode,
  type FlussError,
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
    this.queued.push({ replica, leader, proposal });
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
    const before = p.leader.isr.length;
    const out = p.leader.onAdjustIsrResult(p.proposal, result);
    const after = p.leader.isr.length;
    if (after > before) this.o.events?.isrExpanded(after - before);
    if (after < before) this.o.events?.isrShrunk(before - after);
    if (after !== before) {
      this.o.logger.info(
        { bucket: p.replica.id.bucket, tableId: String(p.replica.id.tableId), isr: p.leader.isr },
        after > before ? "ISR expanded" : "ISR shrunk",
      );
    }
    p.replica.checkAcks(); // a smaller ISR may fail waiting writes, a committed one release them
    const retry = out.retry;
    if (retry === null || this.stopped) return;
    const t = this.o.scheduler.setTimeout(() => {
      if (!this.stopped && p.replica.leader === p.leader && p.leader.pendingIsrProposal === retry)
        this.propose(p.replica, p.leader, retry);
    }, this.o.retryBackoffMs);
    t.unref();
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
