// What the coordinator's helpers (tables.ts, partitions.ts, registration.ts, isr.ts) share: the
// store, the live tablet servers, limits, and the objects being created. Everything here is used
// from inside the coordinator's serial queue unless a function says otherwise.
// Invariant: a table or partition in `creating` is stored durably but not yet confirmed by its
// hosting tablet servers; readers do not see it until its creation completes (or is rolled back).

import type { Clock } from "@fluss-ts/common";
import type { Logger } from "../logging.ts";
import type { BucketAssignment, LeaderAndIsr, MetadataStore } from "../metadata/metadata-store.ts";
import type { LiveTabletServers } from "./live-servers.ts";
import type { BucketLocation, KvBucketCapacity } from "./types.ts";

/** Objects being created, by key; waiters learn when the creation settles. */
export class Creating {
  private readonly pending = new Map<string, { promise: Promise<void>; settle: () => void }>();

  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** Mark `keys` as being created; the returned function ends that (success or rollback). */
  begin(keys: readonly string[]): () => void {
    let settle: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      settle = resolve;
    });
    for (const k of keys) this.pending.set(k, { promise, settle });
    return () => {
      for (const k of keys) if (this.pending.get(k)?.promise === promise) this.pending.delete(k);
      settle();
    };
  }

  /** Resolves once the creation of `key` settled (at once when none is in progress). */
  settled(key: string): Promise<void> {
    return this.pending.get(key)?.promise ?? Promise.resolve();
  }
}

export const tableKey = (database: string, table: string): string => `table:${database}.${table}`;
export const tableIdKey = (tableId: bigint): string => `table-id:${tableId}`;
export const partitionIdKey = (partitionId: bigint): string => `partition:${partitionId}`;

export interface CoordinatorContext {
  readonly store: MetadataStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly servers: LiveTabletServers;
  readonly defaultReplicationFactor: number;
  /** Partitions one table may have (Fluss max.partition.num). */
  readonly partitionCountMax: number;
  /** Refuses primary-key buckets the servers' open files cannot hold. */
  readonly kvBucketCapacity?: KvBucketCapacity;
  readonly creating: Creating;
}

/** The buckets of a table (partitionId null) or partition: assignment, leadership and routes. */
export interface ScopeRoutes {
  readonly assignment: readonly BucketAssignment[];
  readonly leaders: ReadonlyMap<number, LeaderAndIsr>;
  /** Where each bucket is led (leader null when its leader is not alive). */
  readonly locations: BucketLocation[];
}

export async function scopeRoutes(
  ctx: Pick<CoordinatorContext, "store" | "servers">,
  tableId: bigint,
  partitionId: bigint | null,
): Promise<ScopeRoutes> {
  const assignment = (await ctx.store.getAssignment(tableId, partitionId)) ?? [];
  const leaders = new Map<number, LeaderAndIsr>();
  const locations: BucketLocation[] = [];
  for (const a of assignment) {
    const lai = await ctx.store.getLeaderAndIsr({ tableId, partitionId, bucket: a.bucket });
    if (lai) leaders.set(a.bucket, lai);
    const leaderAlive = lai !== undefined && ctx.servers.has(lai.leader);
    locations.push({
      bucket: a.bucket,
      leader: leaderAlive ? lai.leader : null,
      leaderEpoch: lai?.leaderEpoch ?? 0,
      replicas: a.replicas,
    });
  }
  return { assignment, leaders, locations };
}

/** Routes of freshly created buckets (their leaders are the ones just chosen). */
export function newLocations(
  assignment: readonly BucketAssignment[],
  leaders: ReadonlyArray<readonly [number, LeaderAndIsr]>,
): BucketLocation[] {
  const byBucket = new Map(leaders);
  return assignment.map((a) => {
    const lai = byBucket.get(a.bucket);
    return {
      bucket: a.bucket,
      leader: lai?.leader ?? null,
      leaderEpoch: lai?.leaderEpoch ?? 0,
      replicas: a.replicas,
    };
  });
}
