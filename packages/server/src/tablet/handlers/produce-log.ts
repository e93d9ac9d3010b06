// ProduceLog (API 1014, public): append Fluss log batches to the buckets this server leads.
//   ProduceLogRequest  { acks: int32 (-1 all in-sync replicas, 0, 1); table_id: int64;
//                        timeout_ms: int32; buckets_req: [PbProduceLogReqForBucket {
//                          partition_id?: int64; bucket_id: int32; records: bytes (log batches) }] }
//   ProduceLogResponse { buckets_resp: [PbProduceLogRespForBucket { partition_id?: int64;
//                          bucket_id: int32; error_code?: int32; error_message?: string;
//                          base_offset?: int64 (the first offset written) }] }
// Each bucket is answered on its own (a bad acks value fails the whole request).

import { ApiKeys, isFieldSet, PbProduceLogReqForBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import { requiredAcks, WRITE_TIMEOUT_MS_DEFAULT } from "../replica.ts";
import type { ReplicaWrites } from "../replica-writes.ts";
import { errorFields, partitionField } from "./wire.ts";

export function produceLogHandler(writes: ReplicaWrites): RequestHandler<typeof ApiKeys.PRODUCE_LOG> {
  return async (req) => {
    const acks = requiredAcks(req.acks);
    const results = await writes.produce(
      req.tableId,
      req.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbProduceLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        records: b.records,
      })),
      acks,
      req.timeoutMs > 0 ? req.timeoutMs : WRITE_TIMEOUT_MS_DEFAULT,
    );
    return {
      bucketsResp: results.map((r) => ({
        ...partitionField(r.partitionId),
        bucketId: r.bucket,
        ...errorFields(r.error, ApiKeys.PRODUCE_LOG),
        ...(r.error ? {} : { baseOffset: r.baseOffset }),
      })),
    };
  };
}
