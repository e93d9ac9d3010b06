// OffsetForLeaderEpoch (API 9002, private, fluss-ts only; Kafka's, KIP-101/279): a follower asks
// this leader where `leader_epoch` ends in its log (the largest epoch <= it the leader knows, and
// where that epoch ends), to truncate a divergent tail before fetching. Each bucket is answered on
// its own by the bucket's LeaderReplica (`answerEpochQuery`: the follower's epoch is fenced like a
// follower fetch); a bucket this server does not lead answers NOT_LEADER_OR_FOLLOWER.
//   OffsetForLeaderEpochRequest  { follower_server_id: int32; buckets_req:
//                                    [PbOffsetForLeaderEpochReqForBucket { table_id: int64;
//                                      partition_id?: int64; bucket_id: int32;
//                                      current_leader_epoch: int32; leader_epoch: int32 }] }
//   OffsetForLeaderEpochResponse { buckets_resp: [PbOffsetForLeaderEpochRespForBucket {
//                                    table_id; partition_id?; bucket_id; error_code?: int32;
//                                    error_message?: string; leader_epoch?: int32;
//                                    end_offset?: int64 }] }

import { Errors, FlussError, toFlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  isFieldSet,
  PbOffsetForLeaderEpochReqForBucketSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { EpochEndOffset } from "@fluss-ts/storage";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields, partitionField } from "./wire.ts";

export function offsetForLeaderEpochHandler(
  replicas: ReplicaManager,
): RequestHandler<typeof ApiKeys.OFFSET_FOR_LEADER_EPOCH> {
  return async (req) => ({
    bucketsResp: req.bucketsReq.map((b) => {
      const partitionId = isFieldSet(b, PbOffsetForLeaderEpochReqForBucketSchema.field.partitionId)
        ? b.partitionId
        : null;
      const base = { tableId: b.tableId, ...partitionField(partitionId), bucketId: b.bucketId };
      let answer: EpochEndOffset | FlussError;
      try {
        const leader = replicas.replica({ tableId: b.tableId, partitionId, bucket: b.bucketId }).leader;
        answer =
          leader === null
            ? new FlussError(
                Errors.NOT_LEADER_OR_FOLLOWER,
                `server ${replicas.serverId} does not lead bucket ${b.bucketId} of table ${b.tableId}`,
              )
            : leader.answerEpochQuery(b.currentLeaderEpoch, b.leaderEpoch);
      } catch (err) {
        answer = toFlussError(err);
      }
      if (answer instanceof FlussError)
        return { ...base, ...errorFields(answer, ApiKeys.OFFSET_FOR_LEADER_EPOCH) };
      return { ...base, leaderEpoch: answer.epoch, endOffset: answer.endOffset };
    }),
  });
}
