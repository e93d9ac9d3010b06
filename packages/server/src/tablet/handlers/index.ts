// The tablet server's RPC handlers, one file per API (each opens with its wire shape), registered
// on its RpcServer: the data path for clients, the coordinator's control requests (private), and
// the metadata and admin reads clients may send any server. Handlers are thin: decode, call one
// domain object, encode per-bucket results.

import { ApiKeys, type RpcServer } from "@fluss-ts/rpc";
import type { CoordinatorFence } from "../coordinator-fence.ts";
import type { CoordinatorLink } from "../coordinator-link.ts";
import type { FetchEngine } from "../delayed-fetch.ts";
import type { FollowerFetches } from "../follower-fetches.ts";
import type { KvScanners } from "../kv-scanners.ts";
import type { TabletMetadataCache } from "../metadata-cache.ts";
import type { Offsets } from "../offsets.ts";
import type { ReadBufferPool } from "../read-buffers.ts";
import type { ReplicaManager } from "../replica-manager.ts";
import type { ReplicaWrites } from "../replica-writes.ts";
import { fetchLogHandler } from "./fetch-log.ts";
import { limitScanHandler } from "./limit-scan.ts";
import { listOffsetsHandler } from "./list-offsets.ts";
import { lookupHandler } from "./lookup.ts";
import { registerMetadataHandlers } from "./metadata.ts";
import { notifyLeaderAndIsrHandler } from "./notify-leader-and-isr.ts";
import { offsetForLeaderEpochHandler } from "./offset-for-leader-epoch.ts";
import { prefixLookupHandler } from "./prefix-lookup.ts";
import { produceLogHandler } from "./produce-log.ts";
import { putKvHandler } from "./put-kv.ts";
import { scanKvHandler } from "./scan-kv.ts";
import { stopReplicaHandler } from "./stop-replica.ts";
import { updateMetadataHandler } from "./update-metadata.ts";

/** The domain objects of a tablet server's data path. */
export interface TabletDataPath {
  readonly replicas: ReplicaManager;
  readonly writes: ReplicaWrites;
  readonly fetches: FetchEngine;
  readonly followerFetches: FollowerFetches;
  readonly offsets: Offsets;
  readonly scanners: KvScanners;
  readonly readBuffers: ReadBufferPool;
}

/** Register the data-path APIs: produce, fetch (clients' and followers'), put-kv, lookups, scans, list-offsets, epoch queries. */
export function registerTabletHandlers(server: RpcServer, d: TabletDataPath): void {
  server.handle(ApiKeys.PRODUCE_LOG, produceLogHandler(d.writes));
  server.handle(ApiKeys.FETCH_LOG, fetchLogHandler(d.fetches, d.followerFetches, d.readBuffers));
  server.handle(ApiKeys.OFFSET_FOR_LEADER_EPOCH, offsetForLeaderEpochHandler(d.replicas));
  server.handle(ApiKeys.PUT_KV, putKvHandler(d.writes));
  server.handle(ApiKeys.LOOKUP, lookupHandler(d.replicas));
  server.handle(ApiKeys.PREFIX_LOOKUP, prefixLookupHandler(d.replicas));
  server.handle(ApiKeys.LIMIT_SCAN, limitScanHandler(d.replicas));
  server.handle(ApiKeys.SCAN_KV, scanKvHandler(d.replicas, d.scanners));
  server.handle(ApiKeys.LIST_OFFSETS, listOffsetsHandler(d.offsets));
}

/** What the control and metadata handlers work with. */
export interface TabletControlPlane {
  readonly replicas: ReplicaManager;
  readonly fence: CoordinatorFence;
  readonly cache: TabletMetadataCache;
  readonly link: CoordinatorLink;
}

/** Register the coordinator's control requests and the metadata/admin reads. */
export function registerControlHandlers(server: RpcServer, c: TabletControlPlane): void {
  server.handle(ApiKeys.UPDATE_METADATA, updateMetadataHandler(c.fence, c.cache));
  server.handle(ApiKeys.NOTIFY_LEADER_AND_ISR, notifyLeaderAndIsrHandler(c.fence, c.cache, c.replicas));
  server.handle(ApiKeys.STOP_REPLICA, stopReplicaHandler(c.fence, c.replicas));
  registerMetadataHandlers(server, c.cache, c.link);
}
