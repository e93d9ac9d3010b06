// FetchLog (API 1015, public): read committed log batches, long-polling until min bytes or max wait.
//   FetchLogRequest  { follower_server_id: int32 (-1 for a client); max_bytes: int32;
//                      tables_req: [PbFetchLogReqForTable { table_id: int64;
//                        projection_pushdown_enabled: bool; projected_fields: [int32];
//                        buckets_req: [PbFetchLogReqForBucket { partition_id?: int64; bucket_id: int32;
//                          fetch_offset: int64 (-2 = the log start); max_fetch_bytes: int32;
//                          current_leader_epoch?: int32 = 1001 (fluss-ts, followers) }];
//                        filter_predicate?: PbPredicate; filter_schema_id?: int32 }];
//                      max_wait_ms?: int32 (default 500); min_bytes?: int32 (default 1);
//                      read_preference?: int32 }
//   FetchLogResponse { tables_resp: [PbFetchLogRespForTable { table_id: int64;
//                        buckets_resp: [PbFetchLogRespForBucket { partition_id?: int64;
//                          bucket_id: int32; error_code?: int32; error_message?: string;
//                          high_watermark?: int64; log_start_offset?: int64; records?: bytes;
//                          filtered_end_offset?: int64;
//                          epoch_entries: [PbEpochEntry { epoch; start_offset }] = 1001 }] }] }
// A client fetch reads committed batches (FetchEngine); a follower fetch (follower_server_id >= 0,
// current_leader_epoch set) goes to FollowerFetches: batches up to the leader's log end with their
// epoch entries, and log_start_offset with a refusal too (LOG_OFFSET_OUT_OF_RANGE needs it).
// Log reads go into pooled buffers handed back once the response bytes are in the kernel.

import { Errors, FlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  type FetchLogRequest,
  FetchLogRequestSchema,
  isFieldSet,
  PbFetchLogReqForBucketSchema,
  PbFetchLogReqForTableSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { FetchEngine } from "../delayed-fetch.ts";
import type { FollowerFetches } from "../follower-fetches.ts";
import type { FetchTable } from "../log-reader.ts";
import type { ReadBufferPool } from "../read-buffers.ts";
import { errorFields, partitionField } from "./wire.ts";

/** Fluss's default fetch wait when a client does not say (client.scanner.log.fetch.wait-max-time). */
export const FETCH_WAIT_MS_DEFAULT = 500;

export function fetchLogHandler(
  fetches: FetchEngine,
  followerFetches: FollowerFetches,
  readBuffers: ReadBufferPool,
): RequestHandler<typeof ApiKeys.FETCH_LOG> {
  return async (req, ctx) => {
    if (req.followerServerId >= 0) return followerFetch(followerFetches, readBuffers, req, ctx);
    const tables: FetchTable[] = req.tablesReq.map((t) => ({
      tableId: t.tableId,
      projection: t.projectionPushdownEnabled ? t.projectedFields : null,
      filter:
        t.filterPredicate && isFieldSet(t, PbFetchLogReqForTableSchema.field.filterSchemaId)
          ? { predicate: t.filterPredicate, schemaId: t.filterSchemaId }
          : null,
      buckets: t.bucketsReq.map(bucketOf),
    }));
    const arena = readBuffers.arena();
    ctx.onResponseSent(() => arena.release());
    const results = await fetches.fetch({ allocate: arena.allocate, tables, ...waitOf(req) }, ctx.signal);
    return {
      tablesResp: results.map((t) => ({
        tableId: t.tableId,
        bucketsResp: t.buckets.map((b) => ({
          ...partitionField(b.partitionId),
          bucketId: b.bucket,
          ...errorFields(b.error, ApiKeys.FETCH_LOG),
          ...(b.error
            ? {}
            : { highWatermark: b.highWatermark, logStartOffset: b.logStartOffset, records: b.records }),
          ...(b.filteredEndOffset !== null ? { filteredEndOffset: b.filteredEndOffset } : {}),
        })),
      })),
    };
  };
}

type FetchLogContext = Parameters<RequestHandler<typeof ApiKeys.FETCH_LOG>>[1];
type FetchLogBucketRequest = FetchLogRequest["tablesReq"][number]["bucketsReq"][number];

/** One bucket of a fetch, as client and follower fetches both read it. */
function bucketOf(b: FetchLogBucketRequest) {
  return {
    partitionId: isFieldSet(b, PbFetchLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
    bucket: b.bucketId,
    fetchOffset: b.fetchOffset,
    maxBytes: b.maxFetchBytes,
  };
}

/** The long-poll bounds of a fetch, with Fluss's defaults for fields the request leaves out. */
function waitOf(req: FetchLogRequest) {
  return {
    maxBytes: req.maxBytes,
    minBytes: isFieldSet(req, FetchLogRequestSchema.field.minBytes) ? req.minBytes : 1,
    maxWaitMs: isFieldSet(req, FetchLogRequestSchema.field.maxWaitMs) ? req.maxWaitMs : FETCH_WAIT_MS_DEFAULT,
  };
}

/** A follower's fetch: every bucket must name the leader epoch it follows. */
async function followerFetch(
  followerFetches: FollowerFetches,
  readBuffers: ReadBufferPool,
  req: FetchLogRequest,
  ctx: FetchLogContext,
) {
  const tables = req.tablesReq.map((t) => ({
    tableId: t.tableId,
    buckets: t.bucketsReq.map((b) => {
      if (!isFieldSet(b, PbFetchLogReqForBucketSchema.field.currentLeaderEpoch)) {
        throw new FlussError(Errors.CORRUPT_MESSAGE, "a follower fetch names the leader epoch it follows");
      }
      return { ...bucketOf(b), leaderEpoch: b.currentLeaderEpoch };
    }),
  }));
  const arena = readBuffers.arena();
  ctx.onResponseSent(() => arena.release());
  const results = await followerFetches.fetch(
    { followerId: req.followerServerId, tables, allocate: arena.allocate, ...waitOf(req) },
    ctx.signal,
  );
  return {
    tablesResp: results.map((t) => ({
      tableId: t.tableId,
      bucketsResp: t.buckets.map((b) => ({
        ...partitionField(b.partitionId),
        bucketId: b.bucket,
        ...errorFields(b.error, ApiKeys.FETCH_LOG),
        ...(b.logStartOffset >= 0n ? { logStartOffset: b.logStartOffset } : {}),
        ...(b.error
          ? {}
          : {
              highWatermark: b.highWatermark,
              records: b.records,
              epochEntries: b.epochs.map((e) => ({ epoch: e.epoch, startOffset: e.startOffset })),
            }),
      })),
    })),
  };
}
