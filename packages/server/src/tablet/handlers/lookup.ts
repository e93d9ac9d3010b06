// Lookup (API 1017, public, v0-1): point lookups by encoded primary key in buckets this server leads
// (v1: compacted key encoding when the bucket key differs from the primary key). Lookups see only
// committed data (the KV store holds what the high watermark passed).
//   LookupRequest  { table_id: int64; buckets_req: [PbLookupReqForBucket { partition_id?: int64;
//                      bucket_id: int32; keys: [bytes] }]; insert_if_not_exists?: bool;
//                    acks?: int32; timeout_ms?: int32 }
//   LookupResponse { buckets_resp: [PbLookupRespForBucket { partition_id?: int64; bucket_id: int32;
//                      error_code?: int32; error_message?: string;
//                      values: [PbValue { values?: bytes (absent: no row) }] }] }

import { ApiKeys, isFieldSet, PbLookupReqForBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields, partitionField } from "./wire.ts";

export function lookupHandler(replicas: ReplicaManager): RequestHandler<typeof ApiKeys.LOOKUP> {
  return async (req) => ({
    bucketsResp: req.bucketsReq.map((b) => {
      const partitionId = isFieldSet(b, PbLookupReqForBucketSchema.field.partitionId) ? b.partitionId : null;
      const base = { ...partitionField(partitionId), bucketId: b.bucketId };
      try {
        const values = replicas.kv({ tableId: req.tableId, partitionId, bucket: b.bucketId }).lookup(b.keys);
        return { ...base, values: values.map((v) => (v === null ? {} : { values: v })) };
      } catch (err) {
        return { ...base, ...errorFields(err, ApiKeys.LOOKUP) };
      }
    }),
  });
}
