// PutKv (API 1016, public, v0-2): upsert/delete KV record batches in primary-key buckets this
// server leads (v1: compacted key encoding; v2: the client understands STORAGE_BACKPRESSURE).
//   PutKvRequest  { acks: int32; table_id: int64; timeout_ms: int32; target_columns: [int32]
//                   (partial update; empty = all); buckets_req: [PbPutKvReqForBucket {
//                     partition_id?: int64; bucket_id: int32; records: bytes (KV batches) }];
//                   agg_mode?: int32 }
//   PutKvResponse { buckets_resp: [PbPutKvRespForBucket { partition_id?: int64; bucket_id: int32;
//                     error_code?: int32; error_message?: string; log_end_offset?: int64 }] }

import { ApiKeys, isFieldSet, PbPutKvReqForBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import { requiredAcks, WRITE_TIMEOUT_MS_DEFAULT } from "../replica.ts";
import type { ReplicaWrites } from "../replica-writes.ts";
import { errorFields, partitionField } from "./wire.ts";

export function putKvHandler(writes: ReplicaWrites): RequestHandler<typeof ApiKeys.PUT_KV> {
  return async (req) => {
    const acks = requiredAcks(req.acks);
    const results = await writes.putKv(
      req.tableId,
      req.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbPutKvReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        records: b.records,
      })),
      req.targetColumns.length > 0 ? req.targetColumns : null,
      acks,
      req.timeoutMs > 0 ? req.timeoutMs : WRITE_TIMEOUT_MS_DEFAULT,
    );
    return {
      bucketsResp: results.map((r) => ({
        ...partitionField(r.partitionId),
        bucketId: r.bucket,
        ...errorFields(r.error, ApiKeys.PUT_KV),
        ...(r.error ? {} : { logEndOffset: r.baseOffset }),
      })),
    };
  };
}
