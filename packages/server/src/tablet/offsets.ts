// Offsets of the buckets a tablet server hosts (Fluss's ListOffsets and the offsets metrics read):
// earliest = log start, latest = high watermark (readers see only committed data), by timestamp =
// the first offset whose batch was committed at or after the time, never past the high watermark.
// Only the leader answers (NOT_LEADER_OR_FOLLOWER otherwise); a new leader answers latest and by
// timestamp only once its high watermark reached its epoch's start (LEADER_NOT_AVAILABLE before:
// a lower offset than a reader already saw would go backwards).

import { Errors, FlussError } from "@fluss-ts/common";
import type { BucketOffsets } from "../metrics/server-metrics.ts";
import type { ReplicaId } from "./replica.ts";
import type { ReplicaManager } from "./replica-manager.ts";

/** Fluss's ListOffsets offset_type values. */
export const OffsetType = { EARLIEST: 0, LATEST: 1, TIMESTAMP: 2 } as const;

export class Offsets {
  private readonly replicas: ReplicaManager;

  constructor(replicas: ReplicaManager) {
    this.replicas = replicas;
  }

  async listOffset(id: ReplicaId, type: number, timestampMs: number | null): Promise<bigint> {
    const r = this.replicas.replica(id);
    if (!r.isLeader) throw new FlussError(Errors.NOT_LEADER_OR_FOLLOWER, "not the leader");
    switch (type) {
      case OffsetType.EARLIEST:
        return r.log.logStartOffset;
      case OffsetType.LATEST:
        r.checkCaughtUp();
        return r.highWatermark;
      case OffsetType.TIMESTAMP: {
        r.checkCaughtUp();
        if (timestampMs === null)
          throw new FlussError(Errors.INVALID_TIMESTAMP_EXCEPTION, "timestamp missing");
        const offset = await r.log.offsetForTimestamp(timestampMs);
        return offset > r.highWatermark ? r.highWatermark : offset;
      }
      default:
        throw new FlussError(Errors.INVALID_ARGUMENT, `unknown offset type ${type}`);
    }
  }

  /** Offsets of every hosted replica, read now (metrics). */
  *bucketOffsets(): Iterable<BucketOffsets> {
    for (const r of this.replicas.all()) {
      yield {
        tableId: r.id.tableId,
        partitionId: r.id.partitionId,
        bucket: r.id.bucket,
        leader: r.isLeader,
        logStartOffset: r.log.logStartOffset,
        logEndOffset: r.log.logEndOffset,
        highWatermark: r.highWatermark,
        ...(r.leader === null
          ? {}
          : { replicas: r.leader.replicas.length, inSyncReplicas: r.leader.isr.length }),
      };
    }
  }
}
