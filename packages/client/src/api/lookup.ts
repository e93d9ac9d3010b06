// Lookup (API 1017, v0-1), to a bucket leader: the stored value of each encoded primary key.
//   LookupRequest  { table_id: int64; buckets_req: [PbLookupReqForBucket { partition_id?: int64;
//                      bucket_id: int32; keys: [bytes] }]; insert_if_not_exists?; acks?; timeout_ms? }
//   LookupResponse { buckets_resp: [PbLookupRespForBucket { partition_id?: int64; bucket_id: int32;
//                      error_code?: int32; error_message?: string;
//                      values: [PbValue { values?: bytes (absent: no row) }] }] }

import { ApiKeys, isFieldSet, PbLookupRespForBucketSchema, PbValueSchema } from "@fluss-ts/rpc";
import type { LookupBucketResult, LookupRequestSpec } from "../lookup/lookuper.ts";
import type { Address } from "../server-pool.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

export async function lookup(
  rpc: RpcCaller,
  at: Address,
  tableId: bigint,
  spec: LookupRequestSpec,
): Promise<LookupBucketResult[]> {
  const resp = await rpc.request(at, ApiKeys.LOOKUP, {
    tableId,
    bucketsReq: spec.buckets.map((b) => ({
      ...partitionField(b.partitionId),
      bucketId: b.bucket,
      keys: b.keys,
    })),
  });
  return resp.bucketsResp.map((r) => ({
    partitionId: isFieldSet(r, PbLookupRespForBucketSchema.field.partitionId) ? r.partitionId : null,
    bucket: r.bucketId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    values: r.values.map((v) => (isFieldSet(v, PbValueSchema.field.values) ? [v.values] : [])),
  }));
}
