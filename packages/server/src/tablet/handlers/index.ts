// The tablet server's RPC handlers, one file per API (each opens with its wire shape), registered
// on its RpcServer. Handlers are thin: decode, call one domain object, encode per-bucket results.

import { ApiKeys, type RpcServer } from "@fluss-ts/rpc";
import type { FetchEngine } from "../delayed-fetch.ts";
import type { KvScanners } from "../kv-scanners.ts";
import type { Offsets } from "../offsets.ts";
import type { ReadBufferPool } from "../read-buffers.ts";
import type { ReplicaManager } from "../replica-manager.ts";
import type { ReplicaWrites } from "../replica-writes.ts";
import { fetchLogHandler } from "./fetch-log.ts";
import { limitScanHandler } from "./limit-scan.ts";
import { listOffsetsHandler } from "./list-offsets.ts";
import { lookupHandler } from "./lookup.ts";
import { prefixLookupHandler } from "./prefix-lookup.ts";
import { produceLogHandler } from "./produce-log.ts";
import { putKvHandler } from "./put-kv.ts";
import { scanKvHandler } from "./scan-kv.ts";

/** The domain objects of a tablet server's data path. */
export interface TabletDataPath {
  readonly replicas: ReplicaManager;
  readonly writes: ReplicaWrites;
  readonly fetches: FetchEngine;
  readonly offsets: Offsets;
  readonly scanners: KvScanners;
  readonly readBuffers: ReadBufferPool;
}

/** Register the data-path APIs: produce, fetch, put-kv, lookups, scans, list-offsets. */
export function registerTabletHandlers(server: RpcServer, d: TabletDataPath): void {
  server.handle(ApiKeys.PRODUCE_LOG, produceLogHandler(d.writes));
  server.handle(ApiKeys.FETCH_LOG, fetchLogHandler(d.fetches, d.readBuffers));
  server.handle(ApiKeys.PUT_KV, putKvHandler(d.writes));
  server.handle(ApiKeys.LOOKUP, lookupHandler(d.replicas));
  server.handle(ApiKeys.PREFIX_LOOKUP, prefixLookupHandler(d.replicas));
  server.handle(ApiKeys.LIMIT_SCAN, limitScanHandler(d.replicas));
  server.handle(ApiKeys.SCAN_KV, scanKvHandler(d.replicas, d.scanners));
  server.handle(ApiKeys.LIST_OFFSETS, listOffsetsHandler(d.offsets));
}
