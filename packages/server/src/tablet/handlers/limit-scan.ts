// LimitScan (API 1033, public): the first `limit` current rows of one primary-key bucket.
//   LimitScanRequest  { table_id: int64; partition_id?: int64; bucket_id: int32; limit: int32 (> 0) }
//   LimitScanResponse { error_code?: int32; error_message?: string; is_log_table?: bool;
//                       records?: bytes (a DefaultValueRecordBatch) }

import { buildValueRecordBatch, Errors, FlussError } from "@fluss-ts/common";
import { ApiKeys, isFieldSet, LimitScanRequestSchema, type RequestHandler } from "@fluss-ts/rpc";
import type { ReplicaManager } from "../replica-manager.ts";
import { errorFields } from "./wire.ts";

export function limitScanHandler(replicas: ReplicaManager): RequestHandler<typeof ApiKeys.LIMIT_SCAN> {
  return async (req) => {
    const partitionId = isFieldSet(req, LimitScanRequestSchema.field.partitionId) ? req.partitionId : null;
    if (req.limit <= 0)
      throw new FlussError(Errors.INVALID_SCAN_REQUEST, `limit must be positive, got ${req.limit}`);
    try {
      const values = await replicas
        .kv({ tableId: req.tableId, partitionId, bucket: req.bucketId })
        .limitScan(req.limit);
      return { isLogTable: false, records: buildValueRecordBatch(values) };
    } catch (err) {
      return errorFields(err, ApiKeys.LIMIT_SCAN);
    }
  };
}
