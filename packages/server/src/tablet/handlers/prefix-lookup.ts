// PrefixLookup (API 1034, public, v0-1): every row whose encoded key starts with an encoded bucket
// key (a proper prefix of the primary key), in buckets this server leads (v1: the encoded bucket
// key is a byte prefix of the encoded primary key).
//   PrefixLookupRequest  { table_id: int64; buckets_req: [PbPrefixLookupReqForBucket {
//                            partition_id?: int64; bucket_id: int32; keys: [bytes] }] }
//   PrefixLookupResponse { buckets_resp: [PbPrefixLookupRespForBucket { partition_id?: int64;
//                            bucket_id: int32; error_code?: int32; error_message?: string;
//                            value_lists: [PbValueList { values: [bytes] }] (one per key) }] }

import { ApiKeys, isFieldSet, PbPrefixLookupReqForBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields, partitionField } from "./wire.ts";

export function prefixLookupHandler(replicas: ReplicaManager): RequestHandler<typeof ApiKeys.PREFIX_LOOKUP> {
  return async (req) => ({
    bucketsResp: await Promise.all(
      req.bucketsReq.map(async (b) => {
        const partitionId = isFieldSet(b, PbPrefixLookupReqForBucketSchema.field.partitionId)
          ? b.partitionId
          : null;
        const base = { ...partitionField(partitionId), bucketId: b.bucketId };
        try {
          const lists = await replicas
            .kv({ tableId: req.tableId, partitionId, bucket: b.bucketId })
            .prefixLookup(b.keys);
          return { ...base, valueLists: lists.map((values) => ({ values })) };
        } catch (err) {
          return { ...base, ...errorFields(err, ApiKeys.PREFIX_LOOKUP) };
        }
      }),
    ),
  });
}
