// ScanKv (API 1061), to a bucket leader: a page of a primary-key bucket's current rows from a
// server-side scanner (opened by the first call, continued by its id); an error fails the call.
//   ScanKvRequest  { scanner_id?: bytes; bucket_scan_req?: PbScanReqForBucket { table_id: int64;
//                      partition_id?: int64; bucket_id: int32; limit?: int64 }; call_seq_id?: int32;
//                    batch_size_bytes?: int32; close_scanner?: bool }
//   ScanKvResponse { error_code?; error_message?; scanner_id?: bytes; has_more_results?: bool;
//                    records?: bytes (DefaultValueRecordBatch); log_offset?: int64 }

import { errorFromCode } from "@fluss-ts/common";
import { ApiKeys, isFieldSet, ScanKvResponseSchema } from "@fluss-ts/rpc";
import type { Address } from "../server-pool.ts";
import type { RpcCaller } from "./rpc.ts";

export interface ScanKvCall {
  bucketScanReq?: { tableId: bigint; partitionId?: bigint; bucketId: number; limit?: bigint };
  scannerId?: Uint8Array;
  callSeqId?: number;
  closeScanner?: boolean;
}

export interface ScanKvPage {
  scannerId: Uint8Array;
  records: Uint8Array;
  hasMore: boolean;
  /** The log offset the scanner's view covers (first page only). */
  logOffset: bigint | null;
}

export async function scanKv(
  rpc: RpcCaller,
  at: Address,
  call: ScanKvCall,
  batchSizeBytes: number,
): Promise<ScanKvPage> {
  const resp = await rpc.request(at, ApiKeys.SCAN_KV, { ...call, batchSizeBytes });
  if (resp.errorCode !== 0) throw errorFromCode(resp.errorCode, resp.errorMessage);
  return {
    scannerId: resp.scannerId,
    records: resp.records,
    hasMore: resp.hasMoreResults,
    logOffset: isFieldSet(resp, ScanKvResponseSchema.field.logOffset) ? resp.logOffset : null,
  };
}
