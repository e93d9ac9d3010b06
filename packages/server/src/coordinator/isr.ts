// AdjustIsr on the coordinator side (Fluss's CoordinatorEventProcessor.tryProcessAdjustIsr): a
// bucket's leader asks to record a new in-sync replica set. Checked per bucket, in Fluss's order:
// an epoch newer than the coordinator's view means this coordinator is stale
// (INVALID_COORDINATOR_EXCEPTION); an older leader epoch, or a requester that is not the leader,
// is fenced (FENCED_LEADER_EPOCH_EXCEPTION); an older bucket epoch is INVALID_UPDATE_VERSION; an
// ISR without the leader, with a server that is not alive, or outside the assignment is refused
// (INELIGIBLE_REPLICA_EXCEPTION / FENCED_LEADER_EPOCH_EXCEPTION). Accepted changes are recorded in
// one store write with the bucket epoch bumped, and answered with the new leadership. Called
// inside the coordinator's serial queue (check and write are never interleaved with another change).

import { Errors, FlussError } from "@fluss-ts/common";
import type { BucketKey, LeaderAndIsr } from "../metadata/metadata-store.ts";
import type { CoordinatorContext } from "./context.ts";

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

function keyName(k: BucketKey): string {
  return k.partitionId === null
    ? `bucket ${k.bucket} of table ${k.tableId}`
    : `bucket ${k.bucket} of partition ${k.partitionId} of table ${k.tableId}`;
}

async function validate(ctx: CoordinatorContext, r: AdjustIsrRequest): Promise<LeaderAndIsr> {
  const current = await ctx.store.getLeaderAndIsr(r);
  const assignment = (await ctx.store.getAssignment(r.tableId, r.partitionId))?.find(
    (a) => a.bucket === r.bucket,
  );
  if (!current || !assignment)
    throw new FlussError(Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION, `unknown ${keyName(r)}`);
  const name = keyName(r);
  if (
    r.leaderEpoch > current.leaderEpoch ||
    r.bucketEpoch > current.bucketEpoch ||
    r.coordinatorEpoch > ctx.servers.coordinatorEpoch
  ) {
    throw new FlussError(
      Errors.INVALID_COORDINATOR_EXCEPTION,
      "this coordinator is no longer the active one",
    );
  }
  if (r.leaderEpoch < current.leaderEpoch)
    throw new FlussError(
      Errors.FENCED_LEADER_EPOCH_EXCEPTION,
      `leader epoch ${r.leaderEpoch} of ${name} is older than ${current.leaderEpoch}`,
    );
  if (r.bucketEpoch < current.bucketEpoch)
    throw new FlussError(
      Errors.INVALID_UPDATE_VERSION_EXCEPTION,
      `bucket epoch ${r.bucketEpoch} of ${name} is older than ${current.bucketEpoch}`,
    );
  if (r.leader !== current.leader)
    throw new FlussError(
      Errors.FENCED_LEADER_EPOCH_EXCEPTION,
      `server ${r.leader} is not the leader of ${name} (${current.leader} is)`,
    );
  if (!r.newIsr.includes(current.leader))
    throw new FlussError(Errors.INELIGIBLE_REPLICA_EXCEPTION, `the new ISR of ${name} leaves out its leader`);
  const dead = r.newIsr.filter((s) => !ctx.servers.has(s));
  if (dead.length > 0)
    throw new FlussError(
      Errors.INELIGIBLE_REPLICA_EXCEPTION,
      `the new ISR of ${name} has servers not alive: ${dead}`,
    );
  if (!r.newIsr.every((s) => assignment.replicas.includes(s)))
    throw new FlussError(
      Errors.FENCED_LEADER_EPOCH_EXCEPTION,
      `the new ISR of ${name} is not within its replicas`,
    );
  return current;
}

/** Check and record ISR changes; one answer per bucket, accepted ones in one store write. */
export async function adjustIsr(
  ctx: CoordinatorContext,
  requests: readonly AdjustIsrRequest[],
): Promise<AdjustIsrResult[]> {
  const out: AdjustIsrResult[] = [];
  const accepted: Array<readonly [BucketKey, LeaderAndIsr]> = [];
  for (const r of requests) {
    const key: BucketKey = { tableId: r.tableId, partitionId: r.partitionId, bucket: r.bucket };
    try {
      const current = await validate(ctx, r);
      const next: LeaderAndIsr = {
        leader: current.leader,
        leaderEpoch: current.leaderEpoch,
        isr: [...r.newIsr],
        coordinatorEpoch: ctx.servers.coordinatorEpoch,
        bucketEpoch: current.bucketEpoch + 1,
      };
      accepted.push([key, next]);
      out.push({ key, error: null, leaderAndIsr: next });
    } catch (err) {
      if (!(err instanceof FlussError)) throw err;
      out.push({ key, error: err });
    }
  }
  if (accepted.length > 0) await ctx.store.putLeaderAndIsr(accepted);
  return out;
}
