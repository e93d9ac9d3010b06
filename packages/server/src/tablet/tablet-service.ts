// RPC handlers of a tablet server: produce, fetch, list offsets. Thin: decode the request into
// ReplicaManager calls, encode per-bucket results with their own error codes.

import { Errors, FlussError, toFlussError } from "@fluss-ts/common";
import {
  ApiKeys,
  FetchLogRequestSchema,
  isFieldSet,
  ListOffsetsRequestSchema,
  PbFetchLogReqForBucketSchema,
  PbProduceLogReqForBucketSchema,
  type RpcServer,
} from "@fluss-ts/rpc";
import type { FetchTable, ReplicaManager } from "./replica-manager.ts";

/** Fluss's default fetch wait when a client does not say (client.scanner.log.fetch.wait-max-time). */
const FETCH_WAIT_MS_DEFAULT = 500;

function errorFields(err: FlussError | null): { errorCode?: number; errorMessage?: string } {
  return err ? { errorCode: err.code, errorMessage: err.message } : {};
}

export function registerTabletService(server: RpcServer, replicas: ReplicaManager): void {
  server.handle(ApiKeys.PRODUCE_LOG, async (req) => {
    if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
      throw new FlussError(Errors.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${req.acks}`);
    }
    const results = await replicas.produce(
      req.tableId,
      req.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbProduceLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        records: b.records,
      })),
    );
    return {
      bucketsResp: results.map((r) => ({
        ...(r.partitionId !== null ? { partitionId: r.partitionId } : {}),
        bucketId: r.bucket,
        ...errorFields(r.error),
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
      buckets: t.bucketsReq.map((b) => ({
        partitionId: isFieldSet(b, PbFetchLogReqForBucketSchema.field.partitionId) ? b.partitionId : null,
        bucket: b.bucketId,
        fetchOffset: b.fetchOffset,
        maxBytes: b.maxFetchBytes,
      })),
    }));
    const results = await replicas.fetch(
      {
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
          ...errorFields(b.error),
          ...(b.error
            ? {}
            : { highWatermark: b.highWatermark, logStartOffset: b.logStartOffset, records: b.records }),
        })),
      })),
    };
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
          return { bucketId: bucket, ...errorFields(toFlussError(err)) };
        }
      }),
    );
    return { bucketsResp };
  });
}
