// StopReplica (API 1019, private): the coordinator tells this server to stop replicas, deleting
// their data when `delete` is set (the table or partition was dropped). Each bucket is answered on
// its own; a stop older than the replica's leader epoch is fenced.
//   StopReplicaRequest  { coordinator_epoch: int32; stop_replicas_req: [PbStopReplicaReqForBucket {
//                           table_bucket: PbTableBucket; leader_epoch: int32; delete: bool;
//                           deleteRemote?: bool }] }
//   StopReplicaResponse { stop_replicas_resp: [PbStopReplicaRespForBucket { table_bucket;
//                           error_code?: int32; error_message?: string }] }
// One request carries one kind of stop in practice; a mixed one is handled in two passes.

import { ApiKeys, isFieldSet, PbTableBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import type { CoordinatorFence } from "../coordinator-fence.ts";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields } from "./wire.ts";

export function stopReplicaHandler(
  fence: CoordinatorFence,
  replicas: ReplicaManager,
): RequestHandler<typeof ApiKeys.STOP_REPLICA> {
  return (req) =>
    fence.serially(async () => {
      fence.check(req.coordinatorEpoch, "StopReplica");
      const out = [];
      for (const del of [true, false]) {
        const list = req.stopReplicasReq.filter((s) => s.delete === del && s.tableBucket);
        if (list.length === 0) continue;
        const refs = list.map((s) => {
          const tb = s.tableBucket!;
          return {
            tableId: tb.tableId,
            partitionId: isFieldSet(tb, PbTableBucketSchema.field.partitionId) ? tb.partitionId : null,
            bucket: tb.bucketId,
            leaderEpoch: s.leaderEpoch,
          };
        });
        const results = await replicas.stopReplicas(refs, del);
        for (let i = 0; i < list.length; i++) {
          out.push({
            tableBucket: list[i]!.tableBucket!,
            ...errorFields(results[i]!.error, ApiKeys.STOP_REPLICA),
          });
        }
      }
      return { stopReplicasResp: out };
    });
}
