// The client's view of the cluster: where the coordinator and tablet servers are, and for each
// table its info and the leader of every bucket. Filled by GetMetadata from any known server and
// refreshed when a server answers "not leader" / "unknown bucket" / "leader not available" or a
// connection breaks (writers, scanners and lookups retry through a leader change). A bucket with
// no live leader (one being elected) has no route: LEADER_NOT_AVAILABLE, retriable. The
// coordinator address an answer names is asked first next time, and forgotten when it fails (it
// died, or serves nothing any more: a standby after a coordinator failover). A dropped
// partition's route is forgotten but its name is remembered (bounded), so every writer still
// holding rows for it can find a partition re-created under that name.

import {
  Errors,
  FlussError,
  isFlussError,
  type TableInfo,
  type TablePath,
  tablePathToString,
} from "@fluss-ts/common";
import { isFieldSet, PbBucketMetadataSchema } from "@fluss-ts/rpc";
import { getMetadata, type MetadataResponse } from "./api/get-metadata.ts";
import { tableInfoFromPb } from "./api/get-table-info.ts";
import type { Address, ServerPool } from "./server-pool.ts";

export { tableInfoFromPb };

export interface BucketRoute {
  readonly bucket: number;
  readonly leader: number | null;
  readonly leaderEpoch: number;
}

export interface TableRoute {
  readonly info: TableInfo;
  readonly buckets: readonly BucketRoute[];
}

export interface PartitionRoute {
  readonly tableId: bigint;
  readonly partitionId: bigint;
  readonly name: string;
  readonly buckets: readonly BucketRoute[];
}

/** Names of dropped partitions remembered (for writers still holding rows for them). */
const FORGOTTEN_NAMES_MAX = 10_000;

type TableMetadataPb = MetadataResponse["tableMetadata"][number];
type BucketMetadataPb = TableMetadataPb["bucketMetadata"][number];

function bucketRoutes(list: readonly BucketMetadataPb[]): BucketRoute[] {
  return list
    .map((b) => ({
      bucket: b.bucketId,
      leader: isFieldSet(b, PbBucketMetadataSchema.field.leaderId) ? b.leaderId : null,
      leaderEpoch: b.leaderEpoch,
    }))
    .sort((a, b) => a.bucket - b.bucket);
}

function routeFromPb(t: TableMetadataPb): TableRoute {
  const path = { database: t.tablePath!.databaseName, table: t.tablePath!.tableName };
  const info = tableInfoFromPb(path, t.tableId, t.schemaId, t.tableJson, t.createdTime, t.modifiedTime);
  // A bucket without a live leader (being elected) comes without leader_id: no route, not server 0.
  return { info, buckets: bucketRoutes(t.bucketMetadata) };
}

export class MetadataCache {
  private readonly pool: ServerPool;
  private readonly bootstrap: readonly Address[];
  private coordinatorAddr: Address | undefined;
  private readonly servers = new Map<number, Address>();
  private readonly tables = new Map<string, TableRoute>();
  /** Partition routes by `tableId/partitionId`, and partition ids by `tableId/name`. */
  private readonly partitions = new Map<string, PartitionRoute>();
  private readonly partitionIds = new Map<string, bigint>();
  /** Names of forgotten (dropped) partitions by `tableId/partitionId`, oldest first. */
  private readonly forgottenNames = new Map<string, string>();

  constructor(pool: ServerPool, bootstrap: readonly Address[]) {
    this.pool = pool;
    this.bootstrap = bootstrap;
  }

  /** Ask any known server for metadata (of the given tables, or just the cluster). */
  private async fetch(
    paths: readonly TablePath[],
    partitions: { paths?: ReadonlyArray<TablePath & { partition: string }>; ids?: readonly bigint[] } = {},
  ): Promise<MetadataResponse> {
    const learned = this.coordinatorAddr;
    const candidates = [...(learned ? [learned] : []), ...this.bootstrap];
    let lastError: unknown;
    for (const addr of candidates) {
      try {
        const resp = await getMetadata(this.pool, addr, paths, partitions);
        this.absorb(resp);
        return resp;
      } catch (err) {
        lastError = err;
        const retriable = err instanceof Error && "retriable" in err && (err as FlussError).retriable;
        // A server that does not serve GetMetadata (a standby coordinator: the address learned
        // before a coordinator failover, its process restarted as the standby) answers nothing
        // about the request: ask the next one, and forget a learned coordinator that failed.
        const notServed = isFlussError(err) && err.is(Errors.UNSUPPORTED_VERSION);
        if (addr === learned && this.coordinatorAddr === learned && (retriable || notServed))
          this.coordinatorAddr = undefined;
        if (!retriable && !notServed) throw err;
      }
    }
    throw lastError ?? new FlussError(Errors.NETWORK_EXCEPTION, "no server reachable");
  }

  private absorb(resp: MetadataResponse): void {
    if (resp.coordinatorServer) {
      this.coordinatorAddr = { host: resp.coordinatorServer.host, port: resp.coordinatorServer.port };
    }
    this.servers.clear();
    for (const s of resp.tabletServers) this.servers.set(s.nodeId, { host: s.host, port: s.port });
    for (const t of resp.tableMetadata) {
      const route = routeFromPb(t);
      this.tables.set(tablePathToString(route.info.path), route);
    }
    for (const p of resp.partitionMetadata) {
      const route: PartitionRoute = {
        tableId: p.tableId,
        partitionId: p.partitionId,
        name: p.partitionName,
        buckets: bucketRoutes(p.bucketMetadata),
      };
      this.partitions.set(`${p.tableId}/${p.partitionId}`, route);
      this.partitionIds.set(`${p.tableId}/${p.partitionName}`, p.partitionId);
    }
  }

  /** The route of a partition by name; PARTITION_NOT_EXISTS when there is no such partition. */
  async partition(info: TableInfo, name: string, refresh = false): Promise<PartitionRoute> {
    const idKey = `${info.tableId}/${name}`;
    const cachedId = refresh ? undefined : this.partitionIds.get(idKey);
    const cached = cachedId === undefined ? undefined : this.partitions.get(`${info.tableId}/${cachedId}`);
    if (cached) return cached;
    await this.fetch([info.path], { paths: [{ ...info.path, partition: name }] });
    const id = this.partitionIds.get(idKey);
    const route = id === undefined ? undefined : this.partitions.get(`${info.tableId}/${id}`);
    if (!route) {
      throw new FlussError(
        Errors.PARTITION_NOT_EXISTS,
        `partition '${name}' of table '${tablePathToString(info.path)}' does not exist`,
      );
    }
    return route;
  }

  /** Fetch partition routes by id (all of them when `force`, else only those not cached). */
  async refreshPartitions(info: TableInfo, partitionIds: readonly bigint[], force = true): Promise<void> {
    const ids = force
      ? partitionIds
      : partitionIds.filter((id) => !this.partitions.has(`${info.tableId}/${id}`));
    if (ids.length > 0) await this.fetch([info.path], { ids });
  }

  /** Address of the leader of a partition's bucket; retriable errors when unknown. */
  partitionLeaderOf(tableId: bigint, partitionId: bigint, bucket: number): Address {
    const route = this.partitions.get(`${tableId}/${partitionId}`);
    const b = route?.buckets[bucket];
    const addr = b?.leader === null || b === undefined ? undefined : this.servers.get(b.leader);
    if (!addr) {
      throw new FlussError(
        Errors.LEADER_NOT_AVAILABLE_EXCEPTION,
        `bucket ${bucket} of partition ${partitionId} has no known leader`,
      );
    }
    return addr;
  }

  /** The name of a partition whose route is (or was, before forgetPartition) cached. */
  partitionNameOf(tableId: bigint, partitionId: bigint): string | undefined {
    const key = `${tableId}/${partitionId}`;
    return this.partitions.get(key)?.name ?? this.forgottenNames.get(key);
  }

  /** Forget a dropped partition's route; its name is remembered (see partitionNameOf). */
  forgetPartition(tableId: bigint, partitionId: bigint): void {
    const key = `${tableId}/${partitionId}`;
    const route = this.partitions.get(key);
    if (!route) return;
    this.partitions.delete(key);
    // The name may already name the partition's successor (dropped and re-created): keep that.
    const idKey = `${tableId}/${route.name}`;
    if (this.partitionIds.get(idKey) === partitionId) this.partitionIds.delete(idKey);
    // Every writer still holding rows for it asks for its name (to find a re-created successor).
    if (this.forgottenNames.size >= FORGOTTEN_NAMES_MAX) {
      this.forgottenNames.delete(this.forgottenNames.keys().next().value as string);
    }
    this.forgottenNames.set(key, route.name);
  }

  async coordinator(): Promise<Address> {
    if (!this.coordinatorAddr) await this.fetch([]);
    if (!this.coordinatorAddr) {
      throw new FlussError(Errors.INVALID_COORDINATOR_EXCEPTION, "the cluster reported no coordinator");
    }
    return this.coordinatorAddr;
  }

  async table(path: TablePath, refresh = false): Promise<TableRoute> {
    const key = tablePathToString(path);
    let route = refresh ? undefined : this.tables.get(key);
    if (!route) {
      await this.fetch([path]);
      route = this.tables.get(key);
    }
    if (!route) throw new FlussError(Errors.TABLE_NOT_EXIST, `table '${key}' does not exist`);
    return route;
  }

  /** Address of the leader of a bucket; LEADER_NOT_AVAILABLE (retriable) when there is none. */
  leaderOf(route: TableRoute, bucket: number): Address {
    const b = route.buckets[bucket];
    const addr = b?.leader === null || b === undefined ? undefined : this.servers.get(b.leader);
    if (!addr) {
      throw new FlussError(
        Errors.LEADER_NOT_AVAILABLE_EXCEPTION,
        `bucket ${bucket} of ${tablePathToString(route.info.path)} has no live leader`,
      );
    }
    return addr;
  }

  invalidate(path: TablePath): void {
    this.tables.delete(tablePathToString(path));
  }
}
