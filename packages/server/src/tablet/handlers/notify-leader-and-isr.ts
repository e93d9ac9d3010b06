// NotifyLeaderAndIsr (API 1018, private): the coordinator tells this server to host replicas with
// the given leadership (creating a replica's log; leading: claiming the epoch, and for a
// primary-key table opening its KV store; following: fetching from the leader; replica-roles.ts).
// Each bucket is answered on its own: an older leader epoch is fenced, an epoch this replica
// claimed before is FENCED_LEADER_EPOCH (the coordinator elects again), a bucket this server is not
// a replica of is UNKNOWN_TABLE_OR_BUCKET, a replica that cannot be opened answers its storage
// error (the coordinator then rolls a new table back). The table a replica belongs to
// comes from the metadata cache, which the coordinator's UpdateMetadata filled before.
//   NotifyLeaderAndIsrRequest  { coordinator_epoch: int32; notify_buckets_leader_req:
//                                  [PbNotifyLeaderAndIsrReqForBucket { physical_table_path:
//                                    PbPhysicalTablePath; table_bucket: PbTableBucket { table_id;
//                                    partition_id?; bucket_id }; leader: int32; leader_epoch: int32;
//                                    replicas: [int32]; isr: [int32]; bucket_epoch: int32;
//                                    standby_replicas: [int32] }] }
//   NotifyLeaderAndIsrResponse { notify_buckets_leader_resp: [PbNotifyLeaderAndIsrRespForBucket {
//                                  table_bucket; error_code?: int32; error_message?: string }] }

import { Errors, FlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  isFieldSet,
  PbPhysicalTablePathSchema,
  type PbTableBucket,
  PbTableBucketSchema,
  type RequestHandler,
} from "@fluss-ts/rpc";
import type { ReplicaAssignment } from "../../coordinator/types.ts";
import type { CoordinatorFence } from "../coordinator-fence.ts";
import type { TabletMetadataCache } from "../metadata-cache.ts";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields } from "./wire.ts";

export function notifyLeaderAndIsrHandler(
  fence: CoordinatorFence,
  cache: TabletMetadataCache,
  replicas: ReplicaManager,
): RequestHandler<typeof ApiKeys.NOTIFY_LEADER_AND_ISR> {
  return (req) =>
    fence.serially(async () => {
      fence.check(req.coordinatorEpoch, "NotifyLeaderAndIsr");
      const answers: Array<{ tableBucket: PbTableBucket; error: FlussError | null }> = [];
      const assignments: ReplicaAssignment[] = [];
      const slots: number[] = [];
      for (const b of req.notifyBucketsLeaderReq) {
        const tb = b.tableBucket;
        if (!tb)
          throw new FlussError(
            Errors.CORRUPT_MESSAGE,
            "a NotifyLeaderAndIsr bucket without its table_bucket",
          );
        const table = cache.tableInfo(tb.tableId);
        if (!table) {
          const error = new FlussError(
            Errors.UNKNOWN_TABLE_OR_BUCKET_EXCEPTION,
            `table ${tb.tableId} is unknown to this server`,
          );
          answers.push({ tableBucket: tb, error });
          continue;
        }
        const partitioned = isFieldSet(tb, PbTableBucketSchema.field.partitionId);
        const path = b.physicalTablePath;
        slots.push(answers.length);
        answers.push({ tableBucket: tb, error: null });
        assignments.push({
          table,
          partitionId: partitioned ? tb.partitionId : null,
          partitionName:
            partitioned && path && isFieldSet(path, PbPhysicalTablePathSchema.field.partitionName)
              ? path.partitionName
              : null,
          bucket: tb.bucketId,
          leader: b.leader,
          leaderEpoch: b.leaderEpoch,
          bucketEpoch: b.bucketEpoch,
          replicas: [...b.replicas],
          isr: [...b.isr],
        });
      }
      const results = await replicas.becomeLeaderOrFollower(assignments, req.coordinatorEpoch);
      results.forEach((r, i) => {
        answers[slots[i]!]!.error = r.error;
      });
      return {
        notifyBucketsLeaderResp: answers.map((a) => ({
          tableBucket: a.tableBucket,
          ...errorFields(a.error, ApiKeys.NOTIFY_LEADER_AND_ISR),
        })),
      };
    });
}
