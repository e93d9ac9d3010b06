// ProduceLog (API 1014), to a bucket leader: one encoded log batch per bucket.
//   ProduceLogRequest  { acks: int32; table_id: int64; timeout_ms: int32; buckets_req:
//                          [PbProduceLogReqForBucket { partition_id?: int64; bucket_id: int32;
//                            records: bytes }] }
//   ProduceLogResponse { buckets_resp: [PbProduceLogRespForBucket { partition_id?: int64;
//                          bucket_id: int32; error_code?: int32; error_message?: string;
//                          base_offset?: int64 }] }
// The records travel by reference (never written into again: see RpcConnection.request).

import { ApiKeys, isFieldSet, PbProduceLogRespForBucketSchema } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { BucketAck } from "../write/write-context.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

export interface BucketBatch {
  readonly partitionId: bigint | null;
  readonly bucket: number;
  readonly records: Uint8Array;
}

export async function produceLog(
  rpc: RpcCaller,
  at: Address,
  q: { acks: number; tableId: bigint; timeoutMs: number; batches: readonly BucketBatch[] },
): Promise<BucketAck[]> {
  const resp = await rpc.request(at, ApiKeys.PRODUCE_LOG, {
    acks: q.acks,
    tableId: q.tableId,
    timeoutMs: q.timeoutMs,
    bucketsReq: q.batches.map((b) => ({
      ...partitionField(b.partitionId),
      bucketId: b.bucket,
      records: b.records,
    })),
  });
  return resp.bucketsResp.map((r) => ({
    partitionId: isFieldSet(r, PbProduceLogRespForBucketSchema.field.partitionId) ? r.partitionId : null,
    bucketId: r.bucketId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    baseOffset: r.baseOffset,
  }));
}
