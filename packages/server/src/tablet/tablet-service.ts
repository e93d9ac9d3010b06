// RPC handlers of a tablet server: produce, fetch, list offsets. Thin: decode the request into
// ReplicaManager calls, encode per-bucket results with their own error codes.

import { buildValueRecordBatch, Errors, FlussError } from "@fluss-ts/common";
import {
  type ApiDef,
  ApiKeys,
  FetchLogRequestSchema,
  isFieldSet,
  LimitScanRequestSchema,
  ListOffsetsRequestSchema,
  PbFetchLogReqForBucketSchema,
  PbFetchLogReqForTableSchema,
  PbLookupReqForBucketSchema,
  PbPrefixLookupReqForBucketSchema,
  PbProduceLogReqForBucketSchema,
  PbPutKvReqForBucketSchema,
  PbScanReqForBucketSchema,
  type RpcServer,
  ScanKvRequestSchema,
  servedFlussError,
} from "@fluss-ts/rpc";
import type { ScanBatchResult } from "./kv-scanners.ts";
import { requiredAcks } from "./replica.ts";
import type { FetchTable, ReplicaManager } from "./replica-manager.ts";

/** Fluss's default fetch wait when a client does not say (client.scanner.log.fetch.wait-max-time). */
const FETCH_WAIT_MS_DEFAULT = 500;

/** A per-bucket error as sent: a Fluss wire code (client-side kinds mapped; assertions rethrown). */
function errorFields(err: unknown, api: ApiDef): { errorCode?: number; errorMessage?: string } {
  if (err === null || err === undefined) return {};
  const e = servedFlussError(err, api);
  return { errorCode: e.code, errorMessage: e.message };
}

function scanResponse(r: ScanBatchResult, first: boolean) {
  return {
    scannerId: r.scannerId,
    hasMoreResults: r.hasMore,
    records: buildValueRecordBatch(r.values),
    ...(first ? { logOffset: r.logOffset } : {}),
  };
}

export function registerTabletService(server: RpcServer, replicas: ReplicaManager): void {
  server.handle(ApiKeys.PRODUCE_LOG, async (req) => {
    const acks = requiredAcks(req.acks);
    const results = await replicas.produce(
      req.tableId,
      req.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbProduceLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        records: b.records,
      })),
      acks,
    );
    return {
      bucketsResp: results.map((r) => ({
        ...(r.partitionId !== null ? { partitionId: r.partitionId } : {}),
        bucketId: r.bucket,
        ...errorFields(r.error, ApiKeys.PRODUCE_LOG),
        ...(r.error ? {} : { baseOffset: r.baseOffset }),
      })),
    };
  });

  server.handle(ApiKeys.FETCH_LOG, async (req, ctx) => {
    if (req.followerServerId >= 0) {
      throw new FlussError(
        Errors.NOT_LEADER_OR_FOLLOWER,
        "follower fetches are not supported by this server",
      );
    }
    const tables: FetchTable[] = req.tablesReq.map((t) => ({
      tableId: t.tableId,
      projection: t.projectionPushdownEnabled ? t.projectedFields : null,
      filter:
        t.filterPredicate && isFieldSet(t, PbFetchLogReqForTableSchema.field.filterSchemaId)
          ? { predicate: t.filterPredicate, schemaId: t.filterSchemaId }
          : null,
      buckets: t.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbFetchLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        fetchOffset: b.fetchOffset,
        maxBytes: b.maxFetchBytes,
      })),
    }));
    // Log reads go into pooled buffers, handed back once the response bytes are in the kernel.
    const arena = replicas.readBuffers.arena();
    ctx.onResponseSent(() => arena.release());
    const results = await replicas.fetch(
      {
        allocate: arena.allocate,
        tables,
        maxBytes: req.maxBytes,
        minBytes: isFieldSet(req, FetchLogRequestSchema.field.minBytes) ? req.minBytes : 1,
        maxWaitMs: isFieldSet(req, FetchLogRequestSchema.field.maxWaitMs)
          ? req.maxWaitMs
          : FETCH_WAIT_MS_DEFAULT,
      },
      ctx.signal,
    );
    return {
      tablesResp: results.map((t) => ({
        tableId: t.tableId,
        bucketsResp: t.buckets.map((b) => ({
          ...(b.partitionId !== null ? { partitionId: b.partitionId } : {}),
          bucketId: b.bucket,
          ...errorFields(b.error, ApiKeys.FETCH_LOG),
          ...(b.error
            ? {}
            : { highWatermark: b.highWatermark, logStartOffset: b.logStartOffset, records: b.records }),
          ...(b.filteredEndOffset !== null ? { filteredEndOffset: b.filteredEndOffset } : {}),
        })),
      })),
    };
  });

  server.handle(ApiKeys.PUT_KV, async (req) => {
    const acks = requiredAcks(req.acks);
    const results = await replicas.putKv(
      req.tableId,
      req.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbPutKvReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        records: b.records,
      })),
      req.targetColumns.length > 0 ? req.targetColumns : null,
      acks,
    );
    return {
      bucketsResp: results.map((r) => ({
        ...(r.partitionId !== null ? { partitionId: r.partitionId } : {}),
        bucketId: r.bucket,
        ...errorFields(r.error, ApiKeys.PUT_KV),
        ...(r.error ? {} : { logEndOffset: r.baseOffset }),
      })),
    };
  });

  server.handle(ApiKeys.LOOKUP, async (req) => ({
    bucketsResp: req.bucketsReq.map((b) => {
      const partitionId = isFieldSet(b, PbLookupReqForBucketSchema.field.partitionId) ? b.partitionId : null;
      const base = { ...(partitionId !== null ? { partitionId } : {}), bucketId: b.bucketId };
      try {
        const values = replicas.kv({ tableId: req.tableId, partitionId, bucket: b.bucketId }).lookup(b.keys);
        return { ...base, values: values.map((v) => (v === null ? {} : { values: v })) };
      } catch (err) {
        return { ...base, ...errorFields(err, ApiKeys.LOOKUP) };
      }
    }),
  }));

  server.handle(ApiKeys.PREFIX_LOOKUP, async (req) => ({
    bucketsResp: await Promise.all(
      req.bucketsReq.map(async (b) => {
        const partitionId = isFieldSet(b, PbPrefixLookupReqForBucketSchema.field.partitionId)
          ? b.partitionId
          : null;
        const base = { ...(partitionId !== null ? { partitionId } : {}), bucketId: b.bucketId };
        try {
          const lists = await replicas
            .kv({ tableId: req.tableId, partitionId, bucket: b.bucketId })
            .prefixLookup(b.keys);
          return { ...base, valueLists: lists.map((values) => ({ values })) };
        } catch (err) {
          return { ...base, ...errorFields(err, ApiKeys.PREFIX_LOOKUP) };
        }
      }),
    ),
  }));

  server.handle(ApiKeys.LIMIT_SCAN, async (req) => {
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
  });

  server.handle(ApiKeys.SCAN_KV, async (req) => {
    const batchBytes = isFieldSet(req, ScanKvRequestSchema.field.batchSizeBytes) ? req.batchSizeBytes : 0;
    try {
      if (isFieldSet(req, ScanKvRequestSchema.field.scannerId)) {
        if (req.closeScanner) {
          replicas.scanners.close(req.scannerId);
          return { scannerId: req.scannerId, hasMoreResults: false };
        }
        const callSeq = isFieldSet(req, ScanKvRequestSchema.field.callSeqId) ? req.callSeqId : null;
        return scanResponse(replicas.scanners.next(req.scannerId, callSeq, batchBytes), false);
      }
      const b = req.bucketScanReq;
      if (!b)
        throw new FlussError(Errors.INVALID_SCAN_REQUEST, "a scan needs a scanner id or a bucket to open");
      const partitionId = isFieldSet(b, PbScanReqForBucketSchema.field.partitionId) ? b.partitionId : null;
      const limit = isFieldSet(b, PbScanReqForBucketSchema.field.limit) ? b.limit : null;
      const kv = replicas.kv({ tableId: b.tableId, partitionId, bucket: b.bucketId });
      return scanResponse(replicas.scanners.open(kv, limit, batchBytes), true);
    } catch (err) {
      return errorFields(err, ApiKeys.SCAN_KV);
    }
  });

  server.handle(ApiKeys.LIST_OFFSETS, async (req) => {
    const partitionId = isFieldSet(req, ListOffsetsRequestSchema.field.partitionId) ? req.partitionId : null;
    const ts = isFieldSet(req, ListOffsetsRequestSchema.field.startTimestamp)
      ? Number(req.startTimestamp)
      : null;
    const bucketsResp = await Promise.all(
      req.bucketId.map(async (bucket) => {
        try {
          const offset = await replicas.listOffset(
            { tableId: req.tableId, partitionId, bucket },
            req.offsetType,
            ts,
          );
          return { bucketId: bucket, offset };
        } catch (err) {
          return { bucketId: bucket, ...errorFields(err, ApiKeys.LIST_OFFSETS) };
        }
      }),
    );
    return { bucketsResp };
  });
}
