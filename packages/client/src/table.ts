// A table handle: its info, its bucket routes, and factories for writers and scanners. It wires
// the writer and scanner contexts to the connection (pool, metadata) and refreshes the routes
// when a server says they are stale. `R` is the row type readers get and `I` the row type writers
// take (see schema-types.ts); both default to plain records.

import {
  type Clock,
  columnIndex,
  createProjectionPlan,
  Errors,
  FlussError,
  invalidArgument,
  isFlussError,
  logOptionsOf,
  type PartitionSpec,
  parsePredicate,
  predicateColumns,
  type Scheduler,
  type TableInfo,
  tablePathToString,
} from "@fluss-ts/common";
import type { Admin } from "./admin.ts";
import * as api from "./api/index.ts";
import { Lookuper, type PartitionOfKey, PrefixLookuper, rowDecoder } from "./lookup/lookup-api.ts";
import { LookupBatcher, type LookupBucketResult, type LookupRequestSpec } from "./lookup/lookuper.ts";
import type { MetadataCache, TableRoute } from "./metadata.ts";
import {
  type PartitionsOption,
  resolveWriterOptions,
  type ScanOptions,
  type WriterOptions,
} from "./options.ts";
import { PartitionResolver } from "./partition-resolver.ts";
import { LogScanner } from "./scan/log-scanner.ts";
import { partitionMatcher } from "./scan/partition-filter.ts";
import { isScanPositions } from "./scan/positions.ts";
import type { FetchBucketResponse, FetchRequestSpec, ScanContext } from "./scan/scan-context.ts";
import { ScanStarts } from "./scan/scan-starts.ts";
import { SnapshotScanner, type SnapshotTarget } from "./scan/snapshot-scanner.ts";
import type { AnyRow, ColumnsOf } from "./schema-types.ts";
import { type Address, addressKey, parseAddress, type ServerPool } from "./server-pool.ts";
import { AppendWriter } from "./write/append-writer.ts";
import { ArrowPayload, type Row } from "./write/arrow-payload.ts";
import { KvRowCodec } from "./write/kv-codec.ts";
import { type KvItem, KvPayload } from "./write/kv-payload.ts";
import { partitionCheck } from "./write/partition-check.ts";
import { bucketFunction } from "./write/row-codec.ts";
import { UpsertWriter } from "./write/upsert-writer.ts";
import type { BucketTarget, Route, WriteContext } from "./write/write-context.ts";

export interface TableDeps {
  pool: ServerPool;
  metadata: MetadataCache;
  admin: Admin;
  clock: Clock;
  /** Every timer of the table's writers, scanners and lookups. */
  scheduler: Scheduler;
}

const FETCH_WAIT_MS_DEFAULT = 500;
const FETCH_MAX_BYTES_DEFAULT = 16 * 1024 * 1024;
const FETCH_BUCKET_MAX_BYTES_DEFAULT = 1024 * 1024;
const SCAN_BUFFER_BYTES_MAX = 64 * 1024 * 1024;
const WRITE_TIMEOUT_MS = 30_000;
const DISCOVER_PARTITIONS_MS_DEFAULT = 1000;

export class Table<R extends object = AnyRow, I extends object = AnyRow> {
  private readonly deps: TableDeps;
  private route: TableRoute;
  private refreshing: Promise<void> | undefined;
  private pointBatcher: LookupBatcher | undefined;
  private readonly resolvers = new Map<string, PartitionResolver>();
  private prefixBatcher: LookupBatcher | undefined;

  constructor(deps: TableDeps, route: TableRoute) {
    this.deps = deps;
    this.route = route;
  }

  get info(): TableInfo {
    return this.route.info;
  }

  private leaderKey(bucket: number): string {
    return addressKey(this.deps.metadata.leaderOf(this.route, bucket));
  }

  /** Leader of a physical bucket (of the table, or of one of its partitions). */
  private leaderKeyOf(target: BucketTarget): string {
    if (target.partitionId === null) return this.leaderKey(target.bucket);
    return addressKey(
      this.deps.metadata.partitionLeaderOf(this.info.tableId, target.partitionId, target.bucket),
    );
  }

  /** How a writer routes an item: to its partition (looked up, maybe created) and its keyed bucket. */
  private router<T>(
    bucketOf: (item: T) => number | undefined,
    partitionOf: ((item: T) => string | null) | null,
    resolver: PartitionResolver | null,
  ): (item: T) => Route | Promise<Route> {
    if (partitionOf === null || resolver === null)
      return (item) => ({ partitionId: null, bucket: bucketOf(item) });
    return (item) => {
      const name = partitionOf(item);
      const bucket = bucketOf(item);
      if (name === null) return { partitionId: null, bucket };
      const id = resolver.idOf(name);
      return typeof id === "bigint"
        ? { partitionId: id, bucket }
        : id.then((partitionId) => ({ partitionId, bucket }));
    };
  }

  /** The partition resolver of this table (one per creation policy). */
  private partitions(createMissing: boolean): PartitionResolver {
    const key = createMissing ? "create" : "strict";
    let r = this.resolvers.get(key);
    if (!r) {
      r = new PartitionResolver(this.info, this.deps.metadata, this.deps.admin, createMissing);
      this.resolvers.set(key, r);
    }
    return r;
  }

  private refreshRoute(): void {
    if (this.refreshing) return;
    this.refreshing = this.deps.metadata
      .table(this.route.info.path, true)
      .then((r) => {
        this.route = r;
      })
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  /** A batching, idempotent writer for a log table. */
  newAppendWriter<W extends object = I>(options: WriterOptions = {}): AppendWriter<W> {
    const info = this.info;
    if (info.descriptor.schema.primaryKey.length > 0) {
      throw invalidArgument(`${tablePathToString(info.path)} has a primary key: use newUpsertWriter()`);
    }
    const { compression, zstdLevel, statisticsColumns } = logOptionsOf(info.descriptor);
    const ctx: WriteContext<Row> = {
      ...this.writeContextBase(),
      ...partitionCheck(this.deps.metadata, info, this.resolverFor(options), this.deps.scheduler),
      route: this.router(bucketFunction(info), this.partitionFunction(options), this.resolverFor(options)),
      newPayload: () =>
        new ArrowPayload(
          info.descriptor.schema,
          info.schemaId,
          { type: compression, zstdLevel },
          statisticsColumns,
        ),
      send: (leader, acks, batches) =>
        api.produceLog(this.deps.pool, parseAddress(leader), {
          acks,
          tableId: info.tableId,
          timeoutMs: WRITE_TIMEOUT_MS,
          batches: batches.map((b) => ({ partitionId: b.partitionId, bucket: b.bucket, records: b.bytes! })),
        }),
    };
    return new AppendWriter(ctx, info, resolveWriterOptions(options));
  }

  /**
   * A batching, idempotent writer for a primary-key table. With `targetColumns` it is a
   * partial-update writer: rows set only those columns (the primary key among them).
   */
  newUpsertWriter<K extends keyof I & string = keyof I & string>(
    options: WriterOptions & { targetColumns?: readonly K[] } = {},
  ): UpsertWriter<ColumnsOf<I, K>> {
    const info = this.info;
    const partitionOf = this.partitionFunction(options);
    const codec = new KvRowCodec(info, options.targetColumns ?? null, partitionOf ?? undefined);
    const targetColumns = codec.targetColumns ? [...codec.targetColumns] : [];
    const ctx: WriteContext<KvItem> = {
      ...this.writeContextBase(),
      ...partitionCheck(this.deps.metadata, info, this.resolverFor(options), this.deps.scheduler),
      route: this.router(
        (item: KvItem) => item.bucket,
        partitionOf ? (item: KvItem) => item.partition : null,
        this.resolverFor(options),
      ),
      newPayload: () => new KvPayload(info.schemaId),
      send: (leader, acks, batches) =>
        api.putKv(this.deps.pool, parseAddress(leader), {
          acks,
          tableId: info.tableId,
          timeoutMs: WRITE_TIMEOUT_MS,
          targetColumns,
          batches: batches.map((b) => ({ partitionId: b.partitionId, bucket: b.bucket, records: b.bytes! })),
        }),
    };
    return new UpsertWriter(ctx, info, codec, resolveWriterOptions(options));
  }

  /** Point lookups by primary key; concurrent calls share requests. */
  newLookuper(): Lookuper<R, I> {
    this.pointBatcher ??= this.lookupBatcher((leader, spec) =>
      api.lookup(this.deps.pool, leader, this.info.tableId, spec),
    );
    return new Lookuper<R, I>(this.info, this.pointBatcher, this.keyPartition());
  }

  /** Prefix lookups by the bucket key (a proper prefix of the primary key). */
  newPrefixLookuper(lookupColumns: readonly (keyof I & string)[]): PrefixLookuper<R, I> {
    this.prefixBatcher ??= this.lookupBatcher((leader, spec) =>
      api.prefixLookup(this.deps.pool, leader, this.info.tableId, spec),
    );
    return new PrefixLookuper<R, I>(this.info, lookupColumns, this.prefixBatcher, this.keyPartition());
  }

  /** A batcher sending per-bucket key lists (with their partition) to a leader through `send`. */
  private lookupBatcher(
    send: (leader: Address, spec: LookupRequestSpec) => Promise<LookupBucketResult[]>,
  ): LookupBatcher {
    return new LookupBatcher({
      scheduler: this.deps.scheduler,
      leaderKey: (target) => this.leaderKeyOf(target),
      onRetriableError: () => this.refreshRoute(),
      send: (leader, spec) => send(parseAddress(leader), spec),
    });
  }

  /**
   * The current row of every key of a primary-key table, read from consistent bucket views; for a
   * partitioned table, of every partition (or those `partitions` names).
   */
  newSnapshotScanner(options: SnapshotScanOptions = {}): SnapshotScanner<R> {
    const info = this.info;
    if (info.descriptor.schema.primaryKey.length === 0) {
      throw new FlussError(
        Errors.NON_PRIMARY_KEY_TABLE_EXCEPTION,
        `${tablePathToString(info.path)} has no primary key`,
      );
    }
    const partitioned = info.descriptor.partitionKeys.length > 0;
    const matches = partitionMatcher(info, options.partitions ?? options.partition);
    const buckets = this.checkBuckets(options.buckets);
    const targets = async (): Promise<SnapshotTarget[]> => {
      if (!partitioned) return buckets.map((bucket) => ({ partitionId: null, partition: null, bucket }));
      const out: SnapshotTarget[] = [];
      for (const p of await this.deps.admin.listPartitions(info.path)) {
        if (!matches(p.spec)) continue;
        await this.deps.metadata.partition(info, p.name); // its leaders
        for (const bucket of buckets) out.push({ partitionId: p.partitionId, partition: p.name, bucket });
      }
      return out;
    };
    const batchSizeBytes = options.batchBytes ?? 4 * 1024 * 1024;
    const call = (target: SnapshotTarget, req: api.ScanKvCall) =>
      api.scanKv(this.deps.pool, parseAddress(this.leaderKeyOf(target)), req, batchSizeBytes);
    return new SnapshotScanner<R>(
      { path: tablePathToString(info.path), tableId: info.tableId },
      {
        open: (target, limit) =>
          call(target, {
            bucketScanReq: {
              tableId: info.tableId,
              ...api.partitionField(target.partitionId),
              bucketId: target.bucket,
              ...(limit !== null ? { limit } : {}),
            },
          }),
        next: (target, scannerId, callSeqId) => call(target, { scannerId, callSeqId }),
        close: async (target, scannerId) => {
          await call(target, { scannerId, closeScanner: true });
        },
      },
      targets,
      rowDecoder(info),
      options.limit !== undefined ? BigInt(options.limit) : null,
    );
  }

  /** The buckets a scan names (checked), or all of them. */
  private checkBuckets(buckets: readonly number[] | undefined): readonly number[] {
    const count = this.info.bucketCount;
    for (const b of buckets ?? []) {
      if (!Number.isInteger(b) || b < 0 || b >= count) {
        throw invalidArgument(`bucket ${b} does not exist (the table has ${count})`);
      }
    }
    return buckets ?? Array.from({ length: count }, (_, i) => i);
  }

  /** Partition name of a row, for a partitioned table; null otherwise. */
  private partitionFunction(
    options: WriterOptions,
  ): ((row: Readonly<Record<string, unknown>>) => string) | null {
    const resolver = this.resolverFor(options);
    return resolver ? (row) => resolver.nameOf(row) : null;
  }

  private resolverFor(options: WriterOptions): PartitionResolver | null {
    if (this.info.descriptor.partitionKeys.length === 0) return null;
    return this.partitions(options.createMissingPartitions ?? true);
  }

  /** For lookups of a partitioned table: the key's partition id, or null when it does not exist. */
  private keyPartition(): PartitionOfKey | null {
    if (this.info.descriptor.partitionKeys.length === 0) return null;
    const resolver = this.partitions(false);
    return async (key) => {
      try {
        return await resolver.idOf(resolver.nameOf(key));
      } catch (err) {
        if (isFlussError(err) && err.is(Errors.PARTITION_NOT_EXISTS)) return null;
        throw err;
      }
    };
  }

  /** Leader lookup, writer ids and route refresh: the same for every kind of writer. */
  private writeContextBase(): Pick<
    WriteContext<unknown>,
    "clock" | "scheduler" | "leaderKey" | "initWriter" | "onRetriableError"
  > {
    return {
      clock: this.deps.clock,
      scheduler: this.deps.scheduler,
      leaderKey: (target) => this.leaderKeyOf(target),
      initWriter: async () =>
        api.initWriter(this.deps.pool, await this.deps.metadata.coordinator(), this.info.path),
      onRetriableError: (_err: FlussError) => this.refreshRoute(),
    };
  }

  /**
   * A scanner of the table's log (projection pushdown when `columns` is given: its rows then hold
   * only those columns). `from: scanner.positions()` of an earlier scan continues where it stopped.
   */
  newLogScanner<K extends keyof R & string = keyof R & string>(
    options: ScanOptions<K> = {},
  ): LogScanner<ColumnsOf<R, K>> {
    const schema = this.info.descriptor.schema;
    const filter =
      options.filter === undefined
        ? null
        : typeof options.filter === "string"
          ? parsePredicate(options.filter, schema)
          : options.filter;
    const wanted = options.columns ? options.columns.map((c) => columnIndex(schema, c)) : null;
    // The filter may read columns the caller did not ask for: fetch them too, drop them after.
    const extra = wanted && filter ? predicateColumns(filter).filter((i) => !wanted.includes(i)) : [];
    const projection = wanted ? [...wanted, ...extra] : null;
    const columns = wanted ? createProjectionPlan(schema, wanted).columns : schema.columns;
    const fetchColumns = projection ? createProjectionPlan(schema, projection).columns : schema.columns;
    const buckets = this.checkBuckets(options.buckets);
    const ctx: ScanContext = {
      clock: this.deps.clock,
      scheduler: this.deps.scheduler,
      leaderKey: (target) => this.leaderKeyOf(target),
      fetch: (leader, spec, signal) => this.fetch(parseAddress(leader), spec, signal),
      onRetriableError: () => this.refreshRoute(),
    };
    const partitioned = this.info.descriptor.partitionKeys.length > 0;
    const matches = partitionMatcher(this.info, options.partitions);
    const follow = options.untilLatest !== true;
    const starts = new ScanStarts(
      this.deps.admin,
      this.info,
      options.from ?? "earliest",
      buckets,
      options.outOfRange ?? "fail",
    );
    return new LogScanner<ColumnsOf<R, K>>(ctx, {
      table: { path: tablePathToString(this.info.path), tableId: this.info.tableId },
      resumeFrom: isScanPositions(options.from) ? options.from : null,
      columns,
      fetchColumns,
      projection,
      filter,
      positions: () =>
        partitioned ? starts.partitions(matches, !follow, new Set(), false) : starts.table(!follow),
      discover: partitioned && follow ? (known) => starts.partitions(matches, false, known, true) : null,
      discoverIntervalMs: options.discoverPartitionsMs ?? DISCOVER_PARTITIONS_MS_DEFAULT,
      fetchWaitMs: options.fetchWaitMs ?? FETCH_WAIT_MS_DEFAULT,
      fetchMinBytes: options.fetchMinBytes ?? 1,
      fetchMaxBytes: options.fetchMaxBytes ?? FETCH_MAX_BYTES_DEFAULT,
      fetchBucketMaxBytes: options.fetchBucketMaxBytes ?? FETCH_BUCKET_MAX_BYTES_DEFAULT,
      bufferBytesMax: SCAN_BUFFER_BYTES_MAX,
      signal: options.signal,
    });
  }

  private fetch(addr: Address, spec: FetchRequestSpec, signal: AbortSignal): Promise<FetchBucketResponse[]> {
    return api.fetchLog(this.deps.pool, addr, this.info, spec, signal);
  }
}

/** Options of `newSnapshotScanner`. */
export interface SnapshotScanOptions {
  /** Buckets to read; default all. */
  buckets?: readonly number[];
  /** At most this many rows per bucket. */
  limit?: number;
  /** Bytes per page the server returns (default 4 MiB). */
  batchBytes?: number;
  /** Partitioned tables: only these partitions (as in `newLogScanner`); default all. */
  partitions?: PartitionsOption;
  /** @deprecated use `partitions` (same meaning). */
  partition?: PartitionSpec;
}
