// ControlledShutdown (API 1043, private): a tablet server about to stop asks the coordinator to
// move leadership away; the answer lists the buckets it still leads (registration.ts).
//   ControlledShutdownRequest  { tablet_server_id: int32; tablet_server_epoch: int32 }
//   ControlledShutdownResponse { remaining_leader_buckets: [PbTableBucket { table_id: int64;
//                                  partition_id?: int64; bucket_id: int32 }] }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";
import { partitionField } from "../../tablet/handlers/wire.ts";
import type { Coordinator } from "../coordinator.ts";

export function controlledShutdownHandler(
  c: Coordinator,
): RequestHandler<typeof ApiKeys.CONTROLLED_SHUTDOWN> {
  return async (req) => {
    const remaining = await c.controlledShutdown(req.tabletServerId);
    return {
      remainingLeaderBuckets: remaining.map((r) => ({
        tableId: r.tableId,
        ...partitionField(r.partitionId),
        bucketId: r.bucket,
      })),
    };
  };
}
