// AdjustIsr on the coordinator side (Fluss's CoordinatorEventProcessor.tryProcessAdjustIsr): a
// bucket's leader asks to record a new in-sync replica set. Each bucket is checked by
// replication/election.ts `checkAdjustIsr` — Fluss's checks in Fluss's order (a newer epoch than
// this coordinator knows: INVALID_COORDINATOR; an older leader epoch or a requester that is not the
// leader: FENCED_LEADER_EPOCH; an older bucket epoch: INVALID_UPDATE_VERSION; an ISR without the
// leader, naming non-replicas or adding a server not alive: INELIGIBLE_REPLICA) plus Kafka's
// idempotence rule: a retry of a change already recorded is answered with the current record, so a
// leader whose answer was lost is not left waiting. "Alive" means live and not shutting down.
// Accepted changes are recorded in one store write with the bucket epoch bumped, answered with the
// new record, and also sent to the leader as a NotifyLeaderAndIsr (resent until it answers), since
// the AdjustIsr answer itself may be lost. Called inside the coordinator's serial queue.

import { FlussError } from "@fluss-ts/common";
import type { BucketKey, LeaderAndIsr } from "../metadata/metadata-store.ts";
import { checkAdjustIsr } from "../replication/election.ts";
import type { CoordinatorContext } from "./context.ts";
import {
  applyChanges,
  bucketState,
  electionContext,
  type LeadershipChange,
  type Pending,
} from "./elections.ts";

export interface AdjustIsrRequest extends BucketKey {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly bucketEpoch: number;
  readonly coordinatorEpoch: number;
  readonly newIsr: readonly number[];
}

export type AdjustIsrResult =
  | { readonly key: BucketKey; readonly error: FlussError }
  | { readonly key: BucketKey; readonly error: null; readonly leaderAndIsr: LeaderAndIsr };

/** Check and record ISR changes; one answer per bucket, accepted ones in one store write. */
export async function adjustIsr(
  ctx: CoordinatorContext,
  requests: readonly AdjustIsrRequest[],
): Promise<{ results: AdjustIsrResult[]; pending: Pending }> {
  const results: AdjustIsrResult[] = [];
  const accepted: LeadershipChange[] = [];
  for (const r of requests) {
    const key: BucketKey = { tableId: r.tableId, partitionId: r.partitionId, bucket: r.bucket };
    const state = await bucketState(ctx, key);
    const proposal: LeaderAndIsr = {
      leader: r.leader,
      leaderEpoch: r.leaderEpoch,
      isr: [...r.newIsr],
      coordinatorEpoch: r.coordinatorEpoch,
      bucketEpoch: r.bucketEpoch,
    };
    try {
      const ec = electionContext(ctx, state?.replicas ?? []);
      const next = checkAdjustIsr(state?.lai, proposal, ec);
      if (state !== undefined && next !== state.lai) accepted.push({ state, next });
      results.push({ key, error: null, leaderAndIsr: next });
    } catch (err) {
      if (!(err instanceof FlussError)) throw err;
      results.push({ key, error: err });
    }
  }
  return { results, pending: await applyChanges(ctx, accepted, true) };
}
