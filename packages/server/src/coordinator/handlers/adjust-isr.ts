// AdjustIsr (API 1020, private): a bucket leader asks the coordinator to record new in-sync
// replica sets (isr.ts has the checks); each bucket is answered with the recorded leadership or
// its error.
//   AdjustIsrRequest  { serverId: int32; tables_req: [PbAdjustIsrReqForTable { table_id: int64;
//                         buckets_req: [PbAdjustIsrReqForBucket { partition_id?: int64;
//                           bucket_id: int32; leader_epoch: int32; new_isr: [int32];
//                           coordinator_epoch: int32; bucket_epoch: int32;
//                           standby_replicas: [int32] }] }] }
//   AdjustIsrResponse { tables_resp: [PbAdjustIsrRespForTable { table_id: int64;
//                         buckets_resp: [PbAdjustIsrRespForBucket { partition_id?: int64;
//                           bucket_id: int32; error_code?: int32; error_message?: string;
//                           leader_id?: int32; leader_epoch?: int32; isr: [int32];
//                           bucket_epoch?: int32; coordinator_epoch?: int32 }] }] }

import { ApiKeys, isFieldSet, PbAdjustIsrReqForBucketSchema, type RequestHandler } from "@fluss-ts/rpc";
import { errorFields, partitionField } from "../../tablet/handlers/wire.ts";
import type { Coordinator } from "../coordinator.ts";
import type { AdjustIsrRequest, AdjustIsrResult } from "../isr.ts";

export function adjustIsrHandler(c: Coordinator): RequestHandler<typeof ApiKeys.ADJUST_ISR> {
  return async (req) => {
    const requests: AdjustIsrRequest[] = [];
    for (const t of req.tablesReq) {
      for (const b of t.bucketsReq) {
        requests.push({
          tableId: t.tableId,
          partitionId: isFieldSet(b, PbAdjustIsrReqForBucketSchema.field.partitionId) ? b.partitionId : null,
          bucket: b.bucketId,
          leader: req.serverId,
          leaderEpoch: b.leaderEpoch,
          bucketEpoch: b.bucketEpoch,
          coordinatorEpoch: b.coordinatorEpoch,
          newIsr: b.newIsr,
        });
      }
    }
    const results = await c.adjustIsr(requests);
    const byTable = new Map<bigint, ReturnType<typeof bucketPb>[]>();
    for (const r of results) {
      const list = byTable.get(r.key.tableId) ?? [];
      list.push(bucketPb(r));
      byTable.set(r.key.tableId, list);
    }
    return { tablesResp: [...byTable].map(([tableId, bucketsResp]) => ({ tableId, bucketsResp })) };
  };
}

function bucketPb(r: AdjustIsrResult) {
  const base = { ...partitionField(r.key.partitionId), bucketId: r.key.bucket };
  if (r.error) return { ...base, ...errorFields(r.error, ApiKeys.ADJUST_ISR) };
  const lai = r.leaderAndIsr;
  return {
    ...base,
    leaderId: lai.leader,
    leaderEpoch: lai.leaderEpoch,
    isr: [...lai.isr],
    bucketEpoch: lai.bucketEpoch,
    coordinatorEpoch: lai.coordinatorEpoch,
  };
}
