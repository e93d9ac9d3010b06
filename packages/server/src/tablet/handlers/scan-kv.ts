// ScanKv (API 1061, public): a full scan of a primary-key bucket's current values in batches, over
// a consistent store view held by an expiring server-side scanner (kv-scanners.ts).
//   ScanKvRequest  { scanner_id?: bytes (a later call); bucket_scan_req?: PbScanReqForBucket {
//                      table_id: int64; partition_id?: int64; bucket_id: int32; limit?: int64 }
//                      (the first call); call_seq_id?: int32; batch_size_bytes?: int32;
//                    close_scanner?: bool }
//   ScanKvResponse { error_code?: int32; error_message?: string; scanner_id?: bytes;
//                    has_more_results?: bool; records?: bytes (DefaultValueRecordBatch);
//                    log_offset?: int64 (first answer: the offset the view covers) }

import { buildValueRecordBatch, Errors, FlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  isFieldSet,
  PbScanReqForBucketSchema,
  type RequestHandler,
  ScanKvRequestSchema,
} from "@fluss-ts/rpc";
import type { KvScanners, ScanBatchResult } from "../kv-scanners.ts";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields } from "./wire.ts";

function scanResponse(r: ScanBatchResult, first: boolean) {
  return {
    scannerId: r.scannerId,
    hasMoreResults: r.hasMore,
    records: buildValueRecordBatch(r.values),
    ...(first ? { logOffset: r.logOffset } : {}),
  };
}

export function scanKvHandler(
  replicas: ReplicaManager,
  scanners: KvScanners,
): RequestHandler<typeof ApiKeys.SCAN_KV> {
  return async (req) => {
    const batchBytes = isFieldSet(req, ScanKvRequestSchema.field.batchSizeBytes) ? req.batchSizeBytes : 0;
    try {
      if (isFieldSet(req, ScanKvRequestSchema.field.scannerId)) {
        if (req.closeScanner) {
          scanners.close(req.scannerId);
          return { scannerId: req.scannerId, hasMoreResults: false };
        }
        const callSeq = isFieldSet(req, ScanKvRequestSchema.field.callSeqId) ? req.callSeqId : null;
        return scanResponse(scanners.next(req.scannerId, callSeq, batchBytes), false);
      }
      const b = req.bucketScanReq;
      if (!b)
        throw new FlussError(Errors.INVALID_SCAN_REQUEST, "a scan needs a scanner id or a bucket to open");
      const partitionId = isFieldSet(b, PbScanReqForBucketSchema.field.partitionId) ? b.partitionId : null;
      const limit = isFieldSet(b, PbScanReqForBucketSchema.field.limit) ? b.limit : null;
      const kv = replicas.kv({ tableId: b.tableId, partitionId, bucket: b.bucketId });
      return scanResponse(scanners.open(kv, limit, batchBytes), true);
    } catch (err) {
      return errorFields(err, ApiKeys.SCAN_KV);
    }
  };
}
