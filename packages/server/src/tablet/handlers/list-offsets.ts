// ListOffsets (API 1021, public): earliest (0), latest (1: the high watermark) or by timestamp (2)
// offsets of buckets this server leads (offsets.ts).
//   ListOffsetsRequest  { follower_server_id: int32; offset_type: int32; table_id: int64;
//                         partition_id?: int64; bucket_id: [int32]; startTimestamp?: int64 }
//   ListOffsetsResponse { buckets_resp: [PbListOffsetsRespForBucket { bucket_id: int32;
//                           error_code?: int32; error_message?: string; offset?: int64 }] }

import { ApiKeys, isFieldSet, ListOffsetsRequestSchema, type RequestHandler } from "@fluss-ts/rpc";
import type { Offsets } from "../offsets.ts";
import { errorFields } from "./wire.ts";

export function listOffsetsHandler(offsets: Offsets): RequestHandler<typeof ApiKeys.LIST_OFFSETS> {
  return async (req) => {
    const partitionId = isFieldSet(req, ListOffsetsRequestSchema.field.partitionId) ? req.partitionId : null;
    const ts = isFieldSet(req, ListOffsetsRequestSchema.field.startTimestamp)
      ? Number(req.startTimestamp)
      : null;
    const bucketsResp = await Promise.all(
      req.bucketId.map(async (bucket) => {
        try {
          const offset = await offsets.listOffset(
            { tableId: req.tableId, partitionId, bucket },
            req.offsetType,
            ts,
          );
          return { bucketId: bucket, offset };
        } catch (err) {
          return { bucketId: bucket, ...errorFields(err, ApiKeys.LIST_OFFSETS) };
        }
      }),
    );
    return { bucketsResp };
  };
}
