// UpdateMetadata (API 1013, private): the coordinator pushes the live servers and changed tables
// and partitions (with routes) into this server's metadata cache (metadata-cache.ts).
//   UpdateMetadataRequest  { coordinator_server?: PbServerNode; tablet_servers: [PbServerNode];
//                            table_metadata: [PbTableMetadata] (table_id -2: deleted);
//                            partition_metadata: [PbPartitionMetadata] (partition_id -2: deleted);
//                            coordinator_epoch?: int32 }
//   UpdateMetadataResponse {}

import { type ApiKeys, isFieldSet, type RequestHandler, UpdateMetadataRequestSchema } from "@fluss-ts/rpc";
import type { CoordinatorFence } from "../coordinator-fence.ts";
import type { TabletMetadataCache } from "../metadata-cache.ts";

export function updateMetadataHandler(
  fence: CoordinatorFence,
  cache: TabletMetadataCache,
): RequestHandler<typeof ApiKeys.UPDATE_METADATA> {
  return (req) =>
    fence.serially(async () => {
      if (isFieldSet(req, UpdateMetadataRequestSchema.field.coordinatorEpoch))
        fence.check(req.coordinatorEpoch, "UpdateMetadata");
      cache.apply(req);
      return {};
    });
}
