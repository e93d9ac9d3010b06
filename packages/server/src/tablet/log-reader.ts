// One pass of a fetch over the buckets it names (Fluss's ReplicaManager.readFromLog): committed
// batches of each bucket, below its high watermark, within the request's and the server's byte
// bounds. A projection reads only the kept columns' buffers; a filter skips batches whose
// statistics rule it out (reporting how far it examined). A corrupt stored batch is answered as
// CORRUPT_RECORD_EXCEPTION naming table, bucket, file, byte and offset (logged at error), final for
// the reader. The long poll around this lives in delayed-fetch.ts.
// Memory: bytes read go into the request's arena when given (pooled buffers released once the
// response is on the wire), never more than the fetch's byte budget plus one batch.

import {
  createProjectionPlan,
  Errors,
  FlussError,
  type PbPredicateShape,
  type Predicate,
  type ProjectionPlan,
  predicateFromPb,
  projectBatchFrom,
  projectLogBatches,
  toFlussError,
} from "@fluss-ts/common";
import type { BatchVisitor, ReadAllocator } from "@fluss-ts/storage";
import type { Logger } from "../logging.ts";
import { batchSelector } from "./batch-filter.ts";
import type { Replica } from "./replica.ts";
import { bucketName, type ReplicaManager } from "./replica-manager.ts";

export interface FetchBucket {
  partitionId: bigint | null;
  bucket: number;
  fetchOffset: bigint;
  maxBytes: number;
}

export interface FetchTable {
  tableId: bigint;
  /** Column indexes to send, or null for all columns. */
  projection: readonly number[] | null;
  /** Batches whose statistics rule this out are not sent (wire form, with the schema it names). */
  filter: { predicate: PbPredicateShape; schemaId: number } | null;
  buckets: readonly FetchBucket[];
}

export interface FetchBucketResult {
  partitionId: bigint | null;
  bucket: number;
  error: FlussError | null;
  highWatermark: bigint;
  logStartOffset: bigint;
  records: Uint8Array;
  /** With a filter: the offset after the last batch examined, when past the records sent. */
  filteredEndOffset: bigint | null;
}

export interface FetchTableResult {
  tableId: bigint;
  buckets: FetchBucketResult[];
}

export interface FetchParams {
  tables: readonly FetchTable[];
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
  /** Where log reads put their bytes (a request's arena of pooled buffers); fresh buffers if absent. */
  allocate?: ReadAllocator;
}

/** One read pass: the results, the bytes they carry, and whether to answer without waiting. */
export interface ReadPass {
  results: FetchTableResult[];
  bytes: number;
  answerNow: boolean;
}

const EMPTY = new Uint8Array(0);
/** Fluss's fetch offset sentinel (FetchParams.FETCH_FROM_EARLIEST_OFFSET): "from the log start". */
export const FETCH_FROM_EARLIEST_OFFSET = -2n;
const PROJECTION_PLANS_MAX = 1024;
/** A filtered fetch examines at most this many bytes of skipped batches per bucket. */
const FILTER_SCAN_BYTES_MAX = 256 * 1024 * 1024;
/** A visited read examines at most this many times fetchBytesMax of log (projections). */
const VISIT_EXAMINE_FACTOR = 4;
/** First bytes of a batch a projection looks at: header, statistics, change types, Arrow metadata. */
const PROJECTION_PREFIX_BYTES = 16 * 1024;

export class LogReader {
  private readonly replicas: ReplicaManager;
  private readonly logger: Logger;
  private readonly fetchBytesMax: number;
  private readonly plans = new Map<string, ProjectionPlan>();
  private readonly filters = new WeakMap<FetchTable, Predicate>();

  constructor(replicas: ReplicaManager, logger: Logger, fetchBytesMax: number) {
    this.replicas = replicas;
    this.logger = logger;
    this.fetchBytesMax = fetchBytesMax;
  }

  /** Read every bucket of the fetch once, within the byte budget. */
  async readOnce(params: FetchParams): Promise<ReadPass> {
    let budget = Math.min(params.maxBytes, this.fetchBytesMax);
    let bytes = 0;
    let errors = 0;
    let progressed = 0;
    const results: FetchTableResult[] = [];
    for (const t of params.tables) {
      const out: FetchBucketResult[] = [];
      for (const b of t.buckets) {
        const r = await this.readBucket(t, b, budget, params.allocate);
        if (r.error) errors++;
        // Skipping filtered batches is progress too: answer now instead of long-polling.
        if (r.filteredEndOffset !== null) progressed++;
        bytes += r.records.byteLength;
        budget = Math.max(0, budget - r.records.byteLength);
        out.push(r);
      }
      results.push({ tableId: t.tableId, buckets: out });
    }
    // An error, or progress past filtered batches, is worth answering without waiting.
    return { results, bytes, answerNow: errors > 0 || progressed > 0 };
  }

  private async readBucket(
    t: FetchTable,
    b: FetchBucket,
    budget: number,
    allocate: ReadAllocator | undefined,
  ): Promise<FetchBucketResult> {
    const base = { partitionId: b.partitionId, bucket: b.bucket };
    let replica: Replica | null = null;
    try {
      replica = this.replicas.replica({ tableId: t.tableId, partitionId: b.partitionId, bucket: b.bucket });
      const wanted = Math.max(1, Math.min(b.maxBytes, budget));
      // An exhausted budget still reads (at least one batch) only when nothing was read yet.
      if (budget <= 0) return { ...base, ...emptyRead(replica), filteredEndOffset: null };
      const plan = t.projection ? this.plan(replica, t.projection) : null;
      const filter = this.filterOf(t, replica);
      // Fluss's FETCH_FROM_EARLIEST_OFFSET (-2): read from the log start, whatever it is now.
      const offset =
        b.fetchOffset === FETCH_FROM_EARLIEST_OFFSET ? replica.log.logStartOffset : b.fetchOffset;
      const read =
        plan || filter
          ? await this.readVisited(replica, offset, wanted, plan, filter, allocate)
          : { ...(await replica.readCommitted(offset, wanted, allocate)), filteredEndOffset: null };
      return {
        ...base,
        error: null,
        highWatermark: read.highWatermark,
        logStartOffset: replica.log.logStartOffset,
        records: read.records,
        filteredEndOffset: read.filteredEndOffset,
      };
    } catch (err) {
      return {
        ...base,
        error: replica === null ? toFlussError(err) : this.readFailure(replica, b, err),
        highWatermark: -1n,
        logStartOffset: -1n,
        records: EMPTY,
        filteredEndOffset: null,
      };
    }
  }

  /**
   * A failed read of `replica`. A corrupt stored batch is final for the reader (not retriable: the
   * same bytes come back every time): logged at error and answered with table and bucket named.
   */
  private readFailure(replica: Replica, b: FetchBucket, err: unknown): FlussError {
    const e = toFlussError(err);
    if (!e.is(Errors.CORRUPT_RECORD_EXCEPTION)) return e;
    const name = bucketName(replica.table, b.bucket, this.replicas.partitionNameOf(replica.id));
    this.logger.error({ err: e, fetchOffset: b.fetchOffset }, `corrupt record batch in ${name}`);
    return new FlussError(Errors.CORRUPT_RECORD_EXCEPTION, `${name}: ${e.message}`, {
      cause: e,
      retriable: false,
    });
  }

  /** The request's filter against the table's schema; none when it cannot be used (kept batches only). */
  private filterOf(t: FetchTable, replica: Replica): Predicate | null {
    if (!t.filter || t.filter.schemaId !== replica.table.schemaId) return null;
    let p = this.filters.get(t);
    if (p === undefined) {
      try {
        p = predicateFromPb(t.filter.predicate, replica.table.descriptor.schema);
      } catch (err) {
        throw new FlussError(Errors.INVALID_ARGUMENT, `invalid filter: ${(err as Error).message}`);
      }
      this.filters.set(t, p);
    }
    return p;
  }

  /**
   * Read committed batches through a visitor: batches the filter's statistics rule out are
   * skipped unread, and a projection reads only its columns' buffers (plus each batch's header
   * and Arrow metadata). `wanted` counts bytes sent.
   */
  private async readVisited(
    replica: Replica,
    fetchOffset: bigint,
    wanted: number,
    plan: ProjectionPlan | null,
    filter: Predicate | null,
    allocate: ReadAllocator | undefined,
  ): Promise<{ records: Uint8Array; highWatermark: bigint; filteredEndOffset: bigint | null }> {
    const select = filter ? batchSelector(replica.table.descriptor.schema, filter) : null;
    const visit: BatchVisitor = (b) => {
      if (select && !select(b.prefix, b.header)) return "skip";
      if (!plan) return "whole";
      return (
        projectBatchFrom(b.header, b.prefix, b.read, plan) ?? [
          projectLogBatches(b.read(0, b.header.sizeBytes), plan),
        ]
      );
    };
    const r = await replica.readCommittedVisited(
      fetchOffset,
      wanted,
      visit,
      {
        examineBytesMax: filter ? FILTER_SCAN_BYTES_MAX : this.fetchBytesMax * VISIT_EXAMINE_FACTOR,
        prefixBytes: plan ? PROJECTION_PREFIX_BYTES : 0,
      },
      allocate,
    );
    const records = joinParts(r.parts, r.bytes, allocate);
    const filteredEndOffset = filter && r.examinedEnd > fetchOffset ? r.examinedEnd : null;
    return { records, highWatermark: r.highWatermark, filteredEndOffset };
  }

  private plan(replica: Replica, projection: readonly number[]): ProjectionPlan {
    const key = `${replica.table.tableId}/${replica.table.schemaId}/${projection.join(",")}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const columns = replica.table.descriptor.schema.columns.length;
      for (const i of projection) {
        if (!Number.isInteger(i) || i < 0 || i >= columns) {
          throw new FlussError(
            Errors.INVALID_COLUMN_PROJECTION,
            `projected field ${i} is not in [0, ${columns})`,
          );
        }
      }
      if (this.plans.size >= PROJECTION_PLANS_MAX) this.plans.clear();
      plan = createProjectionPlan(replica.table.descriptor.schema, [...projection]);
      this.plans.set(key, plan);
    }
    return plan;
  }
}

function emptyRead(replica: Replica): {
  error: null;
  highWatermark: bigint;
  logStartOffset: bigint;
  records: Uint8Array;
} {
  return {
    error: null,
    highWatermark: replica.highWatermark,
    logStartOffset: replica.log.logStartOffset,
    records: EMPTY,
  };
}

/** One buffer holding a visited read's parts (from the request's allocator when given). */
function joinParts(
  parts: readonly Uint8Array[],
  bytes: number,
  allocate: ReadAllocator | undefined,
): Uint8Array {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0]!;
  const out = allocate ? allocate(bytes) : new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
