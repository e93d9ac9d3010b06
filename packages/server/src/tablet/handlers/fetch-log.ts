// FetchLog (API 1015, public): read committed log batches, long-polling until min bytes or max wait.
//   FetchLogRequest  { follower_server_id: int32 (-1 for a client); max_bytes: int32;
//                      tables_req: [PbFetchLogReqForTable { table_id: int64;
//                        projection_pushdown_enabled: bool; projected_fields: [int32];
//                        buckets_req: [PbFetchLogReqForBucket { partition_id?: int64; bucket_id: int32;
//                          fetch_offset: int64 (-2 = the log start); max_fetch_bytes: int32 }];
//                        filter_predicate?: PbPredicate; filter_schema_id?: int32 }];
//                      max_wait_ms?: int32 (default 500); min_bytes?: int32 (default 1);
//                      read_preference?: int32 }
//   FetchLogResponse { tables_resp: [PbFetchLogRespForTable { table_id: int64;
//                        buckets_resp: [PbFetchLogRespForBucket { partition_id?: int64;
//                          bucket_id: int32; error_code?: int32; error_message?: string;
//                          high_watermark?: int64; log_start_offset?: int64; records?: bytes;
//                          filtered_end_offset?: int64 }] }] }
// Follower fetches (follower_server_id >= 0) arrive with replication; until then they are refused.
// Log reads go into pooled buffers handed back once the response bytes are in the kernel.

import { Errors, FlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  FetchLogRequestSchema,
  isFieldSet,
  PbFetchLogReqForBucketSchema,
  PbFetchLogReqForTableSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { FetchEngine } from "../delayed-fetch.ts";
import type { FetchTable } from "../log-reader.ts";
import type { ReadBufferPool } from "../read-buffers.ts";
import { errorFields, partitionField } from "./wire.ts";

/** Fluss's default fetch wait when a client does not say (client.scanner.log.fetch.wait-max-time). */
export const FETCH_WAIT_MS_DEFAULT = 500;

export function fetchLogHandler(
  fetches: FetchEngine,
  readBuffers: ReadBufferPool,
): RequestHandler<typeof ApiKeys.FETCH_LOG> {
  return async (req, ctx) => {
    if (req.followerServerId >= 0) {
      throw new FlussError(
        Errors.NOT_LEADER_OR_FOLLOWER,
        "follower fetches are not supported by this server",
      );
    }
    const tables: FetchTable[] = req.tablesReq.map((t) => ({
      tableId: t.tableId,
      projection: t.projectionPushdownEnabled ? t.projectedFields : null,
      filter:
        t.filterPredicate && isFieldSet(t, PbFetchLogReqForTableSchema.field.filterSchemaId)
          ? { predicate: t.filterPredicate, schemaId: t.filterSchemaId }
          : null,
      buckets: t.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbFetchLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        fetchOffset: b.fetchOffset,
        maxBytes: b.maxFetchBytes,
      })),
    }));
    const arena = readBuffers.arena();
    ctx.onResponseSent(() => arena.release());
    const results = await fetches.fetch(
      {
        allocate: arena.allocate,
        tables,
        maxBytes: req.maxBytes,
        minBytes: isFieldSet(req, FetchLogRequestSchema.field.minBytes) ? req.minBytes : 1,
        maxWaitMs: isFieldSet(req, FetchLogRequestSchema.field.maxWaitMs)
          ? req.maxWaitMs
          : FETCH_WAIT_MS_DEFAULT,
      },
      ctx.signal,
    );
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
