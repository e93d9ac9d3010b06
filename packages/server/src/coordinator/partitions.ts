// Partitions of partitioned tables, on the coordinator side: create (validate the spec, allocate an
// id, assign the table's bucket count to live tablet servers, elect leaders, persist, notify),
// drop (forget, then stop the replicas and delete their data), list and route. The Coordinator
// wraps these in its serial queue; nothing here may be called outside it.
// Invariants: a partition name is unique per table and its id unique across the cluster (a
// "partition" counter never reused); a table never has more than `partitionCountMax` partitions;
// a partition is recorded with its buckets' leaders in one write, before tablet servers hear about
// it, and removed before they are told to delete it (except on a full disk: removal.ts), so a
// crash in between leaves no partition the store knows without data (replicas are recreated at
// registration) and no orphan the store still lists. A failed store write changes nothing.

import {
  Errors,
  FlussError,
  type PartitionSpec,
  parsePartitionName,
  partitionNameOf,
  partitionValuesOf,
  qualifiedPartitionName,
  type TableInfo,
} from "@fluss-ts/common";
import type { MetadataStore, PartitionRegistration, TableRegistration } from "../metadata/metadata-store.ts";
import { type CoordinatorContext, newLocations, partitionIdKey, scopeRoutes } from "./context.ts";
import { assignmentsByServer, deletionsByServer, initialLeaders } from "./leadership.ts";
import type { BucketOutcome } from "./live-servers.ts";
import { assignBuckets } from "./placement.ts";
import { removeThenDeleteData } from "./removal.ts";
import type { BucketLocation } from "./types.ts";

/** A partition as listed: id, name and spec. */
export interface PartitionInfo {
  readonly partitionId: bigint;
  readonly partitionName: string;
  readonly spec: PartitionSpec;
}

/** Routes of one partition's buckets. */
export interface PartitionMetadata {
  readonly tableId: bigint;
  readonly partitionId: bigint;
  readonly partitionName: string;
  readonly buckets: readonly BucketLocation[];
}

/** What the partition helpers work with (the coordinator's shared context). */
export type PartitionContext = CoordinatorContext;

function tableName(reg: TableRegistration): string {
  return `${reg.database}.${reg.table}`;
}

export function partitionInfoOf(keys: readonly string[], p: PartitionRegistration): PartitionInfo {
  return { partitionId: p.partitionId, partitionName: p.name, spec: parsePartitionName(keys, p.name) };
}

export function requirePartitioned(info: TableInfo): readonly string[] {
  const keys = info.descriptor.partitionKeys;
  if (keys.length === 0) {
    throw new FlussError(
      Errors.TABLE_NOT_PARTITIONED_EXCEPTION,
      `table '${info.path.database}.${info.path.table}' is not partitioned`,
    );
  }
  return keys;
}

export async function findPartition(
  store: MetadataStore,
  tableId: bigint,
  name: string,
): Promise<PartitionRegistration | undefined> {
  return (await store.listPartitions(tableId)).find((p) => p.name === name);
}

export function partitionNotExists(info: TableInfo, name: string): FlussError {
  const keys = info.descriptor.partitionKeys;
  let label = name;
  try {
    label = qualifiedPartitionName(keys, partitionValuesOf(keys, name));
  } catch {
    // not a name of this table's shape: show it as given
  }
  return new FlussError(
    Errors.PARTITION_NOT_EXISTS,
    `partition '${label}' does not exist for table ${info.path.database}.${info.path.table}`,
  );
}

/** A partition created now (with what its creation waits for), or one that already existed. */
export type PartitionCreation =
  | { readonly partition: PartitionInfo; readonly created: false }
  | {
      readonly partition: PartitionInfo;
      readonly created: true;
      /** Every hosting server's answer for every bucket. */
      readonly confirmed: Promise<BucketOutcome[]>;
      /** Ends the partition's "being created" state. */
      readonly done: () => void;
    };

/**
 * Create the partition with `values` (already validated, in key order) and queue its replicas'
 * creation; `created` false: it existed and `ignoreIfExists` was set.
 */
export async function createPartitionNow(
  ctx: PartitionContext,
  reg: TableRegistration,
  info: TableInfo,
  values: readonly string[],
  ignoreIfExists: boolean,
): Promise<PartitionCreation> {
  const keys = info.descriptor.partitionKeys;
  const name = partitionNameOf(values);
  const existing = await ctx.store.listPartitions(reg.tableId);
  const found = existing.find((p) => p.name === name);
  if (found) {
    if (ignoreIfExists) return { partition: partitionInfoOf(keys, found), created: false };
    throw new FlussError(
      Errors.PARTITION_ALREADY_EXISTS,
      `partition '${qualifiedPartitionName(keys, values)}' already exists for table ${tableName(reg)}`,
    );
  }
  if (existing.length + 1 > ctx.partitionCountMax) {
    throw new FlussError(
      Errors.PARTITION_MAX_NUM_EXCEPTION,
      `table ${tableName(reg)} has ${existing.length} partitions, the most allowed (max.partition.num ${ctx.partitionCountMax})`,
    );
  }
  if (info.descriptor.schema.primaryKey.length > 0) {
    const what = `partition '${qualifiedPartitionName(keys, values)}' of table ${tableName(reg)}`;
    ctx.kvBucketCapacity?.checkNewKvBuckets(reg.bucketCount, what);
  }
  const rfText = info.descriptor.properties["table.replication.factor"];
  const replicationFactor = rfText === undefined ? ctx.defaultReplicationFactor : Number(rfText);
  const servers = ctx.servers.assignableIds();
  const partitionId = await ctx.store.nextId("partition");
  const assignment = assignBuckets(
    servers,
    reg.bucketCount,
    replicationFactor,
    Number(reg.tableId + partitionId),
  );
  const partition: PartitionRegistration = {
    tableId: reg.tableId,
    partitionId,
    name,
    createdTime: ctx.clock.nowMs(),
  };
  const leaders = initialLeaders(assignment, ctx.servers.coordinatorEpoch);
  const done = ctx.creating.begin([partitionIdKey(partitionId)]);
  try {
    await ctx.store.putPartition(partition, assignment, leaders);
  } catch (err) {
    done();
    throw err;
  }
  const buckets = newLocations(assignment, leaders);
  ctx.servers.updateMetadata(
    [],
    [{ kind: "partition", tableId: reg.tableId, partitionId, partitionName: name, buckets }],
  );
  const confirmed = ctx.servers.notifyLeaderAndIsr(
    assignmentsByServer(info, { id: partitionId, name }, assignment, leaders),
  );
  return { partition: partitionInfoOf(keys, partition), created: true, confirmed, done };
}

/**
 * Forget a partition, then stop its replicas and delete their data (log, KV, KV snapshots).
 * Resolves once the removal is recorded; `deleted` settles when the hosting servers answered.
 */
export async function dropPartitionNow(
  ctx: PartitionContext,
  reg: TableRegistration,
  p: PartitionRegistration,
): Promise<{ deleted: Promise<BucketOutcome[]> }> {
  const routes = await scopeRoutes(ctx, reg.tableId, p.partitionId);
  const epochs = new Map([...routes.leaders].map(([b, lai]) => [b, lai.leaderEpoch] as const));
  const r = await removeThenDeleteData(
    `${tableName(reg)} partition ${p.name}`,
    ctx.logger,
    () => ctx.store.deletePartition(reg.tableId, p.partitionId),
    () => {
      ctx.servers.updateMetadata(
        [],
        [{ kind: "deleted", tableId: reg.tableId, partitionId: p.partitionId, partitionName: p.name }],
      );
      return ctx.servers.stopReplicas(
        deletionsByServer(reg.tableId, p.partitionId, routes.assignment, epochs),
      );
    },
  );
  ctx.logger.info(
    { table: tableName(reg), partition: p.name, partitionId: String(p.partitionId) },
    "partition dropped",
  );
  return r;
}

/** Where the buckets of a table (partitionId null) or of one partition are led. */
export async function bucketLocations(
  ctx: Pick<PartitionContext, "store" | "servers">,
  tableId: bigint,
  partitionId: bigint | null,
): Promise<BucketLocation[]> {
  return (await scopeRoutes(ctx, tableId, partitionId)).locations;
}

export async function partitionMetadataOf(
  ctx: Pick<PartitionContext, "store" | "servers">,
  p: PartitionRegistration,
): Promise<PartitionMetadata> {
  return {
    tableId: p.tableId,
    partitionId: p.partitionId,
    partitionName: p.name,
    buckets: await bucketLocations(ctx, p.tableId, p.partitionId),
  };
}
