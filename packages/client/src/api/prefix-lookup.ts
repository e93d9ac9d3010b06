// PrefixLookup (API 1034, v0-1), to a bucket leader: every stored value whose key starts with each
// encoded bucket key.
//   PrefixLookupRequest  { table_id: int64; buckets_req: [PbPrefixLookupReqForBucket {
//                            partition_id?: int64; bucket_id: int32; keys: [bytes] }] }
//   PrefixLookupResponse { buckets_resp: [PbPrefixLookupRespForBucket { partition_id?: int64;
//                            bucket_id: int32; error_code?; error_message?;
//                            value_lists: [PbValueList { values: [bytes] }] }] }

import { ApiKeys, isFieldSet, PbPrefixLookupRespForBucketSchema } from "@fluss-ts/rpc";
import type { LookupBucketResult, LookupRequestSpec } from "../lookup/lookuper.ts";
import type { Address } from "../server-pool.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

export async function prefixLookup(
  rpc: RpcCaller,
  at: Address,
  tableId: bigint,
  spec: LookupRequestSpec,
): Promise<LookupBucketResult[]> {
  const resp = await rpc.request(at, ApiKeys.PREFIX_LOOKUP, {
    tableId,
    bucketsReq: spec.buckets.map((b) => ({
      ...partitionField(b.partitionId),
      bucketId: b.bucket,
      keys: b.keys,
    })),
  });
  return resp.bucketsResp.map((r) => ({
    partitionId: isFieldSet(r, PbPrefixLookupRespForBucketSchema.field.partitionId) ? r.partitionId : null,
    bucket: r.bucketId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    values: r.valueLists.map((l) => l.values),
  }));
}
