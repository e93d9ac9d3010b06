// PutKv (API 1016, v0-2), to a bucket leader: one KV batch per bucket; target columns for a
// partial update (empty: every column).
//   PutKvRequest  { acks: int32; table_id: int64; timeout_ms: int32; target_columns: [int32];
//                   buckets_req: [PbPutKvReqForBucket { partition_id?: int64; bucket_id: int32;
//                     records: bytes }]; agg_mode?: int32 }
//   PutKvResponse { buckets_resp: [PbPutKvRespForBucket { partition_id?: int64; bucket_id: int32;
//                     error_code?: int32; error_message?: string; log_end_offset?: int64 }] }

import { ApiKeys, isFieldSet, PbPutKvRespForBucketSchema } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { BucketAck } from "../write/write-context.ts";
import type { BucketBatch } from "./produce-log.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

/** The acks carry the log end offset after each bucket's write as `baseOffset`. */
export async function putKv(
  rpc: RpcCaller,
  at: Address,
  q: {
    acks: number;
    tableId: bigint;
    timeoutMs: number;
    targetColumns: readonly number[];
    batches: readonly BucketBatch[];
  },
): Promise<BucketAck[]> {
  const resp = await rpc.request(at, ApiKeys.PUT_KV, {
    acks: q.acks,
    tableId: q.tableId,
    timeoutMs: q.timeoutMs,
    targetColumns: [...q.targetColumns],
    bucketsReq: q.batches.map((b) => ({
      ...partitionField(b.partitionId),
      bucketId: b.bucket,
      records: b.records,
    })),
  });
  return resp.bucketsResp.map((r) => ({
    partitionId: isFieldSet(r, PbPutKvRespForBucketSchema.field.partitionId) ? r.partitionId : null,
    bucketId: r.bucketId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    baseOffset: r.logEndOffset,
  }));
}
