// FetchLog (API 1015), to a bucket leader: committed log batches of several buckets of one table,
// long-polling up to max_wait_ms until min_bytes are there; a projection and a filter (batches
// whose statistics rule it out are skipped by the server) may travel along.
//   FetchLogRequest  { follower_server_id: int32 (-1: a client); max_bytes: int32; tables_req:
//                        [PbFetchLogReqForTable { table_id; projection_pushdown_enabled: bool;
//                          projected_fields: [int32]; buckets_req: [PbFetchLogReqForBucket {
//                            partition_id?; bucket_id; fetch_offset: int64; max_fetch_bytes }];
//                          filter_predicate?: PbPredicate; filter_schema_id?: int32 }];
//                      max_wait_ms?: int32; min_bytes?: int32 }
//   FetchLogResponse { tables_resp: [PbFetchLogRespForTable { table_id; buckets_resp:
//                        [PbFetchLogRespForBucket { partition_id?; bucket_id; error_code?;
//                          error_message?; high_watermark?; log_start_offset?; records?: bytes;
//                          filtered_end_offset?: int64 }] }] }

import { predicateToPb, type TableInfo } from "@fluss-ts/common";
import {
  ApiKeys,
  create,
  FetchLogRequestSchema,
  isFieldSet,
  PbFetchLogRespForBucketSchema,
} from "@fluss-ts/rpc";
import type { FetchBucketResponse, FetchRequestSpec } from "../scan/scan-context.ts";
import type { Address } from "../server-pool.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

/** Time a fetch may take beyond its long-poll wait before the client gives up on it. */
const FETCH_TIMEOUT_MARGIN_MS = 30_000;

export async function fetchLog(
  rpc: RpcCaller,
  at: Address,
  table: TableInfo,
  spec: FetchRequestSpec,
  signal: AbortSignal,
): Promise<FetchBucketResponse[]> {
  const req = create(FetchLogRequestSchema, {
    followerServerId: -1,
    maxBytes: spec.maxBytes,
    maxWaitMs: spec.maxWaitMs,
    minBytes: spec.minBytes,
    tablesReq: [
      {
        tableId: table.tableId,
        projectionPushdownEnabled: spec.projection !== null,
        projectedFields: spec.projection ? [...spec.projection] : [],
        ...(spec.filter
          ? {
              filterPredicate: predicateToPb(spec.filter, table.descriptor.schema, {
                relaxUnsupported: true,
              }),
              filterSchemaId: table.schemaId,
            }
          : {}),
        bucketsReq: spec.buckets.map((b) => ({
          ...partitionField(b.partitionId),
          bucketId: b.bucket,
          fetchOffset: b.offset,
          maxFetchBytes: spec.bucketMaxBytes,
        })),
      },
    ],
  });
  const resp = await rpc.request(at, ApiKeys.FETCH_LOG, req, {
    signal,
    timeoutMs: spec.maxWaitMs + FETCH_TIMEOUT_MARGIN_MS,
  });
  const out: FetchBucketResponse[] = [];
  for (const t of resp.tablesResp) {
    for (const b of t.bucketsResp) {
      out.push({
        partitionId: isFieldSet(b, PbFetchLogRespForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        errorCode: b.errorCode,
        errorMessage: b.errorMessage,
        highWatermark: b.highWatermark,
        records: b.records,
        filteredEndOffset: isFieldSet(b, PbFetchLogRespForBucketSchema.field.filteredEndOffset)
          ? b.filteredEndOffset
          : null,
      });
    }
  }
  return out;
}
