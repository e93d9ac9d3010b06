// Tables on the coordinator side: create (validate, allocate an id, assign buckets to live tablet
// servers, elect leaders, persist in one write, then tell the servers) and drop (forget, then stop
// the replicas and delete their data). The Coordinator wraps these in its serial queue; nothing
// here may be called outside it, and nothing here waits for a tablet server: the notifications
// are queued and their answers returned as promises the Coordinator awaits after the queue moved
// on (so a server that calls back while opening replicas, for auto-increment ids, never deadlocks).
// Invariants: a table is recorded with its buckets' leaders in one write before any tablet server
// hears of it, and forgotten before its data is deleted (on a disk too full even for that, the data
// goes first: removal.ts).

import {
  descriptorToJson,
  Errors,
  FlussError,
  schemaToJson,
  type TableDescriptor,
  type TableInfo,
  type TablePath,
} from "@fluss-ts/common";
import type { BucketAssignment, TableRegistration } from "../metadata/metadata-store.ts";
import { type CoordinatorContext, newLocations, tableIdKey, tableKey } from "./context.ts";
import { assignmentsByServer, deletionsByServer, initialLeaders } from "./leadership.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { assignBuckets } from "./placement.ts";
import { removeThenDeleteData } from "./removal.ts";
import { resolveTable } from "./table-validation.ts";
import { type TableUpdate, tableInfoOf } from "./types.ts";

export interface TableLimits {
  readonly defaultBucketNumber: number;
  readonly bucketCountMax: number;
}

/** A table just recorded: what its creation waits for before it becomes visible. */
export interface CreatedTable {
  readonly reg: TableRegistration;
  readonly info: TableInfo;
  /** Every hosting server's answer for every bucket (see BucketOutcome). */
  readonly confirmed: Promise<BucketOutcome[]>;
  /** Ends the table's "being created" state. */
  readonly done: () => void;
}

/**
 * Record a new table and queue its replicas' creation. Returns null when it exists and
 * `ignoreIfExists` (the caller then waits for a creation still in progress).
 */
export async function createTableNow(
  ctx: CoordinatorContext,
  limits: TableLimits,
  path: TablePath,
  descriptor: TableDescriptor,
  ignoreIfExists: boolean,
): Promise<CreatedTable | null> {
  const resolved = resolveTable(path.database, path.table, descriptor, {
    defaultBucketNumber: limits.defaultBucketNumber,
    defaultReplicationFactor: ctx.defaultReplicationFactor,
    bucketCountMax: limits.bucketCountMax,
    liveTabletServers: ctx.servers.assignableIds().length,
  });
  if (!(await ctx.store.getDatabase(path.database))) {
    throw new FlussError(Errors.DATABASE_NOT_EXIST, `database '${path.database}' does not exist`);
  }
  if (await ctx.store.getTable(path.database, path.table)) {
    if (ignoreIfExists) return null;
    throw new FlussError(Errors.TABLE_ALREADY_EXIST, `table '${path.database}.${path.table}' already exists`);
  }
  // A partitioned table's buckets belong to its partitions; the table itself has none.
  const partitioned = resolved.descriptor.partitionKeys.length > 0;
  if (resolved.descriptor.schema.primaryKey.length > 0) {
    // A partitioned one is checked for one partition's buckets (each partition again later).
    const name = `${partitioned ? "each partition of " : ""}table ${path.database}.${path.table}`;
    ctx.kvBucketCapacity?.checkNewKvBuckets(resolved.bucketCount, name);
  }
  const tableId = await ctx.store.nextId("table");
  const now = ctx.clock.nowMs();
  const reg: TableRegistration = {
    database: path.database,
    table: path.table,
    tableId,
    schemaId: 1,
    descriptorJson: JSON.stringify(descriptorToJson(resolved.descriptor)),
    bucketCount: resolved.bucketCount,
    createdTime: now,
    modifiedTime: now,
  };
  const assignment = partitioned
    ? []
    : assignBuckets(
        ctx.servers.assignableIds(),
        resolved.bucketCount,
        resolved.replicationFactor,
        Number(tableId),
      );
  const leaders = initialLeaders(assignment, ctx.servers.coordinatorEpoch);
  const schemaJson = JSON.stringify(schemaToJson(resolved.descriptor.schema));
  const done = ctx.creating.begin([tableKey(path.database, path.table), tableIdKey(tableId)]);
  try {
    await ctx.store.putTable(reg, schemaJson, assignment, leaders);
  } catch (err) {
    done();
    throw err;
  }
  const info = tableInfoOf(reg);
  ctx.servers.updateMetadata([{ kind: "table", info, buckets: newLocations(assignment, leaders) }], []);
  const confirmed = ctx.servers.notifyLeaderAndIsr(assignmentsByServer(info, null, assignment, leaders));
  return { reg, info, confirmed, done };
}

/** The buckets of a table and of each of its partitions. */
async function scopesOf(
  ctx: CoordinatorContext,
  reg: TableRegistration,
): Promise<
  Array<{ partitionId: bigint | null; assignment: readonly BucketAssignment[]; epochs: Map<number, number> }>
> {
  const ids: Array<bigint | null> = [
    null,
    ...(await ctx.store.listPartitions(reg.tableId)).map((p) => p.partitionId),
  ];
  const out = [];
  for (const partitionId of ids) {
    const assignment = (await ctx.store.getAssignment(reg.tableId, partitionId)) ?? [];
    const epochs = new Map<number, number>();
    for (const a of assignment) {
      const lai = await ctx.store.getLeaderAndIsr({ tableId: reg.tableId, partitionId, bucket: a.bucket });
      if (lai) epochs.set(a.bucket, lai.leaderEpoch);
    }
    out.push({ partitionId, assignment, epochs });
  }
  return out;
}

/**
 * Forget a table with its partitions, then stop every replica and delete its data. Resolves once
 * the removal is recorded; `deleted` settles when the hosting servers answered the deletions.
 */
export async function dropTableNow(
  ctx: CoordinatorContext,
  reg: TableRegistration,
): Promise<{ deleted: Promise<BucketOutcome[]> }> {
  const scopes = await scopesOf(ctx, reg);
  const name = `${reg.database}.${reg.table}`;
  const startDeletion = (): Promise<BucketOutcome[]> => {
    const tables: TableUpdate[] = [
      { kind: "deleted", tableId: reg.tableId, path: { database: reg.database, table: reg.table } },
    ];
    ctx.servers.updateMetadata(tables, []);
    return Promise.all(
      scopes.map((sc) =>
        ctx.servers.stopReplicas(deletionsByServer(reg.tableId, sc.partitionId, sc.assignment, sc.epochs)),
      ),
    ).then((lists) => lists.flat());
  };
  const r = await removeThenDeleteData(
    name,
    ctx.logger,
    () => ctx.store.deleteTable(reg.database, reg.table),
    startDeletion,
  );
  ctx.logger.info({ table: name, partitions: scopes.length - 1 }, "table dropped");
  return r;
}
