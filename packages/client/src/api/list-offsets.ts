// ListOffsets (API 1021), to a bucket leader: earliest (0), latest (1, the high watermark) or by
// timestamp (2) offsets of some of its buckets; a bucket's error fails the call.
//   ListOffsetsRequest  { follower_server_id: int32 (-1: a client); offset_type: int32; table_id: int64;
//                         partition_id?: int64; bucket_id: [int32]; startTimestamp?: int64 }
//   ListOffsetsResponse { buckets_resp: [PbListOffsetsRespForBucket { bucket_id: int32;
//                           error_code?: int32; error_message?: string; offset?: int64 }] }

import { errorFromCode } from "@fluss-ts/common";
import { ApiKeys } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import { partitionField, type RpcCaller } from "./rpc.ts";

export const OFFSET_TYPE = { earliest: 0, latest: 1, timestamp: 2 } as const;

export async function listOffsets(
  rpc: RpcCaller,
  at: Address,
  q: {
    type: number;
    tableId: bigint;
    partitionId: bigint | null;
    buckets: readonly number[];
    timestampMs?: number;
  },
): Promise<Map<number, bigint>> {
  const resp = await rpc.request(at, ApiKeys.LIST_OFFSETS, {
    followerServerId: -1,
    offsetType: q.type,
    tableId: q.tableId,
    ...partitionField(q.partitionId),
    bucketId: [...q.buckets],
    ...(q.timestampMs !== undefined ? { startTimestamp: BigInt(q.timestampMs) } : {}),
  });
  const out = new Map<number, bigint>();
  for (const r of resp.bucketsResp) {
    if (r.errorCode !== 0) throw errorFromCode(r.errorCode, r.errorMessage);
    out.set(r.bucketId, r.offset);
  }
  return out;
}
